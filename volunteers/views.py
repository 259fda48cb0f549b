"""Pages: the public order page 点单 (no login) with tracking and rating 评单, and the phone-first
pages of volunteers, team leaders and station staff. Every step calls its service; the pages only
translate the answer into messages."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from org import imports
from org.audit import Actor
from org.errors import ActionRefused

from . import access, certificates, figures, limits, services, xlsx
from .filtersets import ActivityFilter, OrderFilter, VolunteerFilter
from .forms import (
    ActivityForm,
    AdjustForm,
    AssignForm,
    CompleteForm,
    HoursForm,
    ImportForm,
    OrderForm,
    PickupForm,
    PositionForm,
    RatingForm,
    ReasonForm,
    RedeemForm,
    StaffForm,
    TrackForm,
)
from .models import Attendance, Goods, Order, Redemption, Service, ServiceKind, Volunteer, clean_code

TRACKED = "volunteer_orders_tracked"


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _run(request, step) -> bool:
    """Run one service step and turn its answer into a message; True when it went through."""
    try:
        step(Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except (ActionRefused, PermissionDenied) as exc:
        messages.error(request, str(exc) or "无权执行此操作")
    else:
        return True
    return False


def _back(request, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return HttpResponseRedirect(target)


# --- Public pages ------------------------------------------------------------------------------


def _menu():
    return (
        Service.objects.filter(is_active=True)
        .select_related("station")
        .order_by("kind", "station__code", "name")
    )


def public_order(request):
    """点单: choose a kind of service, then a service from the menu, describe the need, leave a phone
    number → tracking code. The menu is long (every point publishes its own), so the kind comes first."""
    kind = request.POST.get("kind") or request.GET.get("kind", "")
    if kind not in ServiceKind.values:
        kinds = _menu().values("kind").annotate(n=Count("pk")).order_by("kind")
        labels = dict(ServiceKind.choices)
        return render(
            request,
            "volunteers/public_kinds.html",
            {"kinds": [(k["kind"], labels[k["kind"]], k["n"]) for k in kinds]},
        )
    form = OrderForm(
        request.POST or None,
        services=_menu().filter(kind=kind),
        initial={"service": request.GET.get("service")},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            limits.check(request, "order", phone=data["phone"])
            order = services.place_order(
                Actor.from_request(request, via="public"),
                data["service"],
                description=data["description"],
                address=data["address"],
                phone=data["phone"],
                name=data["name"],
                people=data["people"],
                wanted_on=data["wanted_on"],
                lat=data["lat"],
                lng=data["lng"],
            )
        except limits.Throttled as exc:
            form.add_error(None, str(exc))
            status = 429
        except ValidationError as exc:
            _form_errors(form, exc)
        except ActionRefused as exc:
            form.add_error("service", str(exc))
        else:
            request.session["volunteer_order_placed"] = order.code
            _remember(request, order.code)
            return redirect("volunteers:public_ordered")
    context = {"form": form, "kind": kind, "kind_label": ServiceKind(kind).label}
    return render(request, "volunteers/public_order.html", context, status=status)


def public_ordered(request):
    code = request.session.get("volunteer_order_placed")
    if not code:
        return redirect("volunteers:public_order")
    return render(request, "volunteers/public_ordered.html", {"code": code})


def _remember(request, code: str) -> None:
    tracked = [c for c in request.session.get(TRACKED, []) if c != code]
    request.session[TRACKED] = [code, *tracked][:10]


def track(request):
    """查询: tracking code + phone, both checked together; every attempt counts against the limits."""
    form = TrackForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            limits.check(request, "track", phone=form.cleaned_data["phone"])
        except limits.Throttled as exc:
            form.add_error(None, str(exc))
            status = 429
        else:
            order = services.order_by_code(form.cleaned_data["code"], form.cleaned_data["phone"])
            if order is not None:
                _remember(request, order.code)
                return redirect("volunteers:tracked", code=order.code)
            form.add_error(None, "查询码或联系电话不正确")
    return render(request, "volunteers/track.html", {"form": form}, status=status)


def _tracked(request, code: str) -> Order | None:
    code = clean_code(code)
    if code not in request.session.get(TRACKED, []):
        return None
    return Order.objects.select_related("service", "station", "team").filter(code=code).first()


STEPS = ("点单", "派单", "接单", "服务", "评单")
STEP_OF = {"ordered": 0, "assigned": 1, "accepted": 2, "serving": 3, "served": 3, "rated": 4}


def tracked(request, code: str):
    order = _tracked(request, code)
    if order is None:
        return redirect("volunteers:track")
    step = STEP_OF[order.status]
    return render(
        request,
        "volunteers/tracked.html",
        {
            "order": order,
            "steps": [(label, i <= step) for i, label in enumerate(STEPS)],
            "rating_form": RatingForm() if order.status == Order.Status.SERVED else None,
        },
    )


@require_POST
def rate(request, code: str):
    order = _tracked(request, code)
    if order is None:
        return redirect("volunteers:track")
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择 1 到 5 星")
    else:
        try:
            limits.check(request, "track", phone=order.phone)
        except limits.Throttled as exc:
            messages.error(request, str(exc))
        else:
            if _run(
                request,
                lambda actor: services.rate_order(
                    Actor(user=None, ip=actor.ip, via="public"),
                    order,
                    form.cleaned_data["rating"],
                    form.cleaned_data["comment"],
                    code=order.code,
                    phone=order.phone,
                ),
            ):
                messages.success(request, "感谢您的评价！")
    return redirect("volunteers:tracked", code=order.code)


# --- My volunteer service (volunteers, leaders, staff) ------------------------------------------


@login_required
def home(request):
    """我的志愿服务: what the signed-in person has to do next, by what they are."""
    user = request.user
    volunteer = access.volunteer_of(user)
    led = access.led_team_ids(user)
    context: dict = {"volunteer": volunteer, "is_staff": access.is_staff(user), "leads": bool(led)}
    if volunteer is not None:
        mine = (
            volunteer.attendances.filter(confirmed_at__isnull=True)
            .select_related("volunteer", "order__service", "activity")
            .order_by("-created_at")[:20]
        )
        context["my_records"] = [(r, services.attendance_actions(user, r)) for r in mine]
    if led:
        context["team_orders"] = Order.objects.filter(
            team_id__in=led, status__in=(Order.Status.ASSIGNED, Order.Status.ACCEPTED, Order.Status.SERVING)
        ).select_related("service")
        waiting = (
            Attendance.objects.filter(Q(order__team_id__in=led) | Q(activity__team_id__in=led))
            .filter(signed_out_at__isnull=False, confirmed_at__isnull=True)
            .exclude(order__status__in=(Order.Status.ACCEPTED, Order.Status.SERVING))
            .select_related("volunteer", "order__service", "activity")
        )
        context["to_confirm"] = [(r, services.attendance_actions(user, r)) for r in waiting[:50]]
    if context["is_staff"]:
        queue = access.orders_for(user).filter(status=Order.Status.ORDERED)
        context["to_assign"] = queue.count()
        context["overdue"] = (
            access.orders_for(user).filter(status__in=Order.TIMED, due_at__lt=timezone.now()).count()
        )
        context["pickups"] = Redemption.objects.filter(status=Redemption.Status.WAITING).count()
    return render(request, "volunteers/home.html", context)


@login_required
def order_list(request):
    qs = access.orders_for(request.user)
    filterset = OrderFilter(request.GET or None, queryset=qs)
    page = Paginator(filterset.qs, 30).get_page(request.GET.get("page"))
    return render(request, "volunteers/order_list.html", {"filter": filterset, "page": page})


def _order(request, pk: int) -> Order:
    return get_object_or_404(access.orders_for(request.user), pk=pk)


def _order_context(request, order: Order, **extra) -> dict:
    actions = services.allowed_actions(request.user, order)
    attendances = list(order.attendances.select_related("volunteer"))
    return {
        "order": order,
        "actions": actions,
        "suggested": services.suggest_teams(order) if "assign" in actions else [],
        "assign_form": AssignForm(),
        "staff_form": StaffForm(team=order.team) if "staff" in actions else None,
        "attendances": [(a, services.attendance_actions(request.user, a)) for a in attendances],
        "complete_form": CompleteForm() if "complete" in actions else None,
        "photos": list(order.photos.all()),
        "events": order.events.select_related("actor"),
        "now": timezone.now(),
        **extra,
    }


@login_required
def order_detail(request, pk: int):
    order = _order(request, pk)
    return render(request, "volunteers/order_detail.html", _order_context(request, order))


@login_required
@require_POST
def order_contact(request, pk: int):
    """The citizen's phone and name for the station or the serving team; the read is logged."""
    order = _order(request, pk)
    try:
        shown = services.read_order_contact(Actor.from_request(request), order)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("volunteers:order_detail", pk=pk)
    return render(request, "volunteers/order_detail.html", _order_context(request, order, contact=shown))


