"""The actions of volunteer services: every state change is one function here.

Each ``do``-style function takes the ``Actor`` first, calls its ``check_*`` (who may, in which state,
on which target: ``PermissionDenied`` 403, ``ValidationError`` 400, ``ActionRefused`` 409), then
locks the row it changes inside ``transaction.atomic()``, checks the state again on the locked row,
changes it and writes an ``Event``. A refused step changes nothing.

The order loop 点单 → 派单 → 接单 → 服务 → 评单::

    ordered 待派单 ─assign 派单→ assigned 待接单 ─accept 接单→ accepted 已接单 ─first sign-in→ serving 服务中
        ▲                          │ decline 拒单 (reason, counted)                                │ complete
        └──────────────────────────┘                                        rated 已评价 ←rate 评单─ served 待评价

Deadlines in working days (``workdays.calendar``): assignment ``VOLUNTEER_ASSIGN_DAYS`` (1) after
the order, acceptance ``VOLUNTEER_ACCEPT_DAYS`` (1) after assignment, service
``VOLUNTEER_SERVE_DAYS`` (5) after acceptance; ``Order.due_at`` is the running one.

Hours: a volunteer put on an order (or enrolled in an activity) signs in and out on site with GPS;
a sign-in farther than ``VOLUNTEER_SIGN_IN_METRES`` from the place is flagged. The team leader
confirms the hours, which earns points by the ``PointsRule`` of the kind of service.

Points bank 文明银行: ``_post`` appends a ledger line under a lock of the volunteer's row and keeps
``points_balance`` equal to the ledger's sum, never below zero; redemption locks the volunteer,
then the goods, so concurrent redemptions queue and neither balance nor stock goes negative.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from cases import photos
from cases.geo import distance_m
from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import User
from workdays.clock import add_working_days

from . import access, notices
from .models import (
    Activity,
    Attendance,
    Event,
    Goods,
    Order,
    OrderPhoto,
    PointsEntry,
    PointsRule,
    Redemption,
    Service,
    ServiceKind,
    Team,
    TeamMember,
    Volunteer,
    clean_code,
)
from .privacy import clean_text, normalize_phone

MAX_HOURS_PER_RECORD = Decimal("24")


def _setting(name: str, default):
    return getattr(settings, name, default)


def _user(user: User | None) -> User:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    return user


def _event(actor: Actor, action: str, role: str = "", reason: str = "", **targets_and_data) -> Event:
    targets = {
        k: targets_and_data.pop(k)
        for k in ("order", "activity", "volunteer", "redemption")
        if k in targets_and_data
    }
    return Event.objects.create(
        action=action,
        actor=actor.user,
        actor_role=role,
        ip=actor.ip,
        via=actor.via,
        reason=reason,
        data=targets_and_data,
        **targets,
    )


def _staff_role(user: User | None) -> str:
    return "hq" if access.is_hq(user) else "station"


# ---------------------------------------------------------------------------------------------
# Real-name data


def may_read_real_name(user: User | None, volunteer: Volunteer) -> bool:
    """HQ, and the managers of a station one of the volunteer's teams belongs to (or above it)."""
    if user is None or not user.is_authenticated:
        return False
    stations = access.managed_station_ids(user)
    if stations is None:
        return True
    return volunteer.memberships.filter(team__station_id__in=stations).exists()


def read_real_name(actor: Actor, volunteer: Volunteer) -> dict[str, str]:
    """The volunteer's name, ID number and phone in full; every read is logged."""
    if not may_read_real_name(actor.user, volunteer):
        raise PermissionDenied("只有所属阵地的管理员可以查看志愿者实名信息")
    record(actor, "volunteer.read_real_name", volunteer, f"查看志愿者 {volunteer.number} 的实名信息")
    return {"name": volunteer.name, "id_number": volunteer.id_number, "phone": volunteer.phone}


def may_read_order_contact(user: User | None, order: Order) -> bool:
    """The order's station staff, and the leader of the team that accepted it (to arrange the visit)."""
    if user is None or not user.is_authenticated:
        return False
    if access.manages_station(user, order.station_id):
        return True
    return order.status not in (Order.Status.ORDERED, Order.Status.ASSIGNED) and access.leads(
        user, order.team_id
    )


