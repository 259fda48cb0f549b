"""Pages of streets 街巷长与网格: the chief's or collector's day on a phone (today's duty, the
patrol with its track, check-ins, 六必报 and 六必到), and the staff's roster, coverage, patrol list
and the community list of social reports.

Every record is fetched through its visible queryset (outside it: 404); every step calls its
function in ``streets.services`` and only turns the answer into a message."""

import datetime as dt

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from cases.models import Case, CasePhoto, Category
from cases.services import allowed_actions as case_actions
from cases.services import current_field_check, field_check_case, field_check_far_meters
from org.audit import Actor
from org.errors import ActionRefused
from org.models import StreetSegment, Unit, User
from workdays.periods import parse_month

from . import services
from .filtersets import FieldCheckFilterSet, JointActionFilterSet, PatrolFilterSet, SocialReportFilterSet
from .forms import JointActionForm
from .models import Duty, JointFinding, Patrol, Report, Visit

PAGE_SIZE = 50
REFUSED = (PermissionDenied, ValidationError, ActionRefused)


def _text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return "；".join(m for ms in exc.message_dict.values() for m in ms)
        return "；".join(exc.messages)
    return str(exc)


def _day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        raise ValidationError("日期无效") from None


@login_required
def today(request):
    """今日巡查: the person's duties today, the open patrol (or a start button), recent patrols."""
    day = timezone.localdate()
    duties = Duty.objects.filter(user=request.user, day=day).select_related("segment", "grid", "unit")
    open_patrol = Patrol.objects.filter(user=request.user, status=Patrol.Status.OPEN).first()
    recent = Patrol.objects.filter(user=request.user).exclude(status=Patrol.Status.OPEN)[:10]
    try:
        services.check_start_patrol(request.user)
        may_start = True
    except REFUSED:
        may_start = False
    checks = services.field_checks_for(request.user).filter(
        status="pending", case__status=Case.Status.HANDLED
    )
    actions = services.visible_actions(request.user).filter(day=day)
    return render(
        request,
        "streets/today.html",
        {
            "day": day,
            "duties": duties,
            "open_patrol": open_patrol,
            "recent": recent,
            "may_start": may_start,
            "checks": checks.count(),
            "actions": actions,
        },
    )


@login_required
@require_POST
def start(request):
    try:
        patrol = services.start_patrol(
            Actor.from_request(request), request.POST.get("lat"), request.POST.get("lng")
        )
    except REFUSED as exc:
        messages.error(request, _text(exc))
        return HttpResponseRedirect(reverse("streets:today"))
    if patrol.off_roster:
        messages.warning(request, "您今天没有排班，本次巡查将标记为未排班巡查")
    return HttpResponseRedirect(reverse("streets:patrol", args=[patrol.pk]))


@login_required
def patrol(request, pk: int):
    """巡查: the phone page (track, check-ins, 六必报, 六必到, end) or, once ended, its summary."""
    item = get_object_or_404(services.visible_patrols(request.user), pk=pk)
    actions = services.allowed_actions(request.user, item)
    # The day's segments, and those of the communities of the day's grids (a grid worker's round).
    duties = Duty.objects.filter(user=item.user, day=item.day)
    segments = StreetSegment.objects.filter(
        Q(pk__in=duties.values("segment"))
        | Q(region__in=duties.values("grid__community"))
        | Q(chief=item.user)
    ).order_by("code")
    return render(
        request,
        "streets/patrol.html",
        {
            "patrol": item,
            "actions": actions,
            "segments": segments,
            "checked": set(item.checkins.values_list("segment_id", flat=True)),
            "checkins": item.checkins.select_related("segment"),
            "reports": item.reports.select_related("case"),
            "visits": item.visits.all(),
            "summary": item.summary or services.summarise(item),
            "report_kinds": Report.Kind.choices,
            "social_kinds": Report.SOCIAL_KINDS,
            "visit_kinds": Visit.Kind.choices,
            "categories": Category.objects.staff_selectable(),
        },
    )


