"""Street chiefs and grids 街巷长与网格: every step is one function here, beside its check.

Rosters 巡查排班: HQ, or the handlers and report clerks of a territorial unit (street office,
township, community committee), generate a week's duties from the unit's segments (their chiefs)
and grids (their workers), and swap a duty to another patroller (the swap and its reason are
audited). Patrols 巡查: a collector or street chief starts one (without a duty that day it is
allowed and flagged ``off_roster``), sends GPS points (retries are harmless: a point is unique per
moment; a point implying more than ``MAX_SPEED_MS`` from the previous one is flagged as a jump),
checks in at segments (the point must lie in the segment's region), reports 六必报 and logs 六必到
visits, and ends it with a summary. Coverage 覆盖率: per unit and day, the share of the unit's
segments with a check-in that day (no segments: ``None``, "no data").

Each step checks first (``PermissionDenied`` 403, ``ValidationError`` 400, ``ActionRefused`` 409),
then writes in one transaction with an audit record (who, when, from where, channel); every row
written carries its own time and place.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cases import geo, photos
from cases.models import Category, FieldCheck
from cases.services import report_case
from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Grid, Membership, Region, Role, StreetSegment, Unit, User
from org.scope import scope_for
from org.text import clean_text

from .models import (
    CheckIn,
    Duty,
    JointAction,
    JointFinding,
    JointSummons,
    Patrol,
    Report,
    ServiceTeam,
    TrackPoint,
    Visit,
)

PATROL_ROLES = (Role.COLLECTOR, Role.STREET_CHIEF)
# Who keeps a territorial unit's roster and reads its community list (besides HQ).
UNIT_STAFF_ROLES = (Role.HANDLER, Role.REPORT_CLERK)
# Faster than this between two fixes is not a walk, a bicycle or a patrol car: a GPS jump.
MAX_SPEED_MS = 30.0
MAX_POINTS_PER_CALL = 500
# The case category a city-problem report becomes unless the chief picks another (kind, code).
CITY_CATEGORY: dict[str, tuple[str, str]] = {
    Report.Kind.LITTER: (Category.Kind.EVENT, "0102"),  # 暴露垃圾
    Report.Kind.FACILITY: (Category.Kind.EVENT, "0303"),  # 道路破损
    Report.Kind.HAZARD: (Category.Kind.EVENT, "0401"),  # 路面塌陷
}


# --- helpers ------------------------------------------------------------------------------------


def _coordinate(value, low: int, high: int, what: str) -> Decimal:
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(f"{what}无效") from None
    if not number.is_finite() or not low <= number <= high:
        raise ValidationError(f"{what}无效")
    return number


def _point(lat, lng) -> tuple[Decimal, Decimal]:
    return _coordinate(lat, -90, 90, "纬度"), _coordinate(lng, -180, 180, "经度")


def unit_segments(unit: Unit) -> QuerySet[StreetSegment]:
    """The street segments a territorial unit answers for (those in its region's subtree)."""
    if not unit.is_territorial:
        return StreetSegment.objects.none()
    return StreetSegment.objects.filter(region__path__startswith=unit.region.path)


def unit_grids(unit: Unit) -> QuerySet[Grid]:
    if not unit.is_territorial:
        return Grid.objects.none()
    return Grid.objects.filter(community__path__startswith=unit.region.path)


def _staff_units(user: User) -> QuerySet[Unit]:
    """The territorial units whose roster and community list ``user`` keeps."""
    return Unit.objects.filter(
        memberships__user=user, memberships__role__in=UNIT_STAFF_ROLES, kind__in=Unit.TERRITORIAL_KINDS
    ).select_related("region")


def _user(actor: Actor) -> User:
    """The acting person, once the step's check has refused anonymous actors."""
    if actor.user is None:
        raise PermissionDenied("请先登录")
    return actor.user


def _is_hq(user: User) -> bool:
    return user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN)


# --- rosters 巡查排班 ------------------------------------------------------------------------------


def check_manage_roster(user: User | None, unit: Unit) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    if not (_is_hq(user) or _staff_units(user).filter(pk=unit.pk).exists()):
        raise PermissionDenied("只有创文办或本单位工作人员可以排班")
    if not unit.is_territorial:
        raise ValidationError("只有街道、乡镇、社区、村可以排巡查班")


def generate_week(actor: Actor, unit: Unit, monday: dt.date) -> int:
    """排班: a week of duties from the unit's segments (their chief) and grids (each worker).
    Duties already there are kept (running it twice adds nothing); returns how many were added."""
    check_manage_roster(actor.user, unit)
    if monday.weekday() != 0:
        raise ValidationError("请从周一开始排班")
    places: list[tuple[User, StreetSegment | None, Grid | None]] = []
    for segment in unit_segments(unit).filter(chief__isnull=False).select_related("chief"):
        places.append((segment.chief, segment, None))  # type: ignore[arg-type]
    for grid in unit_grids(unit).prefetch_related("workers"):
        places.extend((worker, None, grid) for worker in grid.workers.all())
    now = timezone.now()
    days = [monday + dt.timedelta(days=offset) for offset in range(7)]
    with transaction.atomic():
        # One read of the week's duties of these people, one insert of the missing ones.
        existing = set(
            Duty.objects.filter(day__in=days, user__in={user.pk for user, _s, _g in places}).values_list(
                "day", "user_id", "segment_id", "grid_id"
            )
        )
        new = [
            Duty(unit=unit, day=day, user=user, segment=seg, grid=grid, created_by=actor.user, created_at=now)
            for day in days
            for user, seg, grid in places
            if (day, user.pk, seg.pk if seg else None, grid.pk if grid else None) not in existing
        ]
        Duty.objects.bulk_create(new)
        added = len(new)
        record(actor, "streets.roster_generated", unit, f"生成 {monday} 起一周排班 {added} 条", added=added)
    return added


