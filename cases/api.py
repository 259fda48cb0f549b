"""Cases JSON API under /api/v1/cases/: the list and detail (with timeline), reporting with
photos, every step of the loop, categories, the routing suggestion and the metrics.

Every case is fetched through ``Case.objects.visible_to(user)`` (outside the scope: 404); every
step calls its function in ``cases.services``, which checks role, scope and state.
"""

import datetime as dt
import hashlib
import math
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Avg, Count, FloatField, Prefetch, QuerySet
from django.db.models.functions import Cast, Floor
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import CursorPagination, paginate

from org.audit import Actor
from org.models import Grid, Region, Unit

from . import duplicates, geo, metrics, services
from . import figures as stored
from .forms import CaseFilterForm
from .models import LIST_AT, Case, CaseEvent, CasePart, CasePhoto, CaseQuerySet, Category, ExtensionRequest
from .routing import suggest_unit

router = Router(tags=["案件 cases"])

LIST_ORDERING = ("-reported_at", "-pk")
# The case list's: ``list_at`` is the report time, read from the unit's part index when the list
# is filtered by unit (``CaseQuerySet.of_unit``), so such a page is one index seek.
CASE_LIST_ORDERING = (f"-{LIST_AT}", "-pk")
PHOTOS = File(None, description="照片 (JPEG, PNG or WebP), any number")


# --- schemas ------------------------------------------------------------------------------------


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    major_code: str
    major_name: str
    time_limit_days: int
    time_limit_hours: int | None
    default_unit_kind: str


class CaseOut(Schema):
    id: int
    number: str
    status: str
    status_label: str = Field(alias="get_status_display")
    source: str
    category_id: int
    category_name: str = Field(alias="category.name")
    description: str
    address: str
    lat: Decimal
    lng: Decimal
    region_id: int | None
    grid_id: int | None
    urgent: bool
    lead_unit_id: int | None
    reported_at: dt.datetime
    accepted_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    due_at: dt.datetime | None
    handle_deadline: dt.datetime | None
    close_deadline: dt.datetime | None
    rework_count: int
    return_count: int
    extension_count: int
    overdue: bool

    @staticmethod
    def resolve_overdue(obj: Case) -> bool:
        return obj.is_overdue()


class PartOut(Schema):
    id: int
    unit_id: int
    unit_name: str = Field(alias="unit.name")
    is_lead: bool
    status: str
    deadline: dt.datetime
    dispatched_at: dt.datetime
    started_at: dt.datetime | None
    handled_at: dt.datetime | None
    extension_days: int


class EventOut(Schema):
    id: int
    action: str
    action_label: str = Field(alias="get_action_display")
    at: dt.datetime
    actor_name: str | None
    actor_role: str
    actor_unit_id: int | None
    part_id: int | None
    reason: str
    via: str
    data: dict

    @staticmethod
    def resolve_actor_name(obj: CaseEvent) -> str | None:
        return str(obj.actor) if obj.actor_id else None


class PhotoOut(Schema):
    id: int
    kind: str
    image_url: str
    thumbnail_url: str
    width: int
    height: int
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_image_url(obj: CasePhoto) -> str:
        return default_storage.url(obj.image.name)

    @staticmethod
    def resolve_thumbnail_url(obj: CasePhoto) -> str:
        return default_storage.url(obj.thumbnail.name)


class ExtensionOut(Schema):
    id: int
    part_id: int
    days: int
    reason: str
    status: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