@login_required
@require_POST
def patrol_step(request, pk: int, step: str):
    item = get_object_or_404(services.visible_patrols(request.user), pk=pk)
    actor = Actor.from_request(request)
    post = request.POST
    try:
        if step == "check_in":
            segment = get_object_or_404(StreetSegment, pk=post.get("segment") or 0)
            services.check_in(actor, item, segment, post.get("lat"), post.get("lng"))
            messages.success(request, f"已在「{segment.name}」签到")
        elif step == "report":
            category = None
            if post.get("category"):
                category = Category.objects.staff_selectable().filter(pk=post["category"]).first()
                if category is None:
                    raise ValidationError("案件类别无效")
            made = services.report(
                actor,
                item,
                kind=post.get("kind", ""),
                description=post.get("description", ""),
                lat=post.get("lat"),
                lng=post.get("lng"),
                category=category,
                photos_uploaded=request.FILES.getlist("photos"),
                person_name=post.get("person_name", ""),
                person_phone=post.get("person_phone", ""),
            )
            done = f"已立案上报，案件编号 {made.case.number}" if made.case else "已报社区，信息仅社区可见"
            messages.success(request, done)
        elif step == "end":
            services.end_patrol(actor, item, post.get("lat"), post.get("lng"))
            messages.success(request, "巡查已结束")
        else:
            raise ValidationError("未知操作")
    except REFUSED as exc:
        messages.error(request, _text(exc))
    return HttpResponseRedirect(reverse("streets:patrol", args=[item.pk]))


@login_required
@require_POST
def visit(request):
    """六必到 from the patrol page (or without a patrol)."""
    post = request.POST
    patrol_item = None
    if post.get("patrol"):
        patrol_item = get_object_or_404(services.visible_patrols(request.user), pk=post["patrol"])
    try:
        services.log_visit(
            Actor.from_request(request),
            kind=post.get("kind", ""),
            place=post.get("place", ""),
            note=post.get("note", ""),
            lat=post.get("lat"),
            lng=post.get("lng"),
            patrol=patrol_item,
        )
        messages.success(request, "六必到已登记")
    except REFUSED as exc:
        messages.error(request, _text(exc))
    if patrol_item is not None:
        return HttpResponseRedirect(reverse("streets:patrol", args=[patrol_item.pk]))
    return HttpResponseRedirect(reverse("streets:today"))


@login_required
def patrol_list(request):
    """巡查记录: the patrols behind the figures (flags: off the roster, GPS jumps)."""
    filters = PatrolFilterSet(
        request.GET or None, queryset=services.visible_patrols(request.user), request=request
    )
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "streets/patrols.html", {"filters": filters, "page": page})


@login_required
def log(request):
    """月度履职记录: a patroller's month (own by default; staff choose a person on their roster)."""
    person = request.user
    if request.GET.get("user"):
        person = get_object_or_404(User, pk=request.GET["user"]) if request.GET["user"].isdigit() else None
        if person is None:
            raise ValidationError("人员无效")
    services.check_view_log(request.user, person)
    try:
        first = dt.date.fromisoformat((request.GET.get("month") or "") + "-01")
    except ValueError:
        first = timezone.localdate().replace(day=1)
    result = services.monthly_log(person, first.year, first.month)
    return render(
        request,
        "streets/log.html",
        {
            "log": result,
            "reports": [(Report.Kind(k).label, n) for k, n in result.reports.items()],
            "visits": [(Visit.Kind(k).label, n) for k, n in result.visits.items()],
        },
    )


@login_required
def coverage(request):
    """巡查覆盖率: per unit the person may read, for one day; figures open the patrols."""
    units = services.coverage_units(request.user)  # none: the page says so (a department's handler)
    try:
        day = _day(request.GET.get("day"))
    except ValidationError as exc:
        messages.error(request, _text(exc))
        day = timezone.localdate()
    rows = [services.coverage(unit, day) for unit in units]
    return render(request, "streets/coverage.html", {"rows": rows, "day": day})


