"""JSON API for volunteer services under /api/v1/volunteers/.

Citizens' endpoints need no sign-in and count against the same abuse limits as the public page:
the menu, ordering 点单, tracking by code + phone, and rating 评单. Everything else is for signed-in
staff, team leaders and volunteers; each step calls its service, whose refusals the API root turns
into 403/400/409 ``{"detail": ...}``. Phone numbers and names are always masked here; authorised
staff read them through ``/orders/{id}/contact`` and ``/volunteers/{id}/real-name`` (logged).
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from org.audit import Actor

from . import access, figures, limits, services
from .filtersets import ActivityFilter, OrderFilter, VolunteerFilter
from .models import Activity, Attendance, Goods, Order, PointsEntry, Redemption, Service, Team, Volunteer

router = Router(tags=["志愿服务 volunteers"])


def _actor(request) -> Actor:
    return Actor.from_request(request, via="api")


class Detail(Schema):
    detail: str


class ServiceOut(Schema):
    id: int
    kind: str
    name: str
    description: str
    audience: str
    area: str
    station_id: int
    station: str = Field(alias="station.name")


class OrderIn(Schema):
    service_id: int
    description: str
    address: str
    phone: str
    name: str = ""
    people: int = 1
    wanted_on: dt.date | None = None
    lat: float | None = None
    lng: float | None = None


class PublicOrderOut(Schema):
    """What the citizen sees: no contact details, no volunteers."""

    code: str
    status: str
    service: str = Field(alias="service.name")
    station: str = Field(alias="station.name")
    team: str | None
    ordered_at: dt.datetime
    due_at: dt.datetime | None
    service_note: str
    rating: int | None
    rating_comment: str

    @staticmethod
    def resolve_team(obj: Order) -> str | None:
        return obj.team.name if obj.team else None


class OrderOut(PublicOrderOut):
    id: int
    channel: str
    service_id: int
    station_id: int
    team_id: int | None
    description: str
    address: str
    people: int
    phone: str = Field(alias="masked_phone")
    name: str = Field(alias="masked_name")
    decline_count: int
    overdue: bool = Field(alias="is_overdue")
    allowed_actions: list[str]
    photos: list[str]

    @staticmethod
    def resolve_allowed_actions(obj: Order, context) -> list[str]:
        return services.allowed_actions(context["request"].user, obj)

    @staticmethod
    def resolve_photos(obj: Order) -> list[str]:
        """The service photos' stripped copies (the originals are never served)."""
        return [p.image.url for p in obj.photos.all()]


class TrackIn(Schema):
    code: str
    phone: str


class RateIn(TrackIn):
    rating: int
    comment: str = ""


class AssignIn(Schema):
    team_id: int
    reason: str = ""


class VolunteerReasonIn(Schema):
    reason: str


class VolunteerNoteIn(Schema):
    note: str


class StaffIn(Schema):
    volunteer_ids: list[int]


class TeamOut(Schema):
    id: int
    code: str
    name: str
    station_id: int
    skills: str


class RecordOut(Schema):
    id: int
    volunteer_id: int
    volunteer: str = Field(alias="volunteer.masked_name")
    order_id: int | None
    activity_id: int | None
    signed_in_at: dt.datetime | None
    far: bool
    in_distance: float | None
    signed_out_at: dt.datetime | None
    hours: Decimal | None
    confirmed_at: dt.datetime | None


class PositionIn(Schema):
    lat: float | None = None
    lng: float | None = None


class HoursIn(Schema):
    hours: Decimal | None = None


class ActivityIn(Schema):
    team_id: int
    title: str
    kind: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    description: str = ""
    skills: str = ""
    lat: float | None = None
    lng: float | None = None


class ActivityOut(Schema):
    id: int
    team_id: int
    kind: str
    title: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    enrolled: int

    @staticmethod
    def resolve_enrolled(obj: Activity) -> int:
        return obj.attendances.count()


class VolunteerMeOut(Schema):
    number: str
    name: str = Field(alias="masked_name")
    points_balance: int
    confirmed_hours: Decimal
    teams: list[str]
    leads: list[int]