def read_order_contact(actor: Actor, order: Order) -> dict[str, str]:
    if not may_read_order_contact(actor.user, order):
        raise PermissionDenied("您不能查看点单群众的联系方式")
    record(actor, "volunteers.order.read_contact", order, f"查看订单 {order.code} 的联系方式")
    return {"phone": order.phone, "name": order.name}


# ---------------------------------------------------------------------------------------------
# 点单: ordering


def check_place_order(user: User | None, service: Service, channel: str) -> None:
    if not service.is_active:
        raise ActionRefused("该服务项目已下架")
    if channel == Order.Channel.STAFF and not (
        user is not None and access.manages_station(user, service.station_id)
    ):
        raise PermissionDenied("只有阵地管理员可以代群众录入点单")


def place_order(
    actor: Actor,
    service: Service,
    *,
    description: str,
    address: str,
    phone: str,
    name: str = "",
    people: int = 1,
    wanted_on: dt.date | None = None,
    lat: float | None = None,
    lng: float | None = None,
    channel: str = Order.Channel.PUBLIC,
) -> Order:
    """点单: a citizen (public page, API) or station staff (phone call, visit) orders a service."""
    check_place_order(actor.user, service, channel)
    errors: dict[str, list[str]] = {}
    fields = {}
    for field, value, length, what in (
        ("description", description, 500, "需求描述"),
        ("address", address, 200, "服务地点"),
        ("name", name, 50, "称呼"),
    ):
        try:
            fields[field] = clean_text(value, length, what, required=field != "name")
        except ValidationError as exc:
            errors[field] = exc.messages
    try:
        fields["phone"] = normalize_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    if not 1 <= int(people or 0) <= 10000:
        errors["people"] = ["服务人数应在 1 到 10000 之间"]
    if (lat is None) != (lng is None) or (lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)):  # type: ignore[operator]
        errors["lat"] = ["位置坐标不正确"]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.create(
            service=service,
            station=service.station,
            channel=channel,
            people=int(people),
            wanted_on=wanted_on,
            lat=lat,
            lng=lng,
            ordered_at=now,
            due_at=add_working_days(now, _setting("VOLUNTEER_ASSIGN_DAYS", 1)),
            **fields,
        )
        _event(actor, "order", "citizen" if channel != Order.Channel.STAFF else "station", order=order)
    return order


def order_by_code(code: str, phone: str) -> Order | None:
    """The order with this tracking code when ``phone`` is the number it was placed with."""
    order = Order.objects.select_related("service", "station", "team").filter(code=clean_code(code)).first()
    try:
        if order is not None and normalize_phone(phone) == order.phone:
            return order
    except ValidationError:
        pass
    return None


# ---------------------------------------------------------------------------------------------
# 派单: assignment


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _require_order_status(order: Order, *statuses: str) -> None:
    if order.status not in statuses:
        raise ActionRefused(f"订单{order.get_status_display()}，不能执行此操作")


def suggest_teams(order: Order, limit: int = 5) -> list:
    """Teams for an order, best first: those with the service's kind among their skills, then
    those of the order's station, of its parent, then the rest; fewer open orders first."""
    station = order.station
    near = {station.pk: 0}
    if station.parent_id:
        near[station.parent_id] = 1
    open_orders = Count(
        "orders",
        filter=Q(orders__status__in=(Order.Status.ASSIGNED, Order.Status.ACCEPTED, Order.Status.SERVING)),
    )
    candidates = list(
        Team.objects.filter(is_active=True)
        .filter(
            Q(station_id__in=near)
            | Q(station__parent_id=station.pk)
            | Q(station__parent_id=station.parent_id)
        )
        .annotate(load=open_orders)
    )
    kind = order.service.kind

    def rank(team: Team) -> tuple:
        return (kind not in team.skill_list, near.get(team.station_id, 2), team.load, team.code)  # type: ignore[attr-defined]

    return sorted(candidates, key=rank)[:limit]


def check_assign(user: User | None, order: Order, team: Team | None = None) -> None:
    user = _user(user)
    if not access.manages_station(user, order.station_id):
        raise PermissionDenied("只有该阵地（或上级阵地）的管理员可以派单")
    _require_order_status(order, Order.Status.ORDERED)
    if team is not None and not team.is_active:
        raise ValidationError({"team": ["该服务队已停用"]})


