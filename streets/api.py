"""Streets JSON API under /api/v1/streets/: every step of the phone pages.

Today's duties, patrols (start, track points, check-in, 六必报 report as multipart with photos,
end), 六必到 visits, the community list of social reports (masked; the unmasked person is a
separate, audited read), coverage per unit and day. Patrols are fetched through
``visible_patrols(user)`` (outside it: 404); every step calls its service."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from cases.models import Category
from org.audit import Actor
from org.models import StreetSegment, Unit, User

from . import services
from .filtersets import PatrolFilterSet, SocialReportFilterSet
from .models import Duty, Patrol, Report

router = Router(tags=["街巷长与网格 streets"])


def _actor(request) -> Actor:
    return Actor.from_request(request, via="api")


def _filtered(filterset_class, request, queryset):
    filters = filterset_class(request.GET, queryset=queryset, request=request)
    if not filters.is_valid():
        raise ValidationError({k: [str(e) for e in v] for k, v in filters.errors.items()})
    return filters.qs


class DutyOut(Schema):
    id: int
    day: dt.date
    unit_id: int
    user_id: int
    segment_id: int | None
    grid_id: int | None
    place: str

    @staticmethod
    def resolve_place(obj: Duty) -> str:
        return str(obj.place)


class PatrolOut(Schema):
    id: int
    user_id: int
    day: dt.date
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    off_roster: bool
    jumps: int
    distance_m: float
    summary: dict
    checked_in: list[int]
    allowed_actions: list[str]

    @staticmethod
    def resolve_checked_in(obj: Patrol) -> list[int]:
        return list(obj.checkins.values_list("segment_id", flat=True))

    @staticmethod
    def resolve_allowed_actions(obj: Patrol, context) -> list[str]:
        return services.allowed_actions(context["request"].user, obj)


class PointIn(Schema):
    lat: float
    lng: float


class TrackPointIn(PointIn):
    at: dt.datetime


class PointsIn(Schema):
    points: list[TrackPointIn]


class CheckInIn(PointIn):
    segment_id: int


class AddedOut(Schema):
    added: int


class PatrolReportOut(Schema):
    id: int
    kind: str
    kind_name: str
    reported_at: dt.datetime
    case_id: int | None
    case_number: str | None
    community: str | None
    description: str
    person_name: str
    person_phone: str

    @staticmethod
    def resolve_kind_name(obj: Report) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_case_number(obj: Report) -> str | None:
        return obj.case.number if obj.case is not None else None

    @staticmethod
    def resolve_community(obj: Report) -> str | None:
        return obj.community.name if obj.community is not None else None

    @staticmethod
    def resolve_person_name(obj: Report) -> str:
        return services.mask_name(obj.person_name)

    @staticmethod
    def resolve_person_phone(obj: Report) -> str:
        return services.mask_phone(obj.person_phone)


class PersonOut(Schema):
    name: str
    phone: str


class VisitIn(Schema):
    kind: str
    place: str
    note: str = ""
    lat: float | None = None
    lng: float | None = None
    patrol_id: int | None = None


class VisitOut(Schema):
    id: int
    kind: str
    place: str
    at: dt.datetime
    note: str


class CoverageOut(Schema):
    unit_id: int
    unit: str
    day: dt.date
    segments: int
    patrolled: int
    share: float | None
    missed: list[DutyOut]
    patrol_ids: list[int]


def _patrol(request, patrol_id: int) -> Patrol:
    return get_object_or_404(services.visible_patrols(request.user), pk=patrol_id)


@router.get("/today", response=list[DutyOut])
def today(request):
    """The caller's duties today."""
    return list(
        Duty.objects.filter(user=request.user, day=timezone.localdate()).select_related("segment", "grid")
    )


class WeekIn(Schema):
    unit_id: int
    monday: dt.date


class SwapIn(Schema):
    user_id: int
    reason: str


@router.post("/rosters", response={201: AddedOut})
def generate_week(request, data: WeekIn):
    """排班: a week of duties for a territorial unit (running it twice adds nothing)."""
    unit = get_object_or_404(Unit, pk=data.unit_id)
    return Status(201, {"added": services.generate_week(_actor(request), unit, data.monday)})


@router.post("/duties/{int:duty_id}/swap", response=DutyOut)
def swap_duty(request, duty_id: int, data: SwapIn):
    """调班: the duty to another patroller, with the reason (audited)."""
    duty = get_object_or_404(Duty.objects.filter(unit__in=services.coverage_units(request.user)), pk=duty_id)
    return services.swap_duty(_actor(request), duty, get_object_or_404(User, pk=data.user_id), data.reason)


@router.get("/patrols", response=list[PatrolOut])
@paginate
def list_patrols(
    request, start: str = "", end: str = "", status: str = "", off_roster: str = "", flagged: str = ""
):
    return _filtered(PatrolFilterSet, request, services.visible_patrols(request.user))