class EntryOut(Schema):
    id: int
    kind: str
    points: int
    balance_after: int
    at: dt.datetime
    reason: str


class GoodsOut(Schema):
    id: int
    name: str
    description: str
    points: int
    stock: int


class RedeemIn(Schema):
    goods_id: int
    quantity: int = 1


class RedemptionOut(Schema):
    id: int
    code: str
    goods_id: int
    quantity: int
    points: int
    status: str
    created_at: dt.datetime


class VolunteerOut(Schema):
    id: int
    number: str
    name: str = Field(alias="masked_name")
    phone: str = Field(alias="masked_phone")
    id_number: str = Field(alias="masked_id_number")
    skills: str
    points_balance: int
    is_active: bool


class VolunteerContactOut(Schema):
    phone: str
    name: str


class RealNameOut(Schema):
    name: str
    id_number: str
    phone: str


# --- Citizens (no sign-in) -----------------------------------------------------------------------


@router.get("/services", response=list[ServiceOut], auth=None)
def menu(request, kind: str | None = None, station_id: int | None = None):
    """服务菜单: the active services, optionally of one kind or one station."""
    qs = Service.objects.filter(is_active=True).select_related("station")
    if kind:
        qs = qs.filter(kind=kind)
    if station_id:
        qs = qs.filter(station_id=station_id)
    return qs


@router.post("/orders", response={201: PublicOrderOut, 429: Detail}, auth=None)
def place(request, payload: OrderIn):
    """点单 without sign-in; keep the returned ``code`` to track and rate."""
    service = get_object_or_404(Service, pk=payload.service_id)
    try:
        limits.check(request, "order", phone=payload.phone)
    except limits.Throttled as exc:
        return Status(429, {"detail": str(exc)})
    data = payload.dict(exclude={"service_id"})
    order = services.place_order(
        Actor.from_request(request, via="api"), service, channel=Order.Channel.API, **data
    )
    return Status(201, order)


@router.post("/orders/track", response={200: PublicOrderOut, 404: Detail, 429: Detail}, auth=None)
def track(request, payload: TrackIn):
    """查询: the order of this code when the phone is the one it was placed with."""
    try:
        limits.check(request, "track", phone=payload.phone)
    except limits.Throttled as exc:
        return Status(429, {"detail": str(exc)})
    order = services.order_by_code(payload.code, payload.phone)
    if order is None:
        return Status(404, {"detail": "查询码或联系电话不正确"})
    return order


@router.post("/orders/rate", response={200: PublicOrderOut, 404: Detail, 429: Detail}, auth=None)
def rate(request, payload: RateIn):
    """评单: 1–5 stars (a comment needed at 2 or fewer), once."""
    try:
        limits.check(request, "track", phone=payload.phone)
    except limits.Throttled as exc:
        return Status(429, {"detail": str(exc)})
    order = services.order_by_code(payload.code, payload.phone)
    if order is None:
        return Status(404, {"detail": "查询码或联系电话不正确"})
    return services.rate_order(
        Actor(user=None, ip=_actor(request).ip, via="api"),
        order,
        payload.rating,
        payload.comment,
        code=payload.code,
        phone=payload.phone,
    )


# --- Orders (staff, leaders, volunteers) ---------------------------------------------------------


def _order(request, order_id: int) -> Order:
    return get_object_or_404(access.orders_for(request.user), pk=order_id)


@router.get("/orders", response=list[OrderOut])
@paginate
def list_orders(
    request,
    q: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    station: int | None = None,
    team: int | None = None,
    overdue: bool | None = None,
):
    """The orders this person sees, filtered as on the list page (``OrderFilter``)."""
    return OrderFilter(request.GET, queryset=access.orders_for(request.user)).qs.prefetch_related("photos")


@router.get("/orders/{order_id}", response=OrderOut)
def get_order(request, order_id: int):
    return _order(request, order_id)


@router.get("/orders/{order_id}/suggestions", response=list[TeamOut])
def suggestions(request, order_id: int):
    """派单建议: teams by skill, nearness and current load."""
    return services.suggest_teams(_order(request, order_id))