class CaseDetailOut(CaseOut):
    """The detail: the case, its parts, timeline, photos, extension requests, the steps the caller
    may take, duplicates to merge into (reported cases) and the routing suggestion (to dispatch)."""

    reporter_unit_id: int | None
    merged_into_id: int | None
    dispatch_deadline: dt.datetime | None
    verify_deadline: dt.datetime | None
    verified_at: dt.datetime | None
    parts: list[PartOut]
    events: list[EventOut]
    photos: list[PhotoOut]
    extensions: list[ExtensionOut]
    allowed_actions: list[str]
    duplicates: list[CaseOut]
    suggested_unit_id: int | None

    # The related rows come prefetched (``_with_related``), or filled in by the report itself.

    @staticmethod
    def resolve_parts(obj: Case) -> list[CasePart]:
        return list(obj.parts.all())

    @staticmethod
    def resolve_events(obj: Case) -> list[CaseEvent]:
        return list(obj.events.all())

    @staticmethod
    def resolve_photos(obj: Case) -> list[CasePhoto]:
        return list(obj.photos.all())

    @staticmethod
    def resolve_extensions(obj: Case) -> list[ExtensionRequest]:
        requests = [r for p in obj.parts.all() for r in p.extension_requests.all()]
        return sorted(requests, key=lambda r: (r.requested_at, r.pk))

    @staticmethod
    def resolve_allowed_actions(obj: Case, context) -> list[str]:
        return services.allowed_actions(context["request"].user, obj)

    @staticmethod
    def resolve_duplicates(obj: Case, context) -> list[Case]:
        if obj.status != Case.Status.REPORTED:
            return []
        user = context["request"].user
        reported = getattr(obj, "reported", None)  # just reported: the report looked already
        if reported is not None:
            return duplicates.visible(user, reported.duplicates)
        return services.suggestions_for(user, [obj])[obj.pk]

    @staticmethod
    def resolve_suggested_unit_id(obj: Case) -> int | None:
        if obj.status not in (Case.Status.ACCEPTED, Case.Status.RETURNED):
            return None
        unit = suggest_unit(obj.category, obj.region, obj.grid)
        return unit.pk if unit else None


class ReportIn(Schema):
    category_id: int
    description: str
    lat: Decimal
    lng: Decimal
    address: str = ""
    urgent: bool = False


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class ReclassifyIn(Schema):
    category_id: int
    reason: str = ""


class MergeIn(Schema):
    into_id: int
    reason: str = ""


class DispatchIn(Schema):
    lead_unit_id: int
    co_unit_ids: list[int] = []
    note: str = ""


class PartReasonIn(Schema):
    reason: str = ""
    part_id: int | None = None


class PartIn(Schema):
    part_id: int | None = None


class ExtensionIn(Schema):
    days: int
    reason: str = ""
    part_id: int | None = None


class DecideIn(Schema):
    approve: bool
    note: str = ""


class HandleIn(Schema):
    note: str = ""
    part_id: int | None = None


class CaseFilters(Schema):
    status: list[str] = Field(default_factory=list)
    unit_id: int | None = None
    region_id: int | None = None
    category_id: int | None = None
    overdue: bool | None = None
    due_soon_hours: int | None = Field(None, ge=1, le=744)
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None
    q: str | None = None


class SuggestionOut(Schema):
    unit_id: int | None
    unit_name: str | None
    region_id: int | None
    grid_id: int | None


class FigureOut(Schema):
    key: str
    label: str
    numerator: int
    denominator: int
    rate: float | None
    percent: float | None


class MetricsOut(Schema):
    start: dt.datetime
    end: dt.datetime
    at: dt.datetime
    figures: list[FigureOut]


class MetricsQuery(Schema):
    start: dt.date | None = None
    end: dt.date | None = Field(None, description="the last day of the period (included)")
    month: str | None = Field(None, description="YYYY-MM; the default is the current month")
    at: dt.datetime | None = None
    unit_id: int | None = None
    region_id: int | None = None
    category_id: int | None = None


# --- helpers ------------------------------------------------------------------------------------


def _actor(request) -> Actor:
    return Actor.from_request(request, via="api")


def _visible(request) -> CaseQuerySet:
    return Case.objects.visible_to(request.user).select_related("category")


def _case(request, case_id: int) -> Case:
    return get_object_or_404(_visible(request), pk=case_id)


def _part(case: Case, part_id: int | None) -> CasePart | None:
    return get_object_or_404(CasePart, pk=part_id, case=case) if part_id else None


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_current_timezone())