def assign_order(actor: Actor, order: Order, team: Team, reason: str = "") -> Order:
    """派单: station staff give the order to a team (a suggested one or any other)."""
    check_assign(actor.user, order, team)
    reason = clean_text(reason, 500, "说明")
    now = timezone.now()
    with transaction.atomic():
        order = _lock_order(order)
        check_assign(actor.user, order, team)
        order.team = team
        order.status = Order.Status.ASSIGNED
        order.assigned_at = now
        order.due_at = add_working_days(now, _setting("VOLUNTEER_ACCEPT_DAYS", 1))
        order.save(update_fields=["team", "status", "assigned_at", "due_at"])
        suggested = [t.pk for t in suggest_teams(order, limit=1)]
        _event(actor, "assign", _staff_role(actor.user), reason, order=order, team=team.pk,
               suggested=team.pk in suggested)  # fmt: skip
        notices.notify_assigned(order)
    return order


# ---------------------------------------------------------------------------------------------
# 接单 / 拒单: the team's answer


def check_answer(user: User | None, order: Order) -> None:
    user = _user(user)
    if not access.leads(user, order.team_id):
        raise PermissionDenied("只有接到派单的服务队队长可以接单或拒单")
    _require_order_status(order, Order.Status.ASSIGNED)


def accept_order(actor: Actor, order: Order) -> Order:
    """接单: the team leader accepts; the service deadline starts."""
    check_answer(actor.user, order)
    now = timezone.now()
    with transaction.atomic():
        order = _lock_order(order)
        check_answer(actor.user, order)
        order.status = Order.Status.ACCEPTED
        order.accepted_at = now
        order.due_at = add_working_days(now, _setting("VOLUNTEER_SERVE_DAYS", 5))
        order.save(update_fields=["status", "accepted_at", "due_at"])
        _event(actor, "accept", "leader", order=order, team=order.team_id)
    return order


def decline_order(actor: Actor, order: Order, reason: str) -> Order:
    """拒单: the team leader declines with a reason; the order goes back to assignment (counted)."""
    check_answer(actor.user, order)
    reason = clean_text(reason, 500, "拒单理由", required=True)
    now = timezone.now()
    with transaction.atomic():
        order = _lock_order(order)
        check_answer(actor.user, order)
        team_id = order.team_id
        order.team = None
        order.status = Order.Status.ORDERED
        order.assigned_at = None
        order.decline_count += 1
        order.due_at = add_working_days(now, _setting("VOLUNTEER_ASSIGN_DAYS", 1))
        order.save(update_fields=["team", "status", "assigned_at", "decline_count", "due_at"])
        _event(actor, "decline", "leader", reason, order=order, team=team_id)
    return order


# ---------------------------------------------------------------------------------------------
# Serving: the leader puts volunteers on the order; they sign in and out; the leader completes it


def check_staff_order(user: User | None, order: Order) -> None:
    user = _user(user)
    if not access.leads(user, order.team_id):
        raise PermissionDenied("只有承接该订单的服务队队长可以安排志愿者")
    _require_order_status(order, Order.Status.ACCEPTED, Order.Status.SERVING)


def staff_order(actor: Actor, order: Order, volunteers: Iterable[Volunteer]) -> list[Attendance]:
    """派员: the team leader puts members of the team on an accepted order."""
    check_staff_order(actor.user, order)
    chosen = list(volunteers)
    if not chosen:
        raise ValidationError({"volunteers": ["请选择志愿者"]})
    members = set(
        TeamMember.objects.filter(team=order.team, volunteer__is_active=True).values_list(
            "volunteer_id", flat=True
        )
    )
    outsiders = [v.number for v in chosen if v.pk not in members]
    if outsiders:
        raise ValidationError({"volunteers": [f"不是本队在册队员：{'、'.join(outsiders)}"]})
    with transaction.atomic():
        order = _lock_order(order)
        check_staff_order(actor.user, order)
        created = []
        for volunteer in chosen:
            attendance, new = Attendance.objects.get_or_create(volunteer=volunteer, order=order)
            if new:
                created.append(attendance)
        _event(actor, "staff", "leader", order=order, volunteers=[a.volunteer_id for a in created])
    return created