@router.post("/orders/{order_id}/assign", response=OrderOut)
def assign(request, order_id: int, payload: AssignIn):
    team = get_object_or_404(Team, pk=payload.team_id)
    return services.assign_order(_actor(request), _order(request, order_id), team, payload.reason)


@router.post("/orders/{order_id}/accept", response=OrderOut)
def accept(request, order_id: int):
    return services.accept_order(_actor(request), _order(request, order_id))


@router.post("/orders/{order_id}/decline", response=OrderOut)
def decline(request, order_id: int, payload: VolunteerReasonIn):
    return services.decline_order(_actor(request), _order(request, order_id), payload.reason)


@router.post("/orders/{order_id}/staff", response=list[RecordOut])
def staff(request, order_id: int, payload: StaffIn):
    order = _order(request, order_id)
    chosen = list(Volunteer.objects.filter(pk__in=payload.volunteer_ids))
    if len(chosen) != len(set(payload.volunteer_ids)):
        raise ValidationError({"volunteers": ["有志愿者不存在"]})
    return services.staff_order(_actor(request), order, chosen)


SERVICE_PHOTOS = File(None, description="服务照片 (JPEG, PNG or WebP)")


@router.post("/orders/{order_id}/complete", response=OrderOut)
def complete(
    request,
    order_id: int,
    payload: Form[VolunteerNoteIn],
    photos: list[UploadedFile] = SERVICE_PHOTOS,
):
    """服务完成: multipart form with the ``note`` 服务纪实 and the service's ``photos`` (optional;
    capped per step as case photos)."""
    return services.complete_order(_actor(request), _order(request, order_id), payload.note, photos or [])


@router.post("/orders/{order_id}/contact", response=VolunteerContactOut)
def contact(request, order_id: int):
    """The citizen's phone and name (station staff, the accepting team's leader); logged."""
    return services.read_order_contact(_actor(request), _order(request, order_id))


@router.get("/orders/{order_id}/records", response=list[RecordOut])
def order_records(request, order_id: int):
    return _order(request, order_id).attendances.select_related("volunteer")


# --- Sign-in, sign-out, hours -------------------------------------------------------------------


def _record(request, record_id: int) -> Attendance:
    led = access.led_team_ids(request.user)
    qs = Attendance.objects.select_related("volunteer", "order__service", "activity")
    mine = (
        qs.filter(volunteer__user=request.user)
        | qs.filter(order__team_id__in=led)
        | qs.filter(activity__team_id__in=led)
    )
    return get_object_or_404(mine, pk=record_id)


@router.post("/records/{record_id}/sign-in", response=RecordOut)
def sign_in(request, record_id: int, payload: PositionIn):
    return services.sign_in(_actor(request), _record(request, record_id), payload.lat, payload.lng)


@router.post("/records/{record_id}/sign-out", response=RecordOut)
def sign_out(request, record_id: int, payload: PositionIn):
    return services.sign_out(_actor(request), _record(request, record_id), payload.lat, payload.lng)


@router.post("/records/{record_id}/confirm", response=RecordOut)
def confirm(request, record_id: int, payload: HoursIn):
    return services.confirm_hours(_actor(request), _record(request, record_id), payload.hours)


# --- Activities ------------------------------------------------------------------------------------


@router.get("/activities", response=list[ActivityOut])
@paginate
def list_activities(request):
    return ActivityFilter(request.GET, queryset=access.activities_for(request.user).order_by("-starts_at")).qs


@router.post("/activities", response={201: ActivityOut})
def publish(request, payload: ActivityIn):
    team = get_object_or_404(Team, pk=payload.team_id)
    activity = services.publish_activity(_actor(request), team, **payload.dict(exclude={"team_id"}))
    return Status(201, activity)


@router.post("/activities/{activity_id}/enrol", response={201: RecordOut})
def enrol(request, activity_id: int):
    activity = get_object_or_404(access.activities_for(request.user), pk=activity_id)
    return Status(201, services.enrol(_actor(request), activity))


# --- Me, points and the shop -----------------------------------------------------------------------