def _check_patroller(user: User, what: str = "该人员") -> None:
    if not Membership.objects.filter(user=user, role__in=PATROL_ROLES).exists():
        raise ValidationError(f"{what}不是信息采集员或街巷长")


def check_swap_duty(user: User | None, duty: Duty, new_user: User) -> None:
    check_manage_roster(user, duty.unit)
    if duty.day < timezone.localdate():
        raise ActionRefused("已过去的排班不能调换")
    if new_user.pk == duty.user_id:
        raise ValidationError("调换对象与原巡查人相同")
    _check_patroller(new_user, "调换对象")
    clash = Duty.objects.filter(day=duty.day, user=new_user, segment=duty.segment, grid=duty.grid)
    if clash.exists():
        raise ActionRefused("调换对象当天已有该班次")


def swap_duty(actor: Actor, duty: Duty, new_user: User, reason: str) -> Duty:
    """调班: the duty goes to another patroller; who, when and why are recorded."""
    check_swap_duty(actor.user, duty, new_user)
    reason = clean_text(reason, 200, "调班原因", multiline=False)
    if not reason:
        raise ValidationError("请填写调班原因")
    with transaction.atomic():
        duty = Duty.objects.select_for_update().get(pk=duty.pk)
        old = duty.user_id
        duty.user = new_user
        duty.save(update_fields=["user"])
        record(actor, "streets.duty_swapped", duty, reason, from_user=old, to_user=new_user.pk)
    return duty


def roster_people(unit: Unit) -> QuerySet[User]:
    """Who may take a duty of the unit: its collectors and street chiefs, the chiefs of its
    segments and the workers of its grids."""
    return (
        User.objects.filter(
            Q(memberships__unit=unit, memberships__role__in=PATROL_ROLES)
            | Q(segments__in=unit_segments(unit))
            | Q(grids__in=unit_grids(unit)),
            is_active=True,
        )
        .distinct()
        .order_by("first_name", "username")
    )


def check_add_duty(
    user: User | None,
    unit: Unit,
    day: dt.date,
    patroller: User,
    segment: StreetSegment | None,
    grid: Grid | None,
) -> None:
    check_manage_roster(user, unit)
    if day < timezone.localdate():
        raise ActionRefused("不能给已过去的日期排班")
    if (segment is None) == (grid is None):
        raise ValidationError("请选择一条街巷或一个网格（只选一个）")
    if segment is not None and not unit_segments(unit).filter(pk=segment.pk).exists():
        raise ValidationError("该街巷不属于本单位")
    if grid is not None and not unit_grids(unit).filter(pk=grid.pk).exists():
        raise ValidationError("该网格不属于本单位")
    _check_patroller(patroller, "巡查人")
    if Duty.objects.filter(day=day, user=patroller, segment=segment, grid=grid).exists():
        raise ActionRefused("该巡查人当天已有该班次")


def add_duty(
    actor: Actor,
    unit: Unit,
    day: dt.date,
    patroller: User,
    *,
    segment: StreetSegment | None = None,
    grid: Grid | None = None,
) -> Duty:
    """加班次: one duty by hand (a week is generated by ``generate_week``)."""
    check_add_duty(actor.user, unit, day, patroller, segment, grid)
    with transaction.atomic():
        duty = Duty.objects.create(
            unit=unit,
            day=day,
            user=patroller,
            segment=segment,
            grid=grid,
            created_by=actor.user,
            created_at=timezone.now(),
        )
        record(actor, "streets.duty_added", duty, f"{day} {patroller} {duty.place}", user=patroller.pk)
    return duty


def check_cancel_duty(user: User | None, duty: Duty) -> None:
    check_manage_roster(user, duty.unit)
    if duty.day < timezone.localdate():
        raise ActionRefused("已过去的排班不能取消")
    if duty.day == timezone.localdate() and Patrol.objects.filter(user=duty.user, day=duty.day).exists():
        raise ActionRefused("巡查人今天已开始巡查，不能取消该班次")


def cancel_duty(actor: Actor, duty: Duty, reason: str) -> None:
    """取消班次: the duty is removed; who, when, why and what it was stay in the audit log."""
    check_cancel_duty(actor.user, duty)
    reason = clean_text(reason, 200, "取消原因", multiline=False)
    if not reason:
        raise ValidationError("请填写取消原因")
    with transaction.atomic():
        duty = Duty.objects.select_for_update().get(pk=duty.pk)
        record(
            actor,
            "streets.duty_cancelled",
            duty,
            reason,
            day=duty.day.isoformat(),
            user=duty.user_id,
            segment=duty.segment_id,
            grid=duty.grid_id,
        )
        duty.delete()


# --- patrols 巡查 ----------------------------------------------------------------------------------


def check_start_patrol(user: User | None) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    if not scope_for(user).has_role(*PATROL_ROLES):
        raise PermissionDenied("只有信息采集员、网格员和街巷长可以巡查")
    if Patrol.objects.filter(user=user, status=Patrol.Status.OPEN).exists():
        raise ActionRefused("您有一次巡查尚未结束")


def start_patrol(actor: Actor, lat, lng) -> Patrol:
    """开始巡查. Without a duty today it is allowed and flagged 未排班."""
    check_start_patrol(actor.user)
    lat_d, lng_d = _point(lat, lng)
    now = timezone.now()
    day = timezone.localdate(now)
    with transaction.atomic():
        patrol = Patrol.objects.create(
            user=_user(actor),
            day=day,
            started_at=now,
            start_lat=lat_d,
            start_lng=lng_d,
            off_roster=not Duty.objects.filter(user=actor.user, day=day).exists(),
        )
        TrackPoint.objects.create(patrol=patrol, at=now, lat=lat_d, lng=lng_d)
        record(actor, "streets.patrol_started", patrol, "开始巡查", lat=str(lat_d), lng=str(lng_d))
    return patrol