def _place_of(attendance: Attendance) -> tuple[float | None, float | None]:
    target = attendance.order if attendance.order_id else attendance.activity
    return target.lat, target.lng  # type: ignore[union-attr]


def _coordinates(lat, lng) -> tuple[float, float] | tuple[None, None]:
    if lat is None and lng is None:
        return None, None
    try:
        lat_f, lng_f = float(lat), float(lng)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"lat": ["位置坐标不正确"]}) from exc
    if not (-90 <= lat_f <= 90 and -180 <= lng_f <= 180):
        raise ValidationError({"lat": ["位置坐标不正确"]})
    return lat_f, lng_f


def check_sign(user: User | None, attendance: Attendance, step: str) -> None:
    user = _user(user)
    if attendance.volunteer.user_id != user.pk:
        raise PermissionDenied("只能为本人签到、签退")
    if step == "in":
        if attendance.signed_in_at is not None:
            raise ActionRefused("已经签到过了")
        if attendance.order_id:
            _require_order_status(attendance.order, Order.Status.ACCEPTED, Order.Status.SERVING)  # type: ignore[arg-type]
        elif attendance.activity.ends_at < timezone.now():  # type: ignore[union-attr]
            raise ActionRefused("活动已经结束，不能签到")
    else:
        if attendance.signed_in_at is None:
            raise ActionRefused("尚未签到，不能签退")
        if attendance.signed_out_at is not None:
            raise ActionRefused("已经签退过了")


def _lock_attendance(attendance: Attendance) -> Attendance:
    return (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("volunteer", "order__service", "activity")
        .get(pk=attendance.pk)
    )


def sign_in(actor: Actor, attendance: Attendance, lat=None, lng=None) -> Attendance:
    """签到: on site, with the phone's position; far from the place is allowed but flagged."""
    check_sign(actor.user, attendance, "in")
    lat_f, lng_f = _coordinates(lat, lng)
    with transaction.atomic():
        if attendance.order_id:
            order = _lock_order(attendance.order)  # type: ignore[arg-type]
        attendance = _lock_attendance(attendance)
        check_sign(actor.user, attendance, "in")
        attendance.signed_in_at = timezone.now()
        attendance.in_lat, attendance.in_lng = lat_f, lng_f
        place_lat, place_lng = _place_of(attendance)
        if lat_f is not None and place_lat is not None:
            attendance.in_distance = round(distance_m(lat_f, lng_f, place_lat, place_lng), 1)
            attendance.far = attendance.in_distance > float(_setting("VOLUNTEER_SIGN_IN_METRES", 500))
        attendance.save(update_fields=["signed_in_at", "in_lat", "in_lng", "in_distance", "far"])
        if attendance.order_id and order.status == Order.Status.ACCEPTED:
            order.status = Order.Status.SERVING
            order.save(update_fields=["status"])
        _event(actor, "sign_in", "volunteer", volunteer=attendance.volunteer, order=attendance.order,
               activity=attendance.activity, attendance=attendance.pk, far=attendance.far,
               distance=attendance.in_distance)  # fmt: skip
    return attendance


def _measured_hours(start: dt.datetime, end: dt.datetime) -> Decimal:
    hours = Decimal((end - start).total_seconds()) / Decimal(3600)
    return min(hours, MAX_HOURS_PER_RECORD).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def sign_out(actor: Actor, attendance: Attendance, lat=None, lng=None) -> Attendance:
    """签退: the hours are measured from sign-in to sign-out (at most 24 per record)."""
    check_sign(actor.user, attendance, "out")
    lat_f, lng_f = _coordinates(lat, lng)
    with transaction.atomic():
        attendance = _lock_attendance(attendance)
        check_sign(actor.user, attendance, "out")
        now = timezone.now()
        attendance.signed_out_at = now
        attendance.out_lat, attendance.out_lng = lat_f, lng_f
        attendance.hours = _measured_hours(attendance.signed_in_at, now)  # type: ignore[arg-type]
        attendance.save(update_fields=["signed_out_at", "out_lat", "out_lng", "hours"])
        _event(actor, "sign_out", "volunteer", volunteer=attendance.volunteer, order=attendance.order,
               activity=attendance.activity, attendance=attendance.pk, hours=str(attendance.hours))  # fmt: skip
    return attendance