def _order_step(request, pk: int, form_class, step):
    order = _order(request, pk)
    form = form_class(request.POST, request.FILES) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    elif _run(request, lambda actor: step(actor, order, form)):
        messages.success(request, "已保存")
    return redirect("volunteers:order_detail", pk=order.pk)


@login_required
@require_POST
def assign(request, pk: int):
    return _order_step(
        request,
        pk,
        AssignForm,
        lambda a, o, f: services.assign_order(a, o, f.cleaned_data["team"], f.cleaned_data["reason"]),
    )


@login_required
@require_POST
def accept(request, pk: int):
    return _order_step(request, pk, None, lambda a, o, f: services.accept_order(a, o))


@login_required
@require_POST
def decline(request, pk: int):
    return _order_step(
        request, pk, ReasonForm, lambda a, o, f: services.decline_order(a, o, f.cleaned_data["reason"])
    )


@login_required
@require_POST
def staff(request, pk: int):
    order = _order(request, pk)
    form = StaffForm(request.POST, team=order.team)
    if not form.is_valid():
        messages.error(request, "请选择本队在册队员")
    elif _run(request, lambda actor: services.staff_order(actor, order, form.cleaned_data["volunteers"])):
        messages.success(request, "已派出队员")
    return redirect("volunteers:order_detail", pk=order.pk)


