"""Streets JSON API under /api/v1/streets/: every step of the phone pages.

The caller's field checks 现场核查 (the step itself is ``POST /api/v1/cases/cases/{id}/field-check``),
joint actions 集中联合执法 (plan, sign in, findings) and their attendance per unit; today's duties, patrols (start, track points, check-in, 六必报 report as multipart with photos,
end), 六必到 visits, the community list of social reports (masked; the unmasked person is a
separate, audited read), coverage per unit and day. Patrols are fetched through
``visible_patrols(user)`` (outside it: 404); every step calls its service."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from cases.models import Category, FieldCheck
from org.audit import Actor
from org.models import Grid, StreetSegment, Unit, User
from workdays.periods import parse_month

from . import services
from .filtersets import FieldCheckFilterSet, JointActionFilterSet, PatrolFilterSet, SocialReportFilterSet
from .models import Duty, JointAction, JointFinding, JointSummons, Patrol, Report

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


class DutyIn(Schema):
    unit_id: int
    day: dt.date
    user_id: int
    segment_id: int | None = None
    grid_id: int | None = None


class CancelIn(Schema):
    reason: str


@router.post("/rosters", response={201: AddedOut})
def generate_week(request, data: WeekIn):
    """排班: a week of duties for a territorial unit (running it twice adds nothing)."""
    unit = get_object_or_404(Unit, pk=data.unit_id)
    return Status(201, {"added": services.generate_week(_actor(request), unit, data.monday)})


@router.post("/duties", response={201: DutyOut})
def add_duty(request, data: DutyIn):
    """加班次: one duty of a unit's roster by hand (a street segment or a grid of the unit)."""
    unit = get_object_or_404(Unit, pk=data.unit_id)
    segment = get_object_or_404(StreetSegment, pk=data.segment_id) if data.segment_id else None
    grid = get_object_or_404(Grid, pk=data.grid_id) if data.grid_id else None
    person = get_object_or_404(User, pk=data.user_id)
    return Status(201, services.add_duty(_actor(request), unit, data.day, person, segment=segment, grid=grid))


@router.post("/duties/{int:duty_id}/cancel", response={204: None})
def cancel_duty(request, duty_id: int, data: CancelIn):
    """取消班次, with the reason (the audit log keeps what it was)."""
    duty = get_object_or_404(Duty.objects.filter(unit__in=services.coverage_units(request.user)), pk=duty_id)
    services.cancel_duty(_actor(request), duty, data.reason)
    return Status(204, None)


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


# --- field checks 现场核查 -----------------------------------------------------------------------


class FieldCheckTaskOut(Schema):
    id: int
    case_id: int
    case_number: str
    category: str
    address: str
    lat: float
    lng: float
    status: str
    assigned_at: dt.datetime
    checked_at: dt.datetime | None
    verify_deadline: dt.datetime | None

    @staticmethod
    def resolve_case_number(obj: FieldCheck) -> str:
        return obj.case.number

    @staticmethod
    def resolve_category(obj: FieldCheck) -> str:
        return obj.case.category.name

    @staticmethod
    def resolve_address(obj: FieldCheck) -> str:
        return obj.case.address

    @staticmethod
    def resolve_lat(obj: FieldCheck) -> float:
        return float(obj.case.lat)

    @staticmethod
    def resolve_lng(obj: FieldCheck) -> float:
        return float(obj.case.lng)

    @staticmethod
    def resolve_verify_deadline(obj: FieldCheck) -> dt.datetime | None:
        return obj.case.verify_deadline


@router.get("/checks", response=list[FieldCheckTaskOut])
@paginate
def field_checks(request, status: str = ""):
    """The caller's field checks (``status=pending``: 待核查); pass or fail one with
    ``POST /api/v1/cases/cases/{case_id}/field-check``."""
    return _filtered(FieldCheckFilterSet, request, services.field_checks_for(request.user)).order_by(
        "assigned_at", "pk"
    )


# --- joint actions 集中联合执法 ---------------------------------------------------------------------


class JointSummonsOut(Schema):
    unit_id: int
    unit: str
    signed_in_at: dt.datetime | None
    signed_in_by_id: int | None
    lat: float | None
    lng: float | None
    distance_m: float | None
    far: bool

    @staticmethod
    def resolve_unit(obj: JointSummons) -> str:
        return obj.unit.name


class JointFindingOut(Schema):
    id: int
    outcome: str
    description: str
    lat: float
    lng: float
    recorded_by_id: int
    recorded_at: dt.datetime
    case_id: int | None
    case_number: str | None
    unit_id: int | None
    photo_url: str | None

    @staticmethod
    def resolve_case_number(obj: JointFinding) -> str | None:
        return obj.case.number if obj.case is not None else None

    @staticmethod
    def resolve_photo_url(obj: JointFinding) -> str | None:
        return default_storage.url(obj.photo.name) if obj.photo else None