def _with_related(qs: CaseQuerySet) -> CaseQuerySet:
    """What the detail shows beside the case, one query per relation however long the timeline."""
    parts = CasePart.objects.select_related("unit").prefetch_related(
        Prefetch("extension_requests", queryset=ExtensionRequest.objects.order_by())
    )
    return qs.prefetch_related(
        Prefetch("parts", queryset=parts),
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        "photos",
    )


def _detail(request, case: Case) -> Case:
    """The case as it is after a step, fetched again through the caller's scope."""
    return _with_related(_visible(request)).get(pk=case.pk)


def _prefill(case: Case, **related: list) -> Case:
    """Fill ``case``'s prefetch cache with rows already in hand, as ``prefetch_related`` does."""
    cache = case.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        qs = getattr(case, name).get_queryset()
        qs._result_cache, qs._prefetch_done = list(rows), True
        cache[name] = qs  # a reverse relation is cached under its accessor name
    return case


# --- reference data -----------------------------------------------------------------------------


@router.get("/categories", response=list[CategoryOut])
def categories(request, kind: str | None = None):
    """The categories staff may pick (active, without the citizens' "不确定")."""
    qs = Category.objects.staff_selectable()
    return qs.filter(kind=kind) if kind else qs


@router.get("/routing/suggest", response=SuggestionOut)
def routing_suggestion(
    request,
    category_id: int,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    case_id: int | None = None,
):
    """The unit the routing rules suggest, for a case or for a category at a point."""
    category = get_object_or_404(Category, pk=category_id)
    region: Region | None
    grid: Grid | None
    if case_id is not None:
        case = _case(request, case_id)
        region, grid = case.region, case.grid
    elif lat is not None and lng is not None:
        region, grid = geo.locate(lat, lng)
    else:
        region = grid = None
    unit = suggest_unit(category, region, grid)
    return {
        "unit_id": unit.pk if unit else None,
        "unit_name": unit.name if unit else None,
        "region_id": region.pk if region else None,
        "grid_id": grid.pk if grid else None,
    }


# --- list, detail, report -----------------------------------------------------------------------


def filter_cases(qs: CaseQuerySet, f: CaseFilters) -> CaseQuerySet:
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.unit_id:
        # The unit's cases: the ones it leads and the joint ones it holds an active part of.
        qs = qs.of_unit(f.unit_id, active=True)
    if f.region_id:
        region = get_object_or_404(Region, pk=f.region_id)
        qs = qs.filter(region__path__startswith=region.path)
    if f.category_id:
        qs = qs.filter(category_id=f.category_id)
    if f.overdue:
        qs = qs.overdue()
    if f.due_soon_hours:
        qs = qs.due_soon(hours=f.due_soon_hours)
    if f.reported_from:
        qs = qs.filter(reported_at__gte=_local_midnight(f.reported_from))
    if f.reported_to:
        qs = qs.filter(reported_at__lt=_local_midnight(f.reported_to + dt.timedelta(days=1)))
    if f.q:
        qs = qs.filter(number__contains=f.q) | qs.filter(description__contains=f.q)
    return qs


@router.get("/cases", response=list[CaseOut])
@paginate(CursorPagination, ordering=CASE_LIST_ORDERING)
def case_list(request, filters: Query[CaseFilters]):
    """Cases in the caller's scope, newest first, with cursor pagination (``next`` link)."""
    return filter_cases(_visible(request), filters).with_list_at()


# --- map ----------------------------------------------------------------------------------------

MAP_LIMIT = 500
# A cluster cell is a quarter of a 256-pixel map tile at the zoom asked for; cells double in size
# until the view holds at most MAP_MAX_CELLS of them, so a view never returns more than that.
MAP_CELLS_PER_TILE = 4
MAP_MAX_CELLS = 400
BAD_BBOX = "bbox 应为“最小经度,最小纬度,最大经度,最大纬度”，且最小值小于最大值"
BAD_ZOOM = "zoom 应为 0 到 22 之间的整数"