@login_required
def roster(request):
    """排班: a unit's duties for a week, and generating the week from its segments and grids."""
    units = [u for u in services.coverage_units(request.user) if _may_roster(request.user, u)]
    if not units:  # a department's handler holds the role but keeps no roster: the page says so
        return render(request, "streets/roster.html", {"units": [], "unit": None, "duties": []})
    unit = next(
        (u for u in units if str(u.pk) == request.GET.get("unit", request.POST.get("unit"))), units[0]
    )
    try:
        monday = _day(request.GET.get("week") or request.POST.get("week"))
    except ValidationError:
        monday = timezone.localdate()
    monday -= dt.timedelta(days=monday.weekday())
    if request.method == "POST":
        _roster_step(request, unit, monday)
        return HttpResponseRedirect(f"{reverse('streets:roster')}?unit={unit.pk}&week={monday.isoformat()}")
    duties = Duty.objects.filter(
        unit=unit, day__gte=monday, day__lt=monday + dt.timedelta(days=7)
    ).select_related("user", "segment", "grid")
    return render(
        request,
        "streets/roster.html",
        {
            "units": units,
            "unit": unit,
            "monday": monday,
            "days": [monday + dt.timedelta(days=k) for k in range(7)],
            "duties": duties,
            "people": services.roster_people(unit),
            "segments": services.unit_segments(unit),
            "grids": services.unit_grids(unit),
            "today": timezone.localdate(),
        },
    )


def _roster_step(request, unit: Unit, monday: dt.date) -> None:
    """One step on the roster page: generate the week, add a duty, swap or cancel one."""
    actor, post, step = Actor.from_request(request), request.POST, request.POST.get("step", "generate")
    try:
        if step == "generate":
            added = services.generate_week(actor, unit, monday)
            messages.success(request, f"已生成排班 {added} 条")
        elif step == "add":
            place = post.get("place", "")
            kind, _, pk = place.partition(":")
            services.add_duty(
                actor,
                unit,
                _day(post.get("day")),
                _pick(services.roster_people(unit), post.get("user"), "巡查人"),
                segment=_pick(services.unit_segments(unit), pk, "街巷") if kind == "segment" else None,
                grid=_pick(services.unit_grids(unit), pk, "网格") if kind == "grid" else None,
            )
            messages.success(request, "已添加班次")
        elif step in ("swap", "cancel"):
            duty = _pick(Duty.objects.filter(unit=unit), post.get("duty"), "班次")
            if step == "swap":
                person = _pick(services.roster_people(unit), post.get("user"), "调换对象")
                services.swap_duty(actor, duty, person, post.get("reason", ""))
                messages.success(request, "已调班")
            else:
                services.cancel_duty(actor, duty, post.get("reason", ""))
                messages.success(request, "已取消班次")
        else:
            messages.error(request, "未知的操作")
    except REFUSED as exc:
        messages.error(request, _text(exc))


def _pick(qs, pk: str | None, what: str):
    """The row of ``qs`` a form field names, or a ValidationError naming the field."""
    try:
        return qs.get(pk=int(pk or ""))
    except (ValueError, qs.model.DoesNotExist):
        raise ValidationError(f"请选择{what}") from None


def _may_roster(user, unit: Unit) -> bool:
    try:
        services.check_manage_roster(user, unit)
    except REFUSED:
        return False
    return True


@login_required
def social_list(request, revealed: dict | None = None):
    """社区六必报: the social reports of the person's communities, personal data masked."""
    filters = SocialReportFilterSet(
        request.GET or None, queryset=services.social_reports_for(request.user), request=request
    )
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        item.masked_name = services.mask_name(item.person_name)
        item.masked_phone = services.mask_phone(item.person_phone)
    return render(request, "streets/social.html", {"filters": filters, "page": page, "revealed": revealed})


@login_required
@require_POST
def reveal(request, pk: int):
    """查看当事人: shown on the page this answers (never kept in a message); the read is recorded."""
    item = get_object_or_404(services.social_reports_for(request.user), pk=pk)
    try:
        person = services.reveal_person(Actor.from_request(request), item)
    except REFUSED as exc:
        messages.error(request, _text(exc))
        return HttpResponseRedirect(reverse("streets:social"))
    return social_list(request, revealed={"report": item, **person})


# --- field verification 现场核查 --------------------------------------------------------------------