class JointActionOut(Schema):
    id: int
    organiser_id: int
    organiser: str
    title: str
    day: dt.date
    start_time: dt.time
    place: str
    lat: float
    lng: float
    lead_unit_id: int
    note: str
    summons: list[JointSummonsOut]
    findings: list[JointFindingOut]
    may_sign_in_for: list[int]
    may_record: bool

    @staticmethod
    def resolve_organiser(obj: JointAction) -> str:
        return obj.organiser.name

    @staticmethod
    def resolve_summons(obj: JointAction) -> list[JointSummons]:
        return list(obj.summons.select_related("unit"))

    @staticmethod
    def resolve_findings(obj: JointAction) -> list[JointFinding]:
        return list(obj.findings.select_related("case"))

    @staticmethod
    def resolve_may_sign_in_for(obj: JointAction, context) -> list[int]:
        allowed = services.action_allowed(context["request"].user, obj)["sign_in"]
        return [u.pk for u in allowed]  # type: ignore[union-attr]

    @staticmethod
    def resolve_may_record(obj: JointAction, context) -> bool:
        return bool(services.action_allowed(context["request"].user, obj)["finding"])


class JointActionListOut(Schema):
    id: int
    organiser_id: int
    title: str
    day: dt.date
    start_time: dt.time
    place: str
    lead_unit_id: int


class JointActionIn(Schema):
    organiser_id: int
    title: str
    day: dt.date
    start_time: dt.time
    place: str
    lat: float
    lng: float
    unit_ids: list[int]
    lead_unit_id: int
    note: str = ""


class JointSignInIn(PointIn):
    unit_id: int


class JointAttendanceOut(Schema):
    unit_id: int
    unit: str
    summoned: int
    attended: int
    far: int
    no_show: int
    pending: int
    rate: float | None


def _action(request, action_id: int) -> JointAction:
    return get_object_or_404(services.visible_actions(request.user), pk=action_id)


@router.get("/joint-actions", response=list[JointActionListOut])
@paginate
def joint_actions(request, start: str = "", end: str = ""):
    """The joint actions the caller may read, newest first (``start``/``end``: days)."""
    return _filtered(JointActionFilterSet, request, services.visible_actions(request.user))


@router.post("/joint-actions", response={201: JointActionOut})
def plan_action(request, data: JointActionIn):
    """吹哨: plan a joint action and summon units of the "5+3" forces (one leads: 举旗子)."""
    organiser = get_object_or_404(Unit, pk=data.organiser_id)
    units = list(Unit.objects.filter(pk__in=data.unit_ids))
    if len(units) != len(set(data.unit_ids)):
        raise ValidationError("被召集单位无效")
    action = services.plan_action(
        _actor(request),
        organiser,
        title=data.title,
        day=data.day,
        start_time=data.start_time,
        place=data.place,
        lat=data.lat,
        lng=data.lng,
        units=units,
        lead_unit=get_object_or_404(Unit, pk=data.lead_unit_id),
        note=data.note,
    )
    return Status(201, action)


@router.get("/joint-actions/{int:action_id}", response=JointActionOut)
def get_action(request, action_id: int):
    return _action(request, action_id)


@router.post("/joint-actions/{int:action_id}/signins", response={201: JointSummonsOut})
def sign_in(request, action_id: int, data: JointSignInIn):
    """签到 for one of the caller's summoned units, with the phone's point (far: flagged)."""
    action = _action(request, action_id)
    unit = get_object_or_404(Unit, pk=data.unit_id)
    return Status(201, services.sign_in(_actor(request), action, unit, data.lat, data.lng))


@router.post("/joint-actions/{int:action_id}/findings", response={201: JointFindingOut})
def record_finding(
    request,
    action_id: int,
    outcome: Form[str],
    description: Form[str],
    lat: Form[float],
    lng: Form[float],
    category_id: Form[int | None] = None,
    unit_id: Form[int | None] = None,
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
):
    """A finding (multipart): ``outcome=case`` (with ``category_id`` and photos) becomes a case;
    ``outcome=on_spot`` is handled there by ``unit_id`` with one photo."""
    action = _action(request, action_id)
    category = None
    if category_id is not None:
        category = Category.objects.staff_selectable().filter(pk=category_id).first()
        if category is None:
            raise ValidationError("案件类别无效")
    unit = get_object_or_404(Unit, pk=unit_id) if unit_id is not None else None
    finding = services.record_finding(
        _actor(request),
        action,
        outcome=outcome,
        description=description,
        lat=lat,
        lng=lng,
        category=category,
        unit=unit,
        photos_uploaded=photos or [],
    )
    return Status(201, finding)


@router.get("/joint-attendance", response=list[JointAttendanceOut])
def joint_attendance(request, month: str = ""):
    """Attendance per summoned unit over a month (default this month): signed in, of which far,
    no-shows (actions over without a sign-in), pending, and the rate signed in ÷ decided."""
    services.check_view_attendance(request.user)
    year, number = parse_month(month or f"{timezone.localdate():%Y-%m}")
    first = dt.date(year, number, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return services.attendance(first, last)