class MapPoint(Schema):
    id: int
    number: str
    lat: float
    lng: float
    status: str
    label: str
    url: str


class MapCluster(Schema):
    lat: float
    lng: float
    count: int


class MapOut(Schema):
    mode: str = Field(description="points: each case; clusters: grid cells with count and centroid")
    total: int = Field(description="matching cases in the view")
    cell: float | None = Field(None, description="cluster cell size in degrees")
    items: list[MapPoint] | list[MapCluster]


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise ValidationError(BAD_BBOX) from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValidationError(BAD_BBOX)
    return west, south, east, north


def _zoom(text: str) -> int:
    try:
        zoom = int(text)
    except ValueError as exc:
        raise ValidationError(BAD_ZOOM) from exc
    if not 0 <= zoom <= 22:
        raise ValidationError(BAD_ZOOM)
    return zoom


def cell_size(bbox: tuple[float, float, float, float], zoom: int) -> float:
    """Degrees per cluster cell: aligned to a global grid (cells stay put while the map pans)."""
    west, south, east, north = bbox
    cell = 360 / 2**zoom / MAP_CELLS_PER_TILE
    while (math.floor(east / cell) - math.floor(west / cell) + 1) * (
        math.floor(north / cell) - math.floor(south / cell) + 1
    ) > MAP_MAX_CELLS:
        cell *= 2
    return cell


@router.get("/map", response=MapOut, url_name="case_map")
def case_map(request, bbox: str = "", zoom: str = ""):
    """The cases in a map view (``bbox`` = min lng, min lat, max lng, max lat in WGS-84): each
    case when at most 500 match, otherwise grid clusters (count and centroid) counted by the
    database. Filters are those of the list page (status, state, unit, region, category, dates,
    q, a summary or metric figure); the caller's scope always applies."""
    box, level = _bbox(bbox), _zoom(zoom)
    form = CaseFilterForm(request.GET)
    if not form.is_valid():
        raise ValidationError(
            [
                f"{form.fields[name].label or name}：{e}" if name in form.fields else str(e)
                for name, errors in form.errors.items()
                for e in errors
            ]
        )
    west, south, east, north = box
    qs = form.filter(Case.objects.visible_to(request.user)).filter(
        lng__gte=west, lng__lte=east, lat__gte=south, lat__lte=north
    )
    rows = list(
        qs.order_by().values("pk", "number", "lat", "lng", "status", "category__name")[: MAP_LIMIT + 1]
    )
    if len(rows) <= MAP_LIMIT:
        items = [
            {
                "id": r["pk"],
                "number": r["number"],
                "lat": float(r["lat"]),
                "lng": float(r["lng"]),
                "status": r["status"],
                "label": f"{r['number']} {r['category__name']}",
                "url": reverse("cases:detail", args=[r["pk"]]),
            }
            for r in rows
        ]
        return {"mode": "points", "total": len(items), "items": items}
    # Clusters: counted over the view widened to whole cells of the global grid, so every view
    # with the same cells, zoom, filters and scope gets the same answer, cached for
    # CASES_MAP_MAX_AGE seconds (a district-wide view reads every case in it).
    cell = cell_size(box, level)
    x0, y0 = math.floor(west / cell), math.floor(south / cell)
    x1, y1 = math.floor(east / cell) + 1, math.floor(north / cell) + 1
    filters = sorted((k, v) for k, vs in request.GET.lists() if k not in ("bbox", "zoom") for v in vs)
    raw = repr((stored.scope_key(request.user, timezone.now()), filters, level, cell, x0, y0, x1, y1))
    key = "cases:map:" + hashlib.sha256(raw.encode()).hexdigest()
    answer = cache.get(key)
    if answer is None:
        answer = _clusters(
            form.filter(Case.objects.visible_to(request.user)).filter(
                lng__gte=x0 * cell, lng__lt=x1 * cell, lat__gte=y0 * cell, lat__lt=y1 * cell
            ),
            cell,
        )
        cache.set(key, answer, map_max_age())
    return answer