def check_complete(user: User | None, order: Order) -> None:
    user = _user(user)
    if not access.leads(user, order.team_id):
        raise PermissionDenied("只有承接该订单的服务队队长可以完成服务")
    _require_order_status(order, Order.Status.SERVING)
    attendances = list(order.attendances.all())
    if not any(a.signed_out_at for a in attendances):
        raise ActionRefused("还没有志愿者签退，不能完成服务")
    if any(a.signed_in_at and not a.signed_out_at for a in attendances):
        raise ActionRefused("还有志愿者未签退")


def complete_order(actor: Actor, order: Order, note: str, uploads: Sequence = ()) -> Order:
    """服务完成: the leader records what was done, with photos of the service if any (validated
    by content, at most ``photos.MAX_PHOTOS_PER_STEP`` and the step's bytes, all before any is
    stored; the original kept privately, as case photos); the citizen may now rate."""
    check_complete(actor.user, order)
    note = clean_text(note, 500, "服务纪实", required=True)
    valid = photos.validate_all(uploads)
    with photos.atomic():
        order = _lock_order(order)
        check_complete(actor.user, order)
        order.status = Order.Status.SERVED
        order.served_at = timezone.now()
        order.service_note = note
        order.due_at = None
        order.save(update_fields=["status", "served_at", "service_note", "due_at"])
        for photo in valid:
            files = photos.store_files(photo, "volunteers")
            OrderPhoto.objects.create(order=order, uploaded_by=actor.user, **files.fields())
        _event(actor, "complete", "leader", note, order=order, photos=len(valid))
    return order


# ---------------------------------------------------------------------------------------------
# 评单: the citizen rates with the tracking code


def check_rate(order: Order, code: str, phone: str) -> None:
    if clean_code(code) != order.code or order_by_code(code, phone) is None:
        raise PermissionDenied("查询码或联系电话不正确")
    if order.status == Order.Status.RATED:
        raise ActionRefused("该订单已经评价过，不能重复评价")
    _require_order_status(order, Order.Status.SERVED)


def rate_order(actor: Actor, order: Order, stars: int, comment: str = "", *, code: str, phone: str) -> Order:
    """评单: 1–5 stars and a comment, once, by whoever holds the tracking code and phone."""
    check_rate(order, code, phone)
    if stars not in (1, 2, 3, 4, 5):
        raise ValidationError({"rating": ["请选择 1 到 5 星"]})
    comment = clean_text(comment, 500, "评价意见", required=stars <= 2)
    with transaction.atomic():
        order = _lock_order(order)
        check_rate(order, code, phone)
        order.status = Order.Status.RATED
        order.rating = stars
        order.rating_comment = comment
        order.rated_at = timezone.now()
        order.save(update_fields=["status", "rating", "rating_comment", "rated_at"])
        _event(actor, "rate", "citizen", comment, order=order, stars=stars)
        notices.notify_rated(order)
    return order


# ---------------------------------------------------------------------------------------------
# Activities 活动


def check_publish(user: User | None, team: Team) -> None:
    user = _user(user)
    if not (access.leads(user, team.pk) or access.manages_station(user, team.station_id)):
        raise PermissionDenied("只有服务队队长或所属阵地管理员可以发布活动")
    if not team.is_active:
        raise ActionRefused("该服务队已停用")


def publish_activity(
    actor: Actor,
    team: Team,
    *,
    title: str,
    kind: str,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    description: str = "",
    skills: str = "",
    lat: float | None = None,
    lng: float | None = None,
) -> Activity:
    """发布活动."""
    check_publish(actor.user, team)
    errors: dict[str, list[str]] = {}
    fields = {}
    for field, value, length, what, required in (
        ("title", title, 100, "活动名称", True),
        ("place", place, 200, "活动地点", True),
        ("description", description, 500, "活动内容", False),
        ("skills", skills, 200, "所需特长", False),
    ):
        try:
            fields[field] = clean_text(value, length, what, required=required)
        except ValidationError as exc:
            errors[field] = exc.messages
    if kind not in ServiceKind.values:
        errors["kind"] = ["请选择服务类别"]
    if ends_at <= starts_at:
        errors["ends_at"] = ["结束时间应晚于开始时间"]
    if not 1 <= int(capacity or 0) <= 10000:
        errors["capacity"] = ["招募人数应在 1 到 10000 之间"]
    try:
        lat, lng = _coordinates(lat, lng)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        activity = Activity.objects.create(
            team=team,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=int(capacity),
            lat=lat,
            lng=lng,
            **fields,
        )
        _event(
            actor, "publish", "leader" if access.leads(actor.user, team.pk) else "station", activity=activity
        )
    return activity