@login_required
def checks(request):
    """待核查: the field checks that went to the person (pending first), as cards on a phone."""
    data = request.GET.copy() if request.GET else {"status": "pending"}
    filters = FieldCheckFilterSet(data, queryset=services.field_checks_for(request.user), request=request)
    page = Paginator(filters.qs.order_by("-status", "assigned_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "streets/checks.html", {"filters": filters, "page": page})


@login_required
def check(request, pk: int):
    """The verification card 核查卡: before and after photos side by side, and (for the verifier)
    pass or fail with an on-site photo and the phone's point. A case outside the person's scope
    is a 404; one whose check went to someone else shows no form (the step answers 403)."""
    case = get_object_or_404(
        Case.objects.visible_to(request.user).select_related("category", "region", "grid", "lead_unit"), pk=pk
    )
    if request.method == "POST":
        post = request.POST
        try:
            field_check_case(
                Actor.from_request(request),
                case,
                passed=post.get("passed") == "1",
                photos_uploaded=request.FILES.getlist("photos"),
                lat=post.get("lat"),
                lng=post.get("lng"),
                note=post.get("note", ""),
            )
        except (ValidationError, ActionRefused) as exc:  # PermissionDenied: a 403
            messages.error(request, _text(exc))
        else:
            passed = post.get("passed") == "1"
            messages.success(
                request, f"案件 {case.number} 现场核查{'通过，待受理员结案' if passed else '未通过，待返工'}"
            )
            return HttpResponseRedirect(reverse("streets:checks"))
        return HttpResponseRedirect(reverse("streets:check", args=[case.pk]))
    photos = list(case.photos.all())
    return render(
        request,
        "streets/check.html",
        {
            "case": case,
            "check": current_field_check(case),
            "history": case.field_checks.select_related("verifier"),
            "before": [p for p in photos if p.kind == CasePhoto.Kind.BEFORE],
            "after": [p for p in photos if p.kind != CasePhoto.Kind.BEFORE],
            "may_check": "field_check" in case_actions(request.user, case),
            "far_m": field_check_far_meters(),
        },
    )


# --- joint enforcement days 集中联合执法 ------------------------------------------------------------


@login_required
def joint_actions(request):
    """集中联合执法: the actions the person may read (newest first), and planning a new one."""
    filters = JointActionFilterSet(
        request.GET or None, queryset=services.visible_actions(request.user), request=request
    )
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    may_plan = services.planner_units(request.user).exists()
    try:
        services.check_view_attendance(request.user)
        may_count = True
    except PermissionDenied:
        may_count = False
    return render(
        request,
        "streets/joint_list.html",
        {"filters": filters, "page": page, "may_plan": may_plan, "may_count": may_count},
    )


@login_required
def joint_new(request):
    """吹哨: plan a joint action (the organiser's staff, its street chiefs, HQ)."""
    if not services.planner_units(request.user).exists():
        raise PermissionDenied("只有创文办或街道、社区工作人员、街巷长可以组织集中联合执法")
    organisers = services.planner_units(request.user)
    first = organisers.filter(pk=request.GET.get("organiser") or 0).first() or organisers.first()
    lead = services.next_lead(first) if first is not None else None
    form = JointActionForm(
        request.POST or None,
        user=request.user,
        initial={"organiser": first, "lead_unit": lead, "day": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            action = services.plan_action(
                Actor.from_request(request),
                data["organiser"],
                title=data["title"],
                day=data["day"],
                start_time=data["start_time"],
                place=data["place"],
                lat=data["lat"],
                lng=data["lng"],
                units=list(data["units"]),
                lead_unit=data["lead_unit"],
                note=data["note"],
            )
        except REFUSED as exc:
            form.add_error(None, _text(exc))
        else:
            messages.success(request, f"已发起集中联合执法，召集 {action.summons.count()} 个单位")
            return HttpResponseRedirect(reverse("streets:joint", args=[action.pk]))
    return render(request, "streets/joint_new.html", {"form": form})


@login_required
def joint(request, pk: int):
    """The action on a phone: place, summoned units and their sign-ins, findings; sign in for the
    person's summoned unit, record a finding (a case, or handled on the spot with a photo)."""
    action = get_object_or_404(services.visible_actions(request.user), pk=pk)
    summons = action.summons.select_related("unit", "signed_in_by")
    return render(
        request,
        "streets/joint.html",
        {
            "action": action,
            "summons": summons,
            "findings": action.findings.select_related("case", "unit", "recorded_by"),
            "allowed": services.action_allowed(request.user, action),
            "far_m": services.joint_far_meters(),
            "outcomes": JointFinding.Outcome.choices,
            "categories": Category.objects.staff_selectable(),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def joint_step(request, pk: int, step: str):
    action = get_object_or_404(services.visible_actions(request.user), pk=pk)
    actor = Actor.from_request(request)
    post = request.POST
    try:
        if step == "sign_in":
            unit = get_object_or_404(Unit, pk=post.get("unit") or 0)
            summons = services.sign_in(actor, action, unit, post.get("lat"), post.get("lng"))
            far = f"，距集合地点 {summons.distance_m:.0f} 米，已标记位置偏远" if summons.far else ""
            messages.success(request, f"{unit.name} 已签到{far}")
        elif step == "finding":
            category = unit = None
            if post.get("category"):
                category = Category.objects.staff_selectable().filter(pk=post["category"]).first()
            if post.get("unit"):
                unit = Unit.objects.filter(pk=post["unit"]).first()
            finding = services.record_finding(
                actor,
                action,
                outcome=post.get("outcome", ""),
                description=post.get("description", ""),
                lat=post.get("lat"),
                lng=post.get("lng"),
                category=category,
                unit=unit,
                photos_uploaded=request.FILES.getlist("photos"),
            )
            done = f"已转为案件 {finding.case.number}" if finding.case else "已登记现场处置"
            messages.success(request, done)
        else:
            raise ValidationError("未知操作")
    except REFUSED as exc:
        messages.error(request, _text(exc))
    return HttpResponseRedirect(reverse("streets:joint", args=[action.pk]))


@login_required
def joint_attendance(request):
    """联合执法报到统计: per summoned unit over a month, signed in, far, no-shows, pending."""
    services.check_view_attendance(request.user)
    try:
        year, month = parse_month(request.GET.get("month") or f"{timezone.localdate():%Y-%m}")
    except ValidationError as exc:
        messages.error(request, _text(exc))
        year, month = timezone.localdate().year, timezone.localdate().month
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    rows = services.attendance(first, last)
    return render(request, "streets/joint_attendance.html", {"rows": rows, "first": first})


# --- public street signs 街巷长联系牌 -------------------------------------------------------------


def _sign_url(request, segment: StreetSegment) -> str:
    """The address printed as the sign's QR code: under ``STREETS_SIGN_BASE_URL`` (the public
    site) when set, else this request's own host."""
    path = reverse("streets:sign", args=[segment.code])
    base = str(getattr(settings, "STREETS_SIGN_BASE_URL", "")).rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def _report_url(sign: services.Sign) -> str:
    """The citizen appeal form with the segment as the place (the form takes address, lat, lng)."""
    params = {"address": f"{sign.segment.region.name} {sign.segment.name}"}
    if sign.centre is not None:
        params.update(lat=str(sign.centre[0]), lng=str(sign.centre[1]))
    return f"{reverse('appeals:submit')}?{urlencode(params)}"


def _qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG (segno: pure Python, no image library needed)."""
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", border=2)


@cache_control(public=True, max_age=300)
def sign(request, code: str):
    """街巷长联系牌 (public, no login): the segment, its chief, the three service teams with masked
    numbers and a one-tap call through the district's number, and "report a problem here"."""
    segment = get_object_or_404(StreetSegment.objects.select_related("region", "chief"), code=code)
    info = services.sign_for(segment)
    return render(
        request,
        "streets/sign.html",
        {"sign": info, "report_url": _report_url(info), "chief_tel": services.call_link()},
    )


def sign_qr(request, code: str):
    """The sign's QR code as an SVG file (to print or place in a layout)."""
    segment = get_object_or_404(StreetSegment, code=code)
    return HttpResponse(_qr_svg(_sign_url(request, segment)), content_type="image/svg+xml")


@login_required
def signs_print(request):
    """打印联系牌: every segment sign of a unit the person keeps, one per printed page."""
    units = [u for u in services.coverage_units(request.user) if _may_roster(request.user, u)]
    if not units:
        raise PermissionDenied("只有创文办或街道、社区工作人员可以打印街巷长联系牌")
    unit = next((u for u in units if str(u.pk) == request.GET.get("unit")), units[0])
    services.check_print_signs(request.user, unit)
    segments = services.unit_segments(unit).select_related("region", "chief").order_by("code")
    signs = []
    for segment in segments:
        info = services.sign_for(segment)
        signs.append(
            {"sign": info, "url": _sign_url(request, segment), "qr": _qr_svg(_sign_url(request, segment))}
        )
    return render(request, "streets/signs_print.html", {"units": units, "unit": unit, "signs": signs})