def map_max_age() -> int:
    return getattr(settings, "CASES_MAP_MAX_AGE", 60)


def _clusters(qs: QuerySet[Case], cell: float) -> dict:
    cells = (
        qs.order_by()
        .annotate(
            cx=Floor(Cast("lng", FloatField()) / cell),
            cy=Floor(Cast("lat", FloatField()) / cell),
        )
        .values("cx", "cy")
        .annotate(count=Count("pk"), lat=Avg(Cast("lat", FloatField())), lng=Avg(Cast("lng", FloatField())))
    )
    clusters = [{"lat": c["lat"], "lng": c["lng"], "count": c["count"]} for c in cells]
    return {"mode": "clusters", "total": sum(c["count"] for c in clusters), "cell": cell, "items": clusters}


@router.get("/cases/{case_id}", response=CaseDetailOut)
def case_detail(request, case_id: int):
    return get_object_or_404(_with_related(_visible(request)), pk=case_id)


@router.post("/cases", response={201: CaseDetailOut})
def report(request, payload: Form[ReportIn], photos: list[UploadedFile] = PHOTOS):
    """上报: multipart form with the fields and the ``photos`` (field reports need at least one).
    The source follows the reporter's role, as on the pages; the timeline records ``via=api``."""
    category = get_object_or_404(Category, pk=payload.category_id)
    case = services.report_case(
        _actor(request),
        category=category,
        description=payload.description,
        lat=payload.lat,
        lng=payload.lng,
        address=payload.address,
        urgent=payload.urgent,
        photos_uploaded=photos or [],
    )
    # The answer is the detail, built from what the report wrote (a new case has no parts yet)
    # rather than read back: the reporter sees their own reports.
    reported = case.reported  # type: ignore[attr-defined]
    return Status(201, _prefill(case, parts=[], events=[reported.event], photos=reported.photos))


# --- the steps ----------------------------------------------------------------------------------


@router.post("/cases/{case_id}/accept", response=CaseDetailOut)
def accept(request, case_id: int, payload: NoteIn):
    return _detail(request, services.accept_case(_actor(request), _case(request, case_id), payload.note))


@router.post("/cases/{case_id}/reject", response=CaseDetailOut)
def reject(request, case_id: int, payload: ReasonIn):
    return _detail(request, services.reject_case(_actor(request), _case(request, case_id), payload.reason))


@router.post("/cases/{case_id}/merge", response=CaseDetailOut)
def merge(request, case_id: int, payload: MergeIn):
    case = _case(request, case_id)
    into = Case.objects.filter(pk=payload.into_id).first()  # the service checks it is visible
    return _detail(request, services.merge_case(_actor(request), case, into, payload.reason))


@router.post("/cases/{case_id}/reclassify", response=CaseDetailOut)
def reclassify(request, case_id: int, payload: ReclassifyIn):
    case = _case(request, case_id)
    category = get_object_or_404(Category, pk=payload.category_id)
    return _detail(request, services.reclassify_case(_actor(request), case, category, payload.reason))


@router.post("/cases/{case_id}/dispatch", response=CaseDetailOut)
def dispatch(request, case_id: int, payload: DispatchIn):
    case = _case(request, case_id)
    lead = get_object_or_404(Unit, pk=payload.lead_unit_id)
    co_units = list(Unit.objects.filter(pk__in=payload.co_unit_ids))
    if len(co_units) != len(set(payload.co_unit_ids)):
        raise Http404
    return _detail(request, services.dispatch_case(_actor(request), case, lead, co_units, payload.note))


@router.post("/cases/{case_id}/return", response=CaseDetailOut)
def return_(request, case_id: int, payload: PartReasonIn):
    case = _case(request, case_id)
    return _detail(
        request, services.return_case(_actor(request), case, payload.reason, _part(case, payload.part_id))
    )