def check_enrol(user: User | None, activity: Activity) -> Volunteer:
    volunteer = access.volunteer_of(_user(user))
    if volunteer is None:
        raise PermissionDenied("只有注册志愿者可以报名")
    if activity.starts_at <= timezone.now():
        raise ActionRefused("活动已经开始，报名已截止")
    if activity.attendances.filter(volunteer=volunteer).exists():
        raise ActionRefused("您已报名该活动")
    if activity.attendances.count() >= activity.capacity:
        raise ActionRefused("报名人数已满")
    return volunteer


def enrol(actor: Actor, activity: Activity) -> Attendance:
    """报名: capacity is checked on the locked activity row, so concurrent enrolments queue."""
    check_enrol(actor.user, activity)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        volunteer = check_enrol(actor.user, activity)
        attendance = Attendance.objects.create(volunteer=volunteer, activity=activity)
        _event(actor, "enrol", "volunteer", activity=activity, volunteer=volunteer)
    return attendance


# ---------------------------------------------------------------------------------------------
# Hours 服务时长 → points 积分


def check_confirm(user: User | None, attendance: Attendance) -> None:
    user = _user(user)
    if not access.leads(user, attendance.team_id):
        raise PermissionDenied("只能确认本队的服务时长")
    if attendance.confirmed_at is not None:
        raise ActionRefused("服务时长已经确认")
    if attendance.signed_out_at is None:
        raise ActionRefused("志愿者尚未签退，不能确认时长")
    order = attendance.order
    if order is not None and order.status not in (Order.Status.SERVED, Order.Status.RATED):
        raise ActionRefused("订单完成后才能确认服务时长")