@router.post("/patrols", response={201: PatrolOut})
def start_patrol(request, data: PointIn):
    """开始巡查 (flagged ``off_roster`` without a duty today)."""
    return Status(201, services.start_patrol(_actor(request), data.lat, data.lng))


@router.get("/patrols/{int:patrol_id}", response=PatrolOut)
def get_patrol(request, patrol_id: int):
    return _patrol(request, patrol_id)


@router.post("/patrols/{int:patrol_id}/points", response=AddedOut)
def add_points(request, patrol_id: int, data: PointsIn):
    """轨迹点; points already stored for the same moment are skipped (safe to resend)."""
    added = services.add_points(_actor(request), _patrol(request, patrol_id), [p.dict() for p in data.points])
    return {"added": added}


@router.post("/patrols/{int:patrol_id}/checkins", response={201: PatrolOut})
def check_in(request, patrol_id: int, data: CheckInIn):
    patrol = _patrol(request, patrol_id)
    segment = get_object_or_404(StreetSegment, pk=data.segment_id)
    services.check_in(_actor(request), patrol, segment, data.lat, data.lng)
    return Status(201, patrol)


@router.post("/patrols/{int:patrol_id}/reports", response={201: PatrolReportOut})
def report(
    request,
    patrol_id: int,
    kind: Form[str],
    description: Form[str],
    lat: Form[float],
    lng: Form[float],
    category_id: Form[int | None] = None,
    person_name: Form[str] = "",
    person_phone: Form[str] = "",
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
):
    """六必报 (multipart): a city problem becomes a case, a social matter goes to the community list."""
    patrol = _patrol(request, patrol_id)
    category = None
    if category_id is not None:
        category = Category.objects.staff_selectable().filter(pk=category_id).first()
        if category is None:
            raise ValidationError("案件类别无效")
    item = services.report(
        _actor(request),
        patrol,
        kind=kind,
        description=description,
        lat=lat,
        lng=lng,
        category=category,
        photos_uploaded=photos or [],
        person_name=person_name,
        person_phone=person_phone,
    )
    return Status(201, item)


@router.post("/patrols/{int:patrol_id}/end", response=PatrolOut)
def end_patrol(request, patrol_id: int, data: PointIn):
    return services.end_patrol(_actor(request), _patrol(request, patrol_id), data.lat, data.lng)


@router.post("/visits", response={201: VisitOut})
def log_visit(request, data: VisitIn):
    """六必到."""
    patrol = _patrol(request, data.patrol_id) if data.patrol_id is not None else None
    visit = services.log_visit(
        _actor(request),
        kind=data.kind,
        place=data.place,
        note=data.note,
        lat=data.lat,
        lng=data.lng,
        patrol=patrol,
    )
    return Status(201, visit)


@router.get("/social-reports", response=list[PatrolReportOut])
@paginate
def social_reports(request, kind: str = "", start: str = "", end: str = ""):
    """The community list of social reports (personal data masked)."""
    return _filtered(SocialReportFilterSet, request, services.social_reports_for(request.user))


@router.post("/social-reports/{int:report_id}/person", response=PersonOut)
def reveal_person(request, report_id: int):
    """The unmasked person (community staff and HQ; each read is recorded)."""
    item = get_object_or_404(services.social_reports_for(request.user), pk=report_id)
    return services.reveal_person(_actor(request), item)


class LogOut(Schema):
    user_id: int
    month: str
    duties: int
    patrols: int
    off_roster: int
    checkins: int
    missed: int
    reports: dict[str, int]
    visits: dict[str, int]


@router.get("/log", response=LogOut)
def monthly_log(request, user_id: int | None = None, month: str = ""):
    """月度履职记录 of a patroller (``month`` YYYY-MM, default this month; default the caller)."""
    person = get_object_or_404(User, pk=user_id) if user_id is not None else request.user
    services.check_view_log(request.user, person)
    try:
        first = dt.date.fromisoformat(f"{month}-01") if month else timezone.localdate().replace(day=1)
    except ValueError:
        raise ValidationError("月份无效，格式为 YYYY-MM") from None
    result = services.monthly_log(person, first.year, first.month)
    return {**result.__dict__, "user_id": person.pk, "month": first.strftime("%Y-%m")}


@router.get("/coverage", response=list[CoverageOut])
def coverage(request, day: str = ""):
    """巡查覆盖率 per unit the caller may read, for ``day`` (default today)."""
    units = services.coverage_units(request.user)
    if not units.exists():
        raise PermissionDenied("您无权查看巡查覆盖率")
    try:
        the_day = dt.date.fromisoformat(day) if day else timezone.localdate()
    except ValueError:
        raise ValidationError("日期无效，格式为 YYYY-MM-DD") from None
    rows = []
    for unit in units:
        c = services.coverage(unit, the_day)
        rows.append({**c.__dict__, "unit_id": unit.pk, "unit": unit.name})
    return rows