@login_required
@require_POST
def complete(request, pk: int):
    return _order_step(
        request,
        pk,
        CompleteForm,
        lambda a, o, f: services.complete_order(a, o, f.cleaned_data["note"], f.cleaned_data["photos"]),
    )


@login_required
def order_new(request):
    """工作人员录入: station staff enter an order taken by phone or at the counter."""
    if not access.is_staff(request.user):
        raise PermissionDenied("只有阵地管理员可以录入点单")
    stations = access.managed_station_ids(request.user)
    menu = _menu() if stations is None else _menu().filter(station_id__in=stations)
    form = OrderForm(request.POST or None, services=menu)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.place_order(
                Actor.from_request(request),
                data["service"],
                description=data["description"],
                address=data["address"],
                phone=data["phone"],
                name=data["name"],
                people=data["people"],
                wanted_on=data["wanted_on"],
                lat=data["lat"],
                lng=data["lng"],
                channel=Order.Channel.STAFF,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        except (ActionRefused, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已登记，查询码 {order.code}（请告知群众）")
            return redirect("volunteers:order_detail", pk=order.pk)
    return render(request, "volunteers/order_new.html", {"form": form})


# --- Sign-in, sign-out and hours ----------------------------------------------------------------


def _attendance(request, pk: int) -> Attendance:
    """A record the person may act on: their own, or one of their teams' (leaders)."""
    led = access.led_team_ids(request.user)
    qs = Attendance.objects.select_related("volunteer", "order__service", "activity").filter(
        Q(volunteer__user=request.user) | Q(order__team_id__in=led) | Q(activity__team_id__in=led)
    )
    return get_object_or_404(qs, pk=pk)


@login_required
@require_POST
def sign_in(request, pk: int):
    attendance = _attendance(request, pk)
    form = PositionForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    if _run(request, lambda actor: services.sign_in(actor, attendance, data.get("lat"), data.get("lng"))):
        attendance.refresh_from_db()
        messages.success(request, "已签到" + ("（距离服务地点较远，已标记）" if attendance.far else ""))
    return _back(request, reverse("volunteers:home"))


@login_required
@require_POST
def sign_out(request, pk: int):
    attendance = _attendance(request, pk)
    form = PositionForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    if _run(request, lambda actor: services.sign_out(actor, attendance, data.get("lat"), data.get("lng"))):
        messages.success(request, "已签退")
    return _back(request, reverse("volunteers:home"))


@login_required
@require_POST
def confirm(request, pk: int):
    attendance = _attendance(request, pk)
    form = HoursForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写正确的时长")
    elif _run(request, lambda actor: services.confirm_hours(actor, attendance, form.cleaned_data["hours"])):
        messages.success(request, "已确认服务时长，积分已发放")
    return _back(request, reverse("volunteers:home"))


# --- Activities ----------------------------------------------------------------------------------


@login_required
def activity_list(request):
    qs = access.activities_for(request.user).annotate(enrolled=Count("attendances")).order_by("-starts_at")
    filterset = ActivityFilter(request.GET or {"upcoming": "true"}, queryset=qs)
    page = Paginator(filterset.qs, 30).get_page(request.GET.get("page"))
    can_publish = _publishing_teams(request.user).exists()
    return render(
        request,
        "volunteers/activity_list.html",
        {"filter": filterset, "page": page, "can_publish": can_publish},
    )


def _publishing_teams(user):
    return access.teams_for(user).filter(is_active=True)


@login_required
def activity_new(request):
    teams = _publishing_teams(request.user)
    if not teams.exists():
        raise PermissionDenied("只有服务队队长或阵地管理员可以发布活动")
    form = ActivityForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.publish_activity(
                Actor.from_request(request),
                data["team"],
                title=data["title"],
                kind=data["kind"],
                place=data["place"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                capacity=data["capacity"],
                skills=data["skills"],
                description=data["description"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        except (ActionRefused, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "活动已发布")
            return redirect("volunteers:activity_detail", pk=activity.pk)
    return render(request, "volunteers/activity_new.html", {"form": form})


@login_required
def activity_detail(request, pk: int):
    activity = get_object_or_404(access.activities_for(request.user), pk=pk)
    volunteer = access.volunteer_of(request.user)
    mine = activity.attendances.filter(volunteer=volunteer).first() if volunteer else None
    leads = access.leads(request.user, activity.team_id)
    records = list(activity.attendances.select_related("volunteer")) if leads else []
    return render(
        request,
        "volunteers/activity_detail.html",
        {
            "activity": activity,
            "enrolled": activity.attendances.count(),
            "mine": mine,
            "mine_actions": services.attendance_actions(request.user, mine) if mine else [],
            "can_enrol": "enrol" in services.activity_actions(request.user, activity),
            "records": [(a, services.attendance_actions(request.user, a)) for a in records],
        },
    )


@login_required
@require_POST
def enrol(request, pk: int):
    activity = get_object_or_404(access.activities_for(request.user), pk=pk)
    if _run(request, lambda actor: services.enrol(actor, activity)):
        messages.success(request, "报名成功")
    return redirect("volunteers:activity_detail", pk=activity.pk)


# --- Points and the shop ------------------------------------------------------------------------


@login_required
def points(request):
    """我的积分: balance, ledger, the shop and my redemptions."""
    volunteer = access.volunteer_of(request.user)
    if volunteer is None:
        return render(request, "volunteers/points.html", {"volunteer": None})
    hours = volunteer.attendances.filter(confirmed_at__isnull=False).aggregate(h=Sum("hours"))["h"] or 0
    return render(
        request,
        "volunteers/points.html",
        {
            "volunteer": volunteer,
            "hours": hours,
            "entries": volunteer.points_entries.all()[:50],
            "goods": Goods.objects.filter(is_active=True),
            "redemptions": volunteer.redemptions.select_related("goods")[:20],
        },
    )


@login_required
@require_POST
def redeem(request):
    form = RedeemForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择商品和数量")
    else:
        data = form.cleaned_data
        if _run(request, lambda actor: services.redeem(actor, data["goods"], data["quantity"])):
            messages.success(request, "兑换成功，请凭兑换码到阵地领取")
    return redirect("volunteers:points")


@login_required
@require_POST
def cancel_redemption(request, pk: int):
    redemption = get_object_or_404(Redemption, pk=pk)
    if redemption.volunteer.user_id != request.user.pk and not access.is_staff(request.user):
        raise Http404
    if _run(
        request, lambda actor: services.cancel_redemption(actor, redemption, request.POST.get("reason", ""))
    ):
        messages.success(request, "已取消，积分已退回")
    return _back(request, reverse("volunteers:points"))


@login_required
def pickups(request):
    """积分超市领取: staff look up a redemption by its code and hand the goods over."""
    if not access.is_staff(request.user):
        raise PermissionDenied("只有阵地管理员可以办理领取")
    form = PickupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        redemption = Redemption.objects.filter(code=form.cleaned_data["code"]).first()
        if redemption is None:
            form.add_error("code", "没有这个兑换码")
        elif _run(request, lambda actor: services.confirm_pickup(actor, redemption)):
            messages.success(request, f"已领取：{redemption.goods} × {redemption.quantity}")
            return redirect("volunteers:pickups")
    waiting = Redemption.objects.filter(status=Redemption.Status.WAITING).select_related("goods", "volunteer")
    return render(request, "volunteers/pickups.html", {"form": form, "waiting": waiting[:100]})


# --- Volunteers (staff) -------------------------------------------------------------------------


@login_required
def volunteer_list(request):
    if not (access.is_staff(request.user) or access.led_team_ids(request.user)):
        raise PermissionDenied("只有阵地管理员和服务队队长可以查看志愿者名册")
    filterset = VolunteerFilter(request.GET or None, queryset=access.volunteers_for(request.user))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "volunteers/volunteer_list.html", {"filter": filterset, "page": page})


def _volunteer(request, pk: int) -> Volunteer:
    if not (access.is_staff(request.user) or access.led_team_ids(request.user)):
        raise PermissionDenied("只有阵地管理员和服务队队长可以查看志愿者")
    return get_object_or_404(access.volunteers_for(request.user), pk=pk)


def _volunteer_context(request, volunteer: Volunteer, **extra) -> dict:
    return {
        "v": volunteer,
        "teams": volunteer.memberships.select_related("team"),
        "hours": volunteer.attendances.filter(confirmed_at__isnull=False).aggregate(h=Sum("hours"))["h"] or 0,
        "entries": volunteer.points_entries.all()[:20],
        "may_read": services.may_read_real_name(request.user, volunteer),
        "may_adjust": access.is_hq(request.user),
        "adjust_form": AdjustForm(),
        **extra,
    }


@login_required
def volunteer_detail(request, pk: int):
    volunteer = _volunteer(request, pk)
    return render(request, "volunteers/volunteer_detail.html", _volunteer_context(request, volunteer))


@login_required
@require_POST
def real_name(request, pk: int):
    """Reveal one volunteer's name, ID number and phone; the read is logged."""
    volunteer = _volunteer(request, pk)
    shown = services.read_real_name(Actor.from_request(request), volunteer)
    return render(
        request, "volunteers/volunteer_detail.html", _volunteer_context(request, volunteer, real_name=shown)
    )


@login_required
@require_POST
def adjust(request, pk: int):
    volunteer = _volunteer(request, pk)
    form = AdjustForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写积分和原因")
    else:
        data = form.cleaned_data
        if _run(
            request, lambda actor: services.adjust_points(actor, volunteer, data["points"], data["reason"])
        ):
            messages.success(request, "积分已调整")
    return redirect("volunteers:volunteer_detail", pk=volunteer.pk)


@login_required
def import_volunteers(request):
    """导入志愿者名册 (HQ): the file is checked and imported in the background (``org.imports``),
    any error imports nothing; the job's page shows the progress and the outcome."""
    if not access.is_hq(request.user):
        raise PermissionDenied("只有创文办管理员可以导入志愿者名册")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = imports.start(Actor.from_request(request), "volunteers", form.cleaned_data["file"])
        return redirect("org:import_job", pk=job.pk)
    jobs = request.user.import_jobs.filter(kind="volunteers")[:5]
    return render(request, "volunteers/import.html", {"form": form, "jobs": jobs, "columns": xlsx.COLUMNS})


@login_required
def figures_page(request):
    """统计与排行: the district totals and the month's or year's ranking by confirmed hours."""
    if not (access.is_staff(request.user) or access.led_team_ids(request.user)):
        raise PermissionDenied("只有阵地管理员和服务队队长可以查看统计")
    by = request.GET.get("by", "team")
    by = by if by in figures.BY else "team"
    kind = "year" if request.GET.get("period") == "year" else "month"
    try:
        on = dt.date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        on = timezone.localdate()
    first, after = figures.period(kind, on)
    aware = [timezone.make_aware(dt.datetime.combine(d, dt.time.min)) for d in (first, after)]
    return render(
        request,
        "volunteers/figures.html",
        {
            "totals": figures.district_totals(),
            "rows": figures.ranking(by, aware[0], aware[1]),
            "by": by,
            "by_choices": figures.BY.items(),
            "kind": kind,
            "on": on,
            "first": first,
            "last": after - dt.timedelta(days=1),
        },
    )


@login_required
def certificate(request, pk: int | None = None, fmt: str = "html"):
    """志愿服务证明: one's own (or, for staff, a volunteer of their stations'), printable or PDF."""
    volunteer = _volunteer(request, pk) if pk is not None else access.volunteer_of(request.user)
    if volunteer is None:
        raise PermissionDenied("只有注册志愿者可以开具服务证明")
    issued = certificates.issue(volunteer)
    verify_url = request.build_absolute_uri(reverse("volunteers:verify")) + "?code=" + issued.code
    if fmt == "pdf":
        response = HttpResponse(certificates.render_pdf(issued, verify_url), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="certificate-{issued.number}.pdf"'
        return response
    return render(request, "volunteers/certificate.html", {"c": issued, "verify_url": verify_url})


def verify_certificate(request):
    """核验服务证明 (no login): the content a code was issued for, or that it is not valid."""
    code = request.GET.get("code", "")
    return render(
        request, "volunteers/verify.html", {"code": code, "c": certificates.verify(code) if code else None}
    )