def points_for(kind: str, hours: Decimal) -> int:
    """Points for confirmed hours: the kind's rule, else the default rule, else none."""
    rules = {r.kind: r.points_per_hour for r in PointsRule.objects.filter(kind__in=(kind, ""))}
    rate = rules.get(kind, rules.get("", 0))
    return int((hours * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def confirm_hours(actor: Actor, attendance: Attendance, hours: Decimal | None = None) -> Attendance:
    """确认时长: the team leader confirms the measured hours (or fewer); points are earned at once."""
    check_confirm(actor.user, attendance)
    with transaction.atomic():
        attendance = _lock_attendance(attendance)
        check_confirm(actor.user, attendance)
        measured = attendance.hours or Decimal(0)
        if hours is not None:
            hours = Decimal(hours).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if not Decimal(0) < hours <= measured:
                raise ValidationError({"hours": [f"确认时长应大于 0 且不超过签到签退时长 {measured} 小时"]})
            attendance.hours = hours
        attendance.confirmed_at = timezone.now()
        attendance.confirmed_by = actor.user
        attendance.save(update_fields=["hours", "confirmed_at", "confirmed_by"])
        points = points_for(attendance.kind, attendance.hours or Decimal(0))
        volunteer = Volunteer.objects.select_for_update().get(pk=attendance.volunteer_id)
        if points:
            _post(actor, volunteer, PointsEntry.Kind.EARN, points, f"{attendance.what} 服务 {attendance.hours} 小时",
                  attendance=attendance)  # fmt: skip
        _event(actor, "confirm_hours", "leader", volunteer=volunteer, order=attendance.order,
               activity=attendance.activity, attendance=attendance.pk, hours=str(attendance.hours), points=points)  # fmt: skip
    return attendance


# ---------------------------------------------------------------------------------------------
# The points bank 文明银行


def _post(actor: Actor, volunteer: Volunteer, kind: str, points: int, reason: str, **links) -> PointsEntry:
    """Append one ledger line. ``volunteer`` must be locked (select_for_update) by the caller."""
    balance = volunteer.points_balance + points
    if balance < 0:
        raise ActionRefused(f"积分余额不足（当前 {volunteer.points_balance} 分）")
    volunteer.points_balance = balance
    volunteer.save(update_fields=["points_balance"])
    return PointsEntry.objects.create(
        volunteer=volunteer,
        kind=kind,
        points=points,
        balance_after=balance,
        actor=actor.user,
        via=actor.via,
        reason=reason[:200],
        **links,
    )


def check_redeem(user: User | None, goods: Goods, quantity: int) -> Volunteer:
    volunteer = access.volunteer_of(_user(user))
    if volunteer is None:
        raise PermissionDenied("只有注册志愿者可以兑换")
    if not 1 <= quantity <= 100:
        raise ValidationError({"quantity": ["兑换数量应在 1 到 100 之间"]})
    if not goods.is_active:
        raise ActionRefused("该商品已下架")
    if goods.stock < quantity:
        raise ActionRefused(f"库存不足（剩余 {goods.stock} 件）")
    if volunteer.points_balance < goods.points * quantity:
        raise ActionRefused(
            f"积分余额不足（需要 {goods.points * quantity} 分，当前 {volunteer.points_balance} 分）"
        )
    return volunteer


def redeem(actor: Actor, goods: Goods, quantity: int = 1) -> Redemption:
    """兑换: the volunteer spends points on goods; both the balance and the stock are checked on
    locked rows (volunteer first, then goods), so concurrent redemptions cannot overdraw either."""
    check_redeem(actor.user, goods, quantity)
    with transaction.atomic():
        volunteer = Volunteer.objects.select_for_update().get(user=actor.user, is_active=True)
        goods = Goods.objects.select_for_update().get(pk=goods.pk)
        check_redeem(actor.user, goods, quantity)
        volunteer.refresh_from_db(fields=["points_balance"])
        cost = goods.points * quantity
        goods.stock -= quantity
        goods.save(update_fields=["stock"])
        redemption = Redemption.objects.create(
            volunteer=volunteer, goods=goods, quantity=quantity, points=cost
        )
        _post(
            actor,
            volunteer,
            PointsEntry.Kind.REDEEM,
            -cost,
            f"兑换 {goods.name} × {quantity}",
            redemption=redemption,
        )
        _event(actor, "redeem", "volunteer", redemption=redemption, volunteer=volunteer, goods=goods.pk)
    return redemption


def check_pickup(user: User | None, redemption: Redemption) -> None:
    if not access.is_staff(_user(user)):
        raise PermissionDenied("只有阵地管理员可以确认领取")
    if redemption.status != Redemption.Status.WAITING:
        raise ActionRefused(f"兑换单{redemption.get_status_display()}，不能确认领取")


def confirm_pickup(actor: Actor, redemption: Redemption) -> Redemption:
    """领取: staff hand the goods over against the redemption code."""
    check_pickup(actor.user, redemption)
    with transaction.atomic():
        redemption = Redemption.objects.select_for_update().get(pk=redemption.pk)
        check_pickup(actor.user, redemption)
        redemption.status = Redemption.Status.PICKED_UP
        redemption.closed_at = timezone.now()
        redemption.save(update_fields=["status", "closed_at"])
        _event(
            actor, "pickup", _staff_role(actor.user), redemption=redemption, volunteer=redemption.volunteer
        )
    return redemption


def check_cancel_redemption(user: User | None, redemption: Redemption) -> None:
    user = _user(user)
    if redemption.volunteer.user_id != user.pk and not access.is_staff(user):
        raise PermissionDenied("只能取消本人的兑换单")
    if redemption.status != Redemption.Status.WAITING:
        raise ActionRefused(f"兑换单{redemption.get_status_display()}，不能取消")


def cancel_redemption(actor: Actor, redemption: Redemption, reason: str = "") -> Redemption:
    """取消兑换: points go back to the ledger (a refund line) and the goods back into stock."""
    check_cancel_redemption(actor.user, redemption)
    reason = clean_text(reason, 200, "取消原因")
    with transaction.atomic():
        volunteer = Volunteer.objects.select_for_update().get(pk=redemption.volunteer_id)
        goods = Goods.objects.select_for_update().get(pk=redemption.goods_id)
        redemption = Redemption.objects.select_for_update().get(pk=redemption.pk)
        check_cancel_redemption(actor.user, redemption)
        redemption.status = Redemption.Status.CANCELLED
        redemption.closed_at = timezone.now()
        redemption.save(update_fields=["status", "closed_at"])
        goods.stock += redemption.quantity
        goods.save(update_fields=["stock"])
        _post(actor, volunteer, PointsEntry.Kind.REFUND, redemption.points, reason or f"取消兑换 {goods.name}",
              redemption=redemption)  # fmt: skip
        _event(actor, "cancel_redemption", "", reason, redemption=redemption, volunteer=volunteer)
    return redemption


def check_adjust(user: User | None) -> None:
    if not access.is_hq(_user(user)):
        raise PermissionDenied("只有创文办管理员可以调整积分")


def adjust_points(actor: Actor, volunteer: Volunteer, points: int, reason: str) -> PointsEntry:
    """调整: HQ adds or deducts points with a reason; the balance cannot go below zero."""
    check_adjust(actor.user)
    reason = clean_text(reason, 200, "调整原因", required=True)
    if not points:
        raise ValidationError({"points": ["调整积分不能为 0"]})
    with transaction.atomic():
        volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        entry = _post(actor, volunteer, PointsEntry.Kind.ADJUST, int(points), reason)
        _event(actor, "adjust_points", "hq", reason, volunteer=volunteer, points=int(points))
    return entry


def expiring_points(volunteer: Volunteer, cutoff: dt.datetime) -> int:
    """Points earned before ``cutoff`` and not yet spent, spending oldest first: the old credits
    less everything ever debited (redemptions, expiries, deductions; refunds count back)."""
    rows = volunteer.points_entries.aggregate(
        old=Sum("points", filter=Q(at__lt=cutoff, points__gt=0) & ~Q(kind=PointsEntry.Kind.REFUND)),
        debits=Sum("points", filter=Q(points__lt=0) | Q(kind=PointsEntry.Kind.REFUND)),
    )
    return max(0, (rows["old"] or 0) + (rows["debits"] or 0))


def expire_points(actor: Actor, now: dt.datetime | None = None) -> int:
    """过期: points older than ``VOLUNTEER_POINTS_EXPIRE_MONTHS`` (None: never) that were not spent
    expire. Run by HQ or the scheduled command; returns the points expired in total."""
    if actor.user is not None:
        check_adjust(actor.user)
    months = _setting("VOLUNTEER_POINTS_EXPIRE_MONTHS", 24)
    if not months:
        return 0
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=round(30.44 * months))
    total = 0
    candidates = Volunteer.objects.filter(points_balance__gt=0, points_entries__at__lt=cutoff).distinct()
    for volunteer_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            volunteer = Volunteer.objects.select_for_update().get(pk=volunteer_id)
            amount = min(expiring_points(volunteer, cutoff), volunteer.points_balance)
            if amount:
                _post(
                    actor, volunteer, PointsEntry.Kind.EXPIRE, -amount, f"{cutoff:%Y-%m-%d} 前获得的积分过期"
                )
                total += amount
    return total


# ---------------------------------------------------------------------------------------------
# What a person may do next (pages and API show these; built from the same checks)


def _may(check, *args) -> bool:
    try:
        check(*args)
    except (PermissionDenied, ValidationError, ActionRefused):
        return False
    return True


def allowed_actions(user: User, order: Order) -> list[str]:
    actions = []
    if _may(check_assign, user, order):
        actions.append("assign")
    if _may(check_answer, user, order):
        actions += ["accept", "decline"]
    if _may(check_staff_order, user, order):
        actions.append("staff")
    if _may(check_complete, user, order):
        actions.append("complete")
    if may_read_order_contact(user, order):
        actions.append("read_contact")
    return actions


def attendance_actions(user: User, attendance: Attendance) -> list[str]:
    actions = []
    if _may(check_sign, user, attendance, "in"):
        actions.append("sign_in")
    if _may(check_sign, user, attendance, "out"):
        actions.append("sign_out")
    if _may(check_confirm, user, attendance):
        actions.append("confirm")
    return actions


def activity_actions(user: User, activity: Activity) -> list[str]:
    return ["enrol"] if _may(check_enrol, user, activity) else []