def _check_own_open(user: User | None, patrol: Patrol) -> None:
    if user is None or patrol.user_id != user.pk:
        raise PermissionDenied("只能在自己的巡查中操作")
    if patrol.status != Patrol.Status.OPEN:
        raise ActionRefused("巡查已结束")


check_add_points = _check_own_open
check_check_in = _check_own_open
check_report = _check_own_open
check_end_patrol = _check_own_open


def add_points(actor: Actor, patrol: Patrol, points: Iterable[dict]) -> int:
    """轨迹点: fixes sent from the phone (also late, from its buffer after a lost connection).
    A point already stored for the same moment is skipped; returns how many were added."""
    check_add_points(actor.user, patrol)
    now = timezone.now()
    parsed: list[tuple[dt.datetime, Decimal, Decimal]] = []
    for item in list(points)[: MAX_POINTS_PER_CALL + 1]:
        at = item.get("at")
        if isinstance(at, str):
            at = _parse_moment(at)
        if not isinstance(at, dt.datetime) or timezone.is_naive(at):
            raise ValidationError("轨迹点时间无效")
        if at < patrol.started_at or at > now + dt.timedelta(minutes=5):
            raise ValidationError("轨迹点时间不在本次巡查期间")
        parsed.append((at, *_point(item.get("lat"), item.get("lng"))))
    if len(parsed) > MAX_POINTS_PER_CALL:
        raise ValidationError(f"一次最多上传 {MAX_POINTS_PER_CALL} 个轨迹点")
    with transaction.atomic():
        patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
        _check_own_open(actor.user, patrol)
        known = set(patrol.points.values_list("at", flat=True))
        new = sorted({p[0]: p for p in parsed if p[0] not in known}.values())
        if new:
            TrackPoint.objects.bulk_create(
                TrackPoint(patrol=patrol, at=a, lat=la, lng=ln) for a, la, ln in new
            )
            _retrace(patrol)
            record(actor, "streets.points_added", patrol, f"上传轨迹点 {len(new)} 个", count=len(new))
    return len(new)


