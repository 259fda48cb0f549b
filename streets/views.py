"""Pages of streets 街巷长与网格: the chief's or collector's day on a phone (today's duty, the
patrol with its track, check-ins, 六必报 and 六必到), and the staff's roster, coverage, patrol list
and the community list of social reports.

Every record is fetched through its visible queryset (outside it: 404); every step calls its
function in ``streets.services`` and only turns the answer into a message."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases.models import Category
from org.audit import Actor
from org.errors import ActionRefused
from org.models import StreetSegment, Unit, User

from . import services
from .filtersets import PatrolFilterSet, SocialReportFilterSet
from .models import Duty, Patrol, Report, Visit

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
    return render(
        request,
        "streets/today.html",
        {"day": day, "duties": duties, "open_patrol": open_patrol, "recent": recent, "may_start": may_start},
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
        try:
            added = services.generate_week(Actor.from_request(request), unit, monday)
            messages.success(request, f"已生成排班 {added} 条")
        except REFUSED as exc:
            messages.error(request, _text(exc))
        return HttpResponseRedirect(f"{reverse('streets:roster')}?unit={unit.pk}&week={monday.isoformat()}")
    duties = Duty.objects.filter(
        unit=unit, day__gte=monday, day__lt=monday + dt.timedelta(days=7)
    ).select_related("user", "segment", "grid")
    return render(
        request, "streets/roster.html", {"units": units, "unit": unit, "monday": monday, "duties": duties}
    )


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