def _me(request) -> Volunteer:
    volunteer = access.volunteer_of(request.user)
    if volunteer is None:
        raise Http404
    return volunteer


@router.get("/me", response=VolunteerMeOut)
def me(request):
    volunteer = _me(request)
    hours = volunteer.attendances.filter(confirmed_at__isnull=False).aggregate(h=Sum("hours"))["h"]
    return {
        "number": volunteer.number,
        "masked_name": volunteer.masked_name,
        "points_balance": volunteer.points_balance,
        "confirmed_hours": hours or Decimal(0),
        "teams": [t.name for t in volunteer.teams.all()],
        "leads": sorted(access.led_team_ids(request.user)),
    }


@router.get("/me/points", response=list[EntryOut])
@paginate
def my_points(request):
    return PointsEntry.objects.filter(volunteer=_me(request))


@router.get("/me/records", response=list[RecordOut])
@paginate
def my_records(request):
    return _me(request).attendances.select_related("volunteer")


@router.get("/goods", response=list[GoodsOut])
def goods(request):
    return Goods.objects.filter(is_active=True)


@router.post("/redemptions", response={201: RedemptionOut})
def redeem(request, payload: RedeemIn):
    item = get_object_or_404(Goods, pk=payload.goods_id)
    return Status(201, services.redeem(_actor(request), item, payload.quantity))


@router.get("/me/redemptions", response=list[RedemptionOut])
def my_redemptions(request):
    return _me(request).redemptions.all()


def _redemption(request, redemption_id: int) -> Redemption:
    redemption = get_object_or_404(Redemption, pk=redemption_id)
    if redemption.volunteer.user_id != request.user.pk and not access.is_staff(request.user):
        raise Http404
    return redemption


@router.post("/redemptions/{redemption_id}/pickup", response=RedemptionOut)
def pickup(request, redemption_id: int):
    return services.confirm_pickup(_actor(request), _redemption(request, redemption_id))


@router.post("/redemptions/{redemption_id}/cancel", response=RedemptionOut)
def cancel(request, redemption_id: int, payload: VolunteerReasonIn):
    return services.cancel_redemption(_actor(request), _redemption(request, redemption_id), payload.reason)


# --- The register (staff, leaders) ------------------------------------------------------------------


@router.get("/volunteers", response=list[VolunteerOut])
@paginate
def list_volunteers(request):
    return VolunteerFilter(request.GET, queryset=access.volunteers_for(request.user)).qs


@router.post("/volunteers/{volunteer_id}/real-name", response=RealNameOut)
def real_name(request, volunteer_id: int):
    """Name, ID number and phone in full (HQ, the volunteer's station staff); logged."""
    volunteer = get_object_or_404(access.volunteers_for(request.user), pk=volunteer_id)
    return services.read_real_name(_actor(request), volunteer)


# --- Figures ------------------------------------------------------------------------------------


class VolunteerRankOut(Schema):
    key: int
    label: str
    hours: Decimal
    orders: int
    rating: float | None
    activities: int


class VolunteerFiguresOut(Schema):
    start: dt.date
    end: dt.date
    by: str
    totals: dict[str, Decimal | int]
    rows: list[VolunteerRankOut]


@router.get("/figures", response=VolunteerFiguresOut)
def figures_api(request, by: str = "team", period: str = "month", on: dt.date | None = None):
    """District totals and the month's (or ``period=year``) ranking by confirmed hours; ``by`` is
    volunteer, team, station or street. Staff and team leaders."""
    if not (access.is_staff(request.user) or access.led_team_ids(request.user)):
        raise PermissionDenied("只有阵地管理员和服务队队长可以查看统计")
    if by not in figures.BY:
        raise ValidationError(f"by 只能是 {', '.join(figures.BY)}")
    first, after = figures.period("year" if period == "year" else "month", on or timezone.localdate())
    start, end = (timezone.make_aware(dt.datetime.combine(d, dt.time.min)) for d in (first, after))
    return {
        "start": first,
        "end": after - dt.timedelta(days=1),
        "by": by,
        "totals": figures.district_totals(),
        "rows": [r.as_dict() for r in figures.ranking(by, start, end)],
    }