def _parse_moment(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _retrace(patrol: Patrol) -> None:
    """Walk the whole track in time order: flag jumps, sum the distance of the plausible legs.
    A jump point is not used as the next leg's start, so one bad fix flags one point."""
    distance = 0.0
    jumps = 0
    last = None
    changed = []
    for point in patrol.points.order_by("at"):
        jump = False
        if last is not None:
            leg = geo.distance_m(last.lat, last.lng, point.lat, point.lng)
            seconds = max((point.at - last.at).total_seconds(), 1.0)
            jump = leg / seconds > MAX_SPEED_MS
            if not jump:
                distance += leg
        if jump != point.jump:
            point.jump = jump
            changed.append(point)
        if jump:
            jumps += 1
        else:
            last = point
    TrackPoint.objects.bulk_update(changed, ["jump"])
    patrol.jumps = jumps
    patrol.distance_m = round(distance, 1)
    patrol.save(update_fields=["jumps", "distance_m"])


def _in_region(region: Region, lat: Decimal, lng: Decimal) -> bool:
    """Is the point in the region? Where the region has no boundary of its own the deepest
    bounded region found must at least be one of its ancestors."""
    found, _ = geo.locate(lat, lng)
    if found is None:
        return False
    return found.path.startswith(region.path) or (
        region.boundary is None and region.path.startswith(found.path)
    )


def check_in(actor: Actor, patrol: Patrol, segment: StreetSegment, lat, lng) -> CheckIn:
    """街巷签到: once per segment and patrol, from a point inside the segment's area."""
    check_check_in(actor.user, patrol)
    lat_d, lng_d = _point(lat, lng)
    if not _in_region(segment.region, lat_d, lng_d):
        raise ValidationError(f"签到位置不在「{segment.name}」所在区域，请到现场签到")
    if CheckIn.objects.filter(patrol=patrol, segment=segment).exists():
        raise ActionRefused("本次巡查已在该街巷签到")
    with transaction.atomic():
        checkin = CheckIn.objects.create(
            patrol=patrol, segment=segment, at=timezone.now(), lat=lat_d, lng=lng_d
        )
        record(
            actor,
            "streets.checked_in",
            patrol,
            f"签到 {segment.name}",
            segment=segment.pk,
            lat=str(lat_d),
            lng=str(lng_d),
        )
    return checkin


def summarise(patrol: Patrol) -> dict:
    """The patrol's summary: segments covered, duration, track, problems reported, visits."""
    end = patrol.ended_at or timezone.now()
    reports = list(patrol.reports.values_list("kind", "case_id"))
    return {
        "segments": patrol.checkins.count(),
        "minutes": int((end - patrol.started_at).total_seconds() // 60),
        "points": patrol.points.count(),
        "jumps": patrol.jumps,
        "distance_m": patrol.distance_m,
        "reports": len(reports),
        "cases": sum(1 for _, case in reports if case is not None),
        "social": sum(1 for kind, _ in reports if kind in Report.SOCIAL_KINDS),
        "visits": patrol.visits.count(),
    }


def end_patrol(actor: Actor, patrol: Patrol, lat, lng) -> Patrol:
    """结束巡查, with its summary."""
    check_end_patrol(actor.user, patrol)
    lat_d, lng_d = _point(lat, lng)
    with transaction.atomic():
        patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
        _check_own_open(actor.user, patrol)
        now = timezone.now()
        TrackPoint.objects.get_or_create(patrol=patrol, at=now, defaults={"lat": lat_d, "lng": lng_d})
        _retrace(patrol)
        patrol.status = Patrol.Status.ENDED
        patrol.ended_at = now
        patrol.end_lat, patrol.end_lng = lat_d, lng_d
        patrol.summary = summarise(patrol)
        patrol.save(update_fields=["status", "ended_at", "end_lat", "end_lng", "summary"])
        record(actor, "streets.patrol_ended", patrol, "结束巡查", **patrol.summary)
    return patrol


# --- 六必报 and 六必到 -------------------------------------------------------------------------------


def _community_of(lat: Decimal, lng: Decimal) -> Region | None:
    region, grid = geo.locate(lat, lng)
    if grid is not None:
        return grid.community
    while region is not None and region.level not in (Region.Level.COMMUNITY, Region.Level.VILLAGE):
        region = region.parent
    return region


def report(
    actor: Actor,
    patrol: Patrol,
    *,
    kind: str,
    description: str,
    lat,
    lng,
    category: Category | None = None,
    photos_uploaded: Sequence = (),
    person_name: str = "",
    person_phone: str = "",
) -> Report:
    """六必报: a city problem becomes a case (category mapped from the kind unless chosen); a
    social matter goes to its community's list, the person's data kept for that list only."""
    check_report(actor.user, patrol)
    if kind not in Report.Kind.values:
        raise ValidationError("报告类型无效")
    description = clean_text(description, 4000, "情况说明")
    if not description:
        raise ValidationError("请填写情况说明")
    lat_d, lng_d = _point(lat, lng)
    social = kind in Report.SOCIAL_KINDS
    person_name = clean_text(person_name, 50, "当事人姓名", multiline=False)
    person_phone = clean_text(person_phone, 20, "当事人电话", multiline=False)
    community = None
    if social:
        community = _community_of(lat_d, lng_d)
        if community is None:
            raise ValidationError("位置不在任何社区或村内")
    elif person_name or person_phone:
        raise ValidationError("城市管理问题不登记当事人信息")
    with photos.atomic():
        case = None
        if not social:
            if category is None:
                cat_kind, code = CITY_CATEGORY[kind]
                category = Category.objects.get(kind=cat_kind, code=code)
            case = report_case(
                actor,
                category=category,
                description=f"【六必报·{Report.Kind(kind).label}】{description}",
                lat=lat_d,
                lng=lng_d,
                photos_uploaded=photos_uploaded,
            )
        item = Report.objects.create(
            patrol=patrol,
            kind=kind,
            reporter=_user(actor),
            reported_at=timezone.now(),
            lat=lat_d,
            lng=lng_d,
            description=description,
            case=case,
            community=community,
            person_name=person_name,
            person_phone=person_phone,
        )
        # The audit line carries no personal data.
        record(
            actor,
            "streets.reported",
            item,
            f"六必报 {item.get_kind_display()}",
            case=case.pk if case else None,
        )
    return item


def check_log_visit(user: User | None) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    if not scope_for(user).has_role(*PATROL_ROLES):
        raise PermissionDenied("只有信息采集员、网格员和街巷长登记六必到")


def log_visit(
    actor: Actor, *, kind: str, place: str, note: str = "", lat=None, lng=None, patrol: Patrol | None = None
) -> Visit:
    """六必到: the chief was there (kind, place, time, note; the point when the phone has one)."""
    check_log_visit(actor.user)
    if patrol is not None:
        _check_own_open(actor.user, patrol)
    if kind not in Visit.Kind.values:
        raise ValidationError("六必到类型无效")
    place = clean_text(place, 200, "地点", multiline=False)
    if not place:
        raise ValidationError("请填写地点")
    note = clean_text(note, 500, "情况记录")
    lat_d, lng_d = _point(lat, lng) if lat not in (None, "") and lng not in (None, "") else (None, None)
    with transaction.atomic():
        visit = Visit.objects.create(
            user=_user(actor),
            patrol=patrol,
            kind=kind,
            place=place,
            note=note,
            at=timezone.now(),
            lat=lat_d,
            lng=lng_d,
        )
        record(actor, "streets.visited", visit, f"六必到 {visit.get_kind_display()} {place}")
    return visit


# --- the community list of social reports (restricted) --------------------------------------------


def social_reports_for(user: User) -> QuerySet[Report]:
    """Social reports ``user`` may list: HQ all; the staff of a territorial unit those of its
    communities; a reporter their own. Dispatchers, inspectors, departments and other field
    workers see none. Lists show the person's data masked (``mask_name``/``mask_phone``)."""
    qs = Report.objects.filter(kind__in=Report.SOCIAL_KINDS).select_related("community", "reporter")
    if not user.is_authenticated:
        return qs.none()
    if _is_hq(user):
        return qs
    condition = Q(reporter=user)
    for unit in _staff_units(user):
        condition |= Q(community__path__startswith=unit.region.path)
    return qs.filter(condition)


def mask_name(name: str) -> str:
    return (name[0] + "*" * max(len(name) - 1, 1)) if name else ""


def mask_phone(phone: str) -> str:
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * len(phone)


def check_reveal(user: User | None, item: Report) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    if not item.is_social:
        raise ValidationError("只有社会事务报告登记当事人信息")
    allowed = _is_hq(user) or any(
        item.community is not None and item.community.path.startswith(u.region.path)
        for u in _staff_units(user)
    )
    if not allowed:
        raise PermissionDenied("只有本社区工作人员可以查看当事人信息")


def reveal_person(actor: Actor, item: Report) -> dict[str, str]:
    """查看当事人信息: the unmasked name and phone, each read written to the audit trail."""
    check_reveal(actor.user, item)
    with transaction.atomic():
        record(actor, "streets.person_read", item, "查看六必报当事人信息")
    return {"name": item.person_name, "phone": item.person_phone}


# --- coverage 覆盖率 -------------------------------------------------------------------------------


@dataclass
class Coverage:
    unit: Unit
    day: dt.date
    segments: int
    patrolled: int
    share: float | None  # None: the unit has no segments ("no data")
    missed: list[Duty] = field(default_factory=list)
    patrol_ids: list[int] = field(default_factory=list)


def coverage(unit: Unit, day: dt.date) -> Coverage:
    """巡查覆盖率: of the unit's segments, how many had a check-in on a patrol that day; the day's
    segment duties whose patroller did not check in there (missed); the patrols behind it."""
    segment_ids = set(unit_segments(unit).values_list("pk", flat=True))
    checkins = CheckIn.objects.filter(patrol__day=day, segment_id__in=segment_ids)
    patrolled = set(checkins.values_list("segment_id", flat=True))
    done = set(checkins.values_list("patrol__user_id", "segment_id"))
    duties = Duty.objects.filter(unit=unit, day=day, segment__isnull=False).select_related("user", "segment")
    missed = [d for d in duties if (d.user_id, d.segment_id) not in done]
    total = len(segment_ids)
    return Coverage(
        unit=unit,
        day=day,
        segments=total,
        patrolled=len(patrolled),
        share=(len(patrolled) / total) if total else None,
        missed=missed,
        patrol_ids=sorted(set(checkins.values_list("patrol_id", flat=True))),
    )


def check_view_coverage(user: User | None, unit: Unit) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    scope = scope_for(user)
    if not (
        scope.everything
        or _staff_units(user).filter(pk=unit.pk).exists()
        or scope.has_role(Role.LEADER)
        and scope.allows_region(unit.region)
    ):
        raise PermissionDenied("您无权查看该单位的巡查覆盖率")


def coverage_units(user: User) -> QuerySet[Unit]:
    """The territorial units whose coverage ``user`` may read."""
    units = Unit.objects.filter(kind__in=Unit.TERRITORIAL_KINDS, is_active=True).select_related("region")
    scope = scope_for(user)
    if scope.everything:
        return units
    ids = set(_staff_units(user).values_list("pk", flat=True))
    if scope.has_role(Role.LEADER):
        ids |= set(scope.filter(units, unit=None, region="region").values_list("pk", flat=True))
    return units.filter(pk__in=ids)


# --- the monthly log per chief 月度履职记录 ----------------------------------------------------------


@dataclass
class MonthlyLog:
    user: User
    first: dt.date
    duties: int
    patrols: int
    off_roster: int
    checkins: int
    missed: int
    reports: dict[str, int]
    visits: dict[str, int]


def check_view_log(viewer: User | None, user: User) -> None:
    """Own log; district-wide roles; the staff or leaders of a unit the person is on the roster of."""
    if viewer is None or not viewer.is_authenticated:
        raise PermissionDenied("请先登录")
    if viewer.pk == user.pk or scope_for(viewer).everything:
        return
    if not Duty.objects.filter(user=user, unit__in=coverage_units(viewer)).exists():
        raise PermissionDenied("您无权查看该人员的履职记录")


def monthly_log(user: User, year: int, month: int) -> MonthlyLog:
    """A patroller's month: duties, patrols (off the roster), check-ins, segment duties missed
    (no check-in by them on that segment that day), 六必报 and 六必到 by kind."""
    try:
        first = dt.date(year, month, 1)
    except ValueError:
        raise ValidationError("月份无效") from None
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    in_month = {"day__gte": first, "day__lt": nxt}
    duties = Duty.objects.filter(user=user, **in_month)
    patrols = Patrol.objects.filter(user=user, **in_month)
    done = set(CheckIn.objects.filter(patrol__in=patrols).values_list("patrol__day", "segment_id"))
    missed = sum(1 for d in duties.filter(segment__isnull=False) if (d.day, d.segment_id) not in done)
    reports = Report.objects.filter(reporter=user, reported_at__date__gte=first, reported_at__date__lt=nxt)
    visits = Visit.objects.filter(user=user, at__date__gte=first, at__date__lt=nxt)
    return MonthlyLog(
        user=user,
        first=first,
        duties=duties.count(),
        patrols=patrols.count(),
        off_roster=patrols.filter(off_roster=True).count(),
        checkins=len(done),
        missed=missed,
        reports={k: reports.filter(kind=k).count() for k in Report.Kind.values},
        visits={k: visits.filter(kind=k).count() for k in Visit.Kind.values},
    )


# --- what a person may do -----------------------------------------------------------------------

PATROL_CHECKS = {
    "points": check_add_points,
    "check_in": check_check_in,
    "report": check_report,
    "end": check_end_patrol,
}


def allowed_actions(user: User, patrol: Patrol) -> list[str]:
    """The steps ``user`` may take on ``patrol`` now (pages and API show these)."""
    allowed = []
    for name, check in PATROL_CHECKS.items():
        try:
            check(user, patrol)
        except (PermissionDenied, ValidationError, ActionRefused):
            continue
        allowed.append(name)
    return allowed


def visible_patrols(user: User) -> QuerySet[Patrol]:
    """Patrols ``user`` may read: their own; HQ and district-wide roles all; a unit's staff and
    leaders those of people on the unit's roster."""
    qs = Patrol.objects.select_related("user")
    if not user.is_authenticated:
        return qs.none()
    scope = scope_for(user)
    if scope.everything:
        return qs
    units = coverage_units(user)
    return qs.filter(Q(user=user) | Q(user__patrol_duties__unit__in=units)).distinct()


# --- field verification 现场核查 (the step itself is ``cases.services.field_check_case``) ----------


def field_checks_for(user: User) -> QuerySet[FieldCheck]:
    """The field checks that went to ``user`` (the collector's or chief's 待核查 list and history)."""
    if not user.is_authenticated:
        return FieldCheck.objects.none()
    return FieldCheck.objects.filter(verifier=user).select_related("case__category", "case__region", "grid")


# --- joint enforcement days 集中联合执法 ------------------------------------------------------------

# Who plans a joint action for a territorial unit (besides HQ): its staff and its street chiefs.
PLANNER_ROLES = (*UNIT_STAFF_ROLES, Role.STREET_CHIEF)


def joint_far_meters() -> float:
    """A sign-in farther than this from the action's place is flagged (not refused)."""
    return float(getattr(settings, "STREETS_JOINT_FAR_METERS", 500))


def joint_forces() -> QuerySet[Unit]:
    """The units that may be summoned: the "5+3" forces named by ``STREETS_JOINT_FORCES`` (unit
    codes), or every active district department when the setting is empty."""
    units = Unit.objects.filter(is_active=True)
    codes = getattr(settings, "STREETS_JOINT_FORCES", ())
    if codes:
        return units.filter(code__in=codes).order_by("code")
    return units.filter(kind=Unit.Kind.DEPARTMENT).order_by("code")


def planner_units(user: User) -> QuerySet[Unit]:
    """The territorial units for which ``user`` may plan joint actions."""
    units = Unit.objects.filter(kind__in=Unit.TERRITORIAL_KINDS, is_active=True).select_related("region")
    if not user.is_authenticated:
        return units.none()
    if _is_hq(user):
        return units
    return units.filter(memberships__user=user, memberships__role__in=PLANNER_ROLES).distinct()


def _member_unit_ids(user: User) -> set[int]:
    return set(Membership.objects.filter(user=user).values_list("unit_id", flat=True))


def visible_actions(user: User) -> QuerySet[JointAction]:
    """Joint actions ``user`` may read: all for district-wide roles; those organised by their
    units or by a community under their street; those their units are summoned to."""
    qs = JointAction.objects.select_related("organiser", "lead_unit")
    if not user.is_authenticated:
        return qs.none()
    if scope_for(user).everything:
        return qs
    units = _member_unit_ids(user)
    condition = Q(organiser__in=units) | Q(summons__unit__in=units)
    for unit in _staff_units(user):
        condition |= Q(organiser__region__path__startswith=unit.region.path)
    return qs.filter(pk__in=JointAction.objects.filter(condition).values("pk"))


def next_lead(organiser: Unit, forces: Sequence[Unit] | None = None) -> Unit | None:
    """举旗子 rotates: the force after the lead of the organiser's last action (in the order of
    ``forces``, by default ``joint_forces()``), the first for its first action. The planning form
    offers it; the planner may pick another."""
    forces = list(joint_forces() if forces is None else forces)
    if not forces:
        return None
    last = JointAction.objects.filter(organiser=organiser).order_by("-day", "-pk").first()
    ids = [f.pk for f in forces]
    if last is None or last.lead_unit_id not in ids:
        return forces[0]
    return forces[(ids.index(last.lead_unit_id) + 1) % len(forces)]


def check_plan_action(user: User | None, organiser: Unit) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    if not organiser.is_territorial:
        raise ValidationError("只有街道、乡镇、社区、村可以组织集中联合执法")
    if not planner_units(user).filter(pk=organiser.pk).exists():
        raise PermissionDenied("只有创文办或本单位工作人员、街巷长可以组织集中联合执法")


def plan_action(
    actor: Actor,
    organiser: Unit,
    *,
    title: str,
    day: dt.date,
    start_time: dt.time,
    place: str,
    lat,
    lng,
    units: Sequence[Unit],
    lead_unit: Unit,
    note: str = "",
) -> JointAction:
    """吹哨: plan a joint action at a place inside the organiser's area, summon units of the "5+3"
    forces, one of them leading 举旗子 (the lead rotates: the organiser picks it each time)."""
    check_plan_action(actor.user, organiser)
    title = clean_text(title, 100, "行动名称", multiline=False)
    place = clean_text(place, 200, "集合地点", multiline=False)
    note = clean_text(note, 500, "行动内容")
    if not title or not place:
        raise ValidationError("请填写行动名称和集合地点")
    if day < timezone.localdate():
        raise ValidationError("行动日期不能早于今天")
    lat_d, lng_d = _point(lat, lng)
    if not _in_region(organiser.region, lat_d, lng_d):
        raise ValidationError(f"集合地点不在{organiser.name}辖区内")
    chosen = list({u.pk: u for u in units}.values())
    if not chosen:
        raise ValidationError("请选择被召集的执法力量")
    forces = set(joint_forces().values_list("pk", flat=True))
    outside = [u.name for u in chosen if u.pk not in forces]
    if outside:
        raise ValidationError(f"不在“5+3”执法力量中：{'、'.join(outside)}")
    if lead_unit.pk not in {u.pk for u in chosen}:
        raise ValidationError("牵头单位须是被召集的单位之一")
    with transaction.atomic():
        action = JointAction.objects.create(
            organiser=organiser,
            title=title,
            day=day,
            start_time=start_time,
            place=place,
            lat=lat_d,
            lng=lng_d,
            lead_unit=lead_unit,
            note=note,
            created_by=actor.user,
            created_at=timezone.now(),
        )
        JointSummons.objects.bulk_create(JointSummons(action=action, unit=u) for u in chosen)
        record(
            actor,
            "streets.joint_planned",
            action,
            f"集中联合执法 {day} {title}",
            units=[u.pk for u in chosen],
            lead_unit=lead_unit.pk,
        )
    return action


def check_sign_in(user: User | None, action: JointAction, unit: Unit) -> JointSummons:
    """报到: a person of a summoned unit, on the action's day, once per unit."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    summons = JointSummons.objects.filter(action=action, unit=unit).first()
    if summons is None:
        raise ValidationError(f"{unit.name}未被召集参加本次行动")
    if unit.pk not in _member_unit_ids(user):
        raise PermissionDenied("只有被召集单位的人员可以签到")
    if action.day != timezone.localdate():
        raise ActionRefused("只能在行动当天签到")
    if summons.signed_in_at is not None:
        raise ActionRefused(f"{unit.name}已于 {timezone.localtime(summons.signed_in_at):%H:%M} 签到")
    return summons


def sign_in(actor: Actor, action: JointAction, unit: Unit, lat, lng) -> JointSummons:
    """签到 with the phone's point and the time; far from the place it is flagged, not refused."""
    check_sign_in(actor.user, action, unit)
    lat_d, lng_d = _point(lat, lng)
    with transaction.atomic():
        summons = JointSummons.objects.select_for_update().get(action=action, unit=unit)
        check_sign_in(actor.user, action, unit)
        if summons.signed_in_at is not None:  # signed in meanwhile (the row was locked)
            raise ActionRefused(f"{unit.name}已签到")
        distance = round(geo.distance_m(action.lat, action.lng, lat_d, lng_d), 1)
        summons.signed_in_at = timezone.now()
        summons.signed_in_by = actor.user
        summons.lat, summons.lng, summons.distance_m = lat_d, lng_d, distance
        summons.far = distance > joint_far_meters()
        summons.save()
        record(
            actor,
            "streets.joint_signed_in",
            action,
            f"{unit.name} 签到{'（位置偏远）' if summons.far else ''}",
            unit=unit.pk,
            lat=str(lat_d),
            lng=str(lng_d),
            distance_m=distance,
        )
    return summons


def acting_units(user: User, action: JointAction) -> list[Unit]:
    """The summoned units of ``action`` that ``user`` belongs to."""
    units = _member_unit_ids(user) if user.is_authenticated else set()
    return [s.unit for s in action.summons.select_related("unit") if s.unit_id in units]


def check_record_finding(user: User | None, action: JointAction) -> None:
    """Findings are recorded on the action's day by the organiser's people or a summoned unit's."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    organisers = planner_units(user).filter(pk=action.organiser_id).exists()
    if not (organisers or acting_units(user, action)):
        raise PermissionDenied("只有组织单位或被召集单位的人员可以登记问题")
    if action.day != timezone.localdate():
        raise ActionRefused("只能在行动当天登记发现的问题")


def record_finding(
    actor: Actor,
    action: JointAction,
    *,
    outcome: str,
    description: str,
    lat,
    lng,
    category: Category | None = None,
    unit: Unit | None = None,
    photos_uploaded: Sequence = (),
) -> JointFinding:
    """联合执法发现的问题: a case through the case intake (``report_case``: its photo, place and
    reporter rules apply), or handled on the spot 现场处置 by a summoned unit with one photo."""
    check_record_finding(actor.user, action)
    if outcome not in JointFinding.Outcome.values:
        raise ValidationError("处理方式无效")
    description = clean_text(description, 4000, "问题描述")
    if not description:
        raise ValidationError("请填写问题描述")
    lat_d, lng_d = _point(lat, lng)
    summoned = set(action.summons.values_list("unit_id", flat=True))
    valid: list = []
    if outcome == JointFinding.Outcome.ON_SPOT:
        if unit is None or unit.pk not in summoned:
            raise ValidationError("请选择现场处置的被召集单位")
        valid = photos.validate_all(photos_uploaded)
        if len(valid) != 1:
            raise ValidationError("现场处置请上传一张处置照片")
    elif category is None:
        raise ValidationError("转为案件请选择案件类别")
    with photos.atomic():
        case = None
        files = None
        if outcome == JointFinding.Outcome.CASE:
            assert category is not None
            case = report_case(
                actor,
                category=category,
                description=f"【集中联合执法·{action.title}】{description}",
                lat=lat_d,
                lng=lng_d,
                photos_uploaded=photos_uploaded,
            )
        else:
            files = photos.store_files(valid[0], "streets")
        finding = JointFinding.objects.create(
            action=action,
            outcome=outcome,
            description=description,
            lat=lat_d,
            lng=lng_d,
            recorded_by=_user(actor),
            recorded_at=timezone.now(),
            case=case,
            unit=unit if outcome == JointFinding.Outcome.ON_SPOT else None,
            photo_original=files.original if files else "",
            photo=files.image if files else "",
            photo_thumbnail=files.thumbnail if files else "",
        )
        record(
            actor,
            "streets.joint_finding",
            action,
            f"{finding.get_outcome_display()}：{description[:60]}",
            finding=finding.pk,
            case=case.pk if case else None,
            unit=finding.unit_id,
        )
    return finding


@dataclass
class Attendance:
    """One unit's attendance at joint actions: summoned, signed in (of which far from the place),
    no-shows (actions already over without a sign-in) and those still to come."""

    unit_id: int
    unit: str
    summoned: int
    attended: int
    far: int
    no_show: int
    pending: int

    @property
    def rate(self) -> float | None:
        """Signed in ÷ (signed in + no-shows); None ("no data") when nothing is decided yet."""
        decided = self.attended + self.no_show
        return self.attended / decided if decided else None


def attendance(start: dt.date, end: dt.date, *, at: dt.datetime | None = None, unit: Unit | None = None):
    """报到率: per summoned unit, the joint actions of days ``start``..``end`` (both included), as of
    ``at`` (default now): a sign-in by ``at`` counts as attended; an action whose day ended before
    ``at`` without one is a no-show; the rest are pending. One aggregate query (the assessment can
    read it for any period)."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    signed = Q(signed_in_at__isnull=False, signed_in_at__lte=at)
    qs = JointSummons.objects.filter(action__day__gte=start, action__day__lte=end)
    if unit is not None:
        qs = qs.filter(unit=unit)
    rows = (
        qs.values("unit_id", "unit__name")
        .annotate(
            summoned=Count("pk"),
            attended=Count("pk", filter=signed),
            far=Count("pk", filter=signed & Q(far=True)),
            no_show=Count("pk", filter=~signed & Q(action__day__lt=today)),
        )
        .order_by("unit__name", "unit_id")
    )
    return [
        Attendance(
            unit_id=r["unit_id"],
            unit=r["unit__name"],
            summoned=r["summoned"],
            attended=r["attended"],
            far=r["far"],
            no_show=r["no_show"],
            pending=r["summoned"] - r["attended"] - r["no_show"],
        )
        for r in rows
    ]


def attendance_by_unit(
    unit_ids: Iterable[int], start: dt.date, end: dt.date, at: dt.datetime
) -> dict[int, tuple[list[int], list[int]]]:
    """The assessment's query point 联合执法报到: per unit, the ids of its summons to the joint
    actions of days ``start``..``end`` that are decided as of ``at`` (signed in by ``at``, or the
    action's day over by then without a sign-in) and of those signed in, by the rules of
    ``attendance``. Units with nothing decided are left out. One query."""
    today = timezone.localdate(at)
    out: dict[int, tuple[list[int], list[int]]] = {}
    rows = JointSummons.objects.filter(
        unit_id__in=list(unit_ids), action__day__gte=start, action__day__lte=end
    ).values_list("unit_id", "pk", "signed_in_at", "action__day")
    for unit_id, pk, signed_in_at, day in rows.order_by("pk"):
        signed = signed_in_at is not None and signed_in_at <= at
        if signed or day < today:
            decided, attended = out.setdefault(unit_id, ([], []))
            decided.append(pk)
            if signed:
                attended.append(pk)
    return out


def check_view_attendance(user: User | None) -> None:
    """The attendance figures: district-wide roles, leaders, and the staff of territorial units."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    scope = scope_for(user)
    if not (scope.everything or scope.has_role(Role.LEADER) or _staff_units(user).exists()):
        raise PermissionDenied("您无权查看联合执法报到统计")


def action_allowed(user: User, action: JointAction) -> dict[str, list[Unit] | bool]:
    """What ``user`` may do on the action page now: sign in for which of their units, record."""
    units = []
    for unit in acting_units(user, action):
        try:
            check_sign_in(user, action, unit)
        except (PermissionDenied, ValidationError, ActionRefused):
            continue
        units.append(unit)
    try:
        check_record_finding(user, action)
        may_record = True
    except (PermissionDenied, ValidationError, ActionRefused):
        may_record = False
    return {"sign_in": units, "finding": may_record}


# --- public street signs 街巷长联系牌 -------------------------------------------------------------


def region_centre(region: Region) -> tuple[Decimal, Decimal] | None:
    """The middle of a region's boundary box (lat, lng), or None without a boundary."""
    ring = region.boundary
    if not ring:
        return None
    try:
        lngs = [float(p[0]) for p in ring]
        lats = [float(p[1]) for p in ring]
    except (TypeError, ValueError, IndexError):
        return None
    q = Decimal("0.000001")
    return (
        Decimal(str((min(lats) + max(lats)) / 2)).quantize(q),
        Decimal(str((min(lngs) + max(lngs)) / 2)).quantize(q),
    )


@dataclass
class TeamContact:
    """One service team on a sign: the phone masked, the call through the district's number."""

    kind: str
    label: str
    name: str
    leader: str
    masked_phone: str
    tel: str  # a tel: link (the district's switchboard, then the team's extension), "" without one


@dataclass
class Sign:
    """街巷长联系牌: what the public page of a segment shows."""

    segment: StreetSegment
    chief_name: str
    chief_phone: str  # masked
    teams: list[TeamContact]
    centre: tuple[Decimal, Decimal] | None


def call_link(extension: str = "") -> str:
    """``tel:`` through the number the district configures (``STREETS_SIGN_CALL_NUMBER``), with the
    extension dialled after a pause; "" when the district has set no number."""
    number = "".join(
        c for c in str(getattr(settings, "STREETS_SIGN_CALL_NUMBER", "")) if c.isdigit() or c == "+"
    )
    if not number:
        return ""
    digits = "".join(c for c in extension if c.isdigit())
    return f"tel:{number},{digits}" if digits else f"tel:{number}"


def segment_teams(segment: StreetSegment) -> dict[str, ServiceTeam]:
    """For each kind, the team of the segment's region or of the nearest region above it."""
    parts = segment.region.path.strip("/").split("/")
    prefixes = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    teams: dict[str, ServiceTeam] = {}
    rows = ServiceTeam.objects.filter(region__path__in=prefixes).select_related("region")
    for team in sorted(rows, key=lambda t: len(t.region.path)):
        teams[team.kind] = team  # deeper regions come later and win
    return teams


def sign_for(segment: StreetSegment) -> Sign:
    """The public sign of a segment: its chief, the three service teams (市容, 环卫, 市政)."""
    chief = segment.chief
    teams = segment_teams(segment)
    contacts = []
    for kind in ServiceTeam.Kind:
        team = teams.get(kind)
        if team is None:
            continue
        contacts.append(
            TeamContact(
                kind=kind.value,
                label=kind.label,
                name=team.name,
                leader=team.leader,
                masked_phone=mask_phone(team.phone),
                tel=call_link(team.extension),
            )
        )
    return Sign(
        segment=segment,
        chief_name=str(chief) if chief is not None else "",
        chief_phone=mask_phone(chief.phone) if chief is not None else "",
        teams=contacts,
        centre=region_centre(segment.region),
    )


def check_print_signs(user: User | None, unit: Unit) -> None:
    """Printing a unit's signs: HQ and the unit's own staff (as for its roster)."""
    check_manage_roster(user, unit)