@router.post("/cases/{case_id}/start", response=CaseDetailOut)
def start(request, case_id: int, payload: PartIn):
    case = _case(request, case_id)
    return _detail(request, services.start_handling(_actor(request), case, _part(case, payload.part_id)))


@router.post("/cases/{case_id}/extensions", response={201: ExtensionOut})
def request_extension(request, case_id: int, payload: ExtensionIn):
    case = _case(request, case_id)
    extension = services.request_extension(
        _actor(request), case, payload.days, payload.reason, _part(case, payload.part_id)
    )
    return Status(201, extension)


@router.post("/cases/{case_id}/extensions/{extension_id}/decide", response=ExtensionOut)
def decide_extension(request, case_id: int, extension_id: int, payload: DecideIn):
    case = _case(request, case_id)
    extension = get_object_or_404(
        ExtensionRequest.objects.select_related("part"), pk=extension_id, part__case=case
    )
    return services.decide_extension(_actor(request), case, extension, payload.approve, payload.note)


@router.post("/cases/{case_id}/handle", response=CaseDetailOut)
def handle(request, case_id: int, payload: Form[HandleIn], photos: list[UploadedFile] = PHOTOS):
    """处置完成: multipart form with the after-``photos`` (at least one) and a note."""
    case = _case(request, case_id)
    return _detail(
        request,
        services.handle_part(_actor(request), case, photos or [], payload.note, _part(case, payload.part_id)),
    )


@router.post("/cases/{case_id}/verify", response=CaseDetailOut)
def verify(request, case_id: int, payload: NoteIn):
    return _detail(request, services.verify_case(_actor(request), _case(request, case_id), payload.note))


@router.post("/cases/{case_id}/rework", response=CaseDetailOut)
def rework(request, case_id: int, payload: ReasonIn):
    return _detail(request, services.rework_case(_actor(request), _case(request, case_id), payload.reason))


# --- metrics ------------------------------------------------------------------------------------


def _selection(request, q: MetricsQuery) -> metrics.Selection:
    services.check_view_figures(request.user)
    if q.start and q.end:
        start, end = _local_midnight(q.start), _local_midnight(q.end + dt.timedelta(days=1))
    else:
        today = timezone.localdate()
        year, month = metrics.parse_month(q.month) if q.month else (today.year, today.month)
        start, end = metrics.month(year, month)
    return metrics.select(
        start,
        end,
        at=q.at,
        unit=get_object_or_404(Unit, pk=q.unit_id) if q.unit_id else None,
        region=get_object_or_404(Region, pk=q.region_id) if q.region_id else None,
        category=get_object_or_404(Category, pk=q.category_id) if q.category_id else None,
        viewer=request.user,
    )


@router.get("/metrics", response=MetricsOut)
def metric_figures(request, q: Query[MetricsQuery]):
    """The eleven case metrics over a period (a month, or start..end days) as of ``at``, within
    the caller's scope. ``rate`` is null when there is no data (zero denominator). A month
    without ``at`` is read from the stored figures: a past month as of its end, the current
    month from a snapshot at most ``CASES_FIGURES_MAX_AGE`` seconds old; ``at`` is their T."""
    selection = _selection(request, q)
    figures, at = stored.metric_figures(selection, live=q.at is not None)
    return {
        "start": selection.start,
        "end": selection.end,
        "at": at,
        "figures": [
            {**vars(f), "rate": f.rate, "percent": f.percent} for f in (figures[k] for k in metrics.METRICS)
        ],
    }


@router.get("/metrics/{key}/cases", response=list[CaseOut])
@paginate(CursorPagination, ordering=LIST_ORDERING)
def metric_cases(request, key: str, q: Query[MetricsQuery], side: str = "numerator"):
    """The cases behind one figure (``side``: numerator or denominator)."""
    if key not in metrics.METRICS or side not in ("numerator", "denominator"):
        raise Http404
    return metrics.behind(_selection(request, q), key, side).select_related("category")
