"""Cases JSON API under /api/v1/cases/: the list and detail (with timeline), reporting with
photos, every step of the loop, categories, the routing suggestion and the metrics.

Every case is fetched through ``Case.objects.visible_to(user)`` (outside the scope: 404; the
detail asks it only of a person whose scope is not the whole district, then reads the rows by
compiled queries); every step calls its function in ``cases.services``, which checks role, scope
and state.
"""

import functools
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import CursorPagination, paginate

from org import compiled, dump
from org.audit import Actor
from org.compiled import M
from org.models import Grid, Region, Unit, User
from org.scope import scope_for
from workdays.periods import aware, day_range, parse_month

from . import clusters, geo, metrics, services
from . import stored_figures as stored
from .filtersets import CaseFilterSet
from .models import (
    LIST_AT,
    Case,
    CaseEvent,
    CasePart,
    CasePhoto,
    CaseQuerySet,
    Category,
    ExtensionRequest,
    FieldCheck,
)
from .routing import suggest_unit
from .schemas import (
    CaseDetailOut,
    CaseFilterQuery,
    CaseOut,
    CategoryOut,
    DecideIn,
    DispatchIn,
    ExtensionIn,
    ExtensionOut,
    FieldCheckIn,
    HandleIn,
    MergeIn,
    MetricsOut,
    MetricsQuery,
    NoteIn,
    PartIn,
    PartReasonIn,
    ReasonIn,
    ReclassifyIn,
    ReportIn,
    SuggestionOut,
)

router = Router(tags=["案件 cases"])

LIST_ORDERING = ("-reported_at", "-pk")
# The case list's: ``list_at`` is the report time, read from the unit's part index when the list
# is filtered by unit (``CaseQuerySet.of_unit``), so such a page is one index seek.
CASE_LIST_ORDERING = (f"-{LIST_AT}", "-pk")
PHOTOS = File(None, description="照片 (JPEG, PNG or WebP), any number")


# --- helpers ------------------------------------------------------------------------------------


def _actor(request) -> Actor:
    return Actor.from_request(request, via="api")


def _visible(request) -> CaseQuerySet:
    return Case.objects.visible_to(request.user).select_related("category")


def _case(request, case_id: int) -> Case:
    return get_object_or_404(_visible(request), pk=case_id)


# A category by its id, as every report asks: one query compiled once per process (the marker is
# an id no category has).
_CATEGORY_MARKS = [-7_310_031]


def _category_row(marks: list):
    return Category.objects.filter(pk=marks[0]).values(*compiled.columns(Category))


def _category(category_id: int) -> Category:
    """The category ``category_id`` (404 if there is none)."""
    query = compiled.compiled(("cases.api.category",), _category_row, _CATEGORY_MARKS)
    rows = query.rows([category_id])
    if not rows:
        raise Http404("类别不存在")
    return compiled.instance(Category, query.db, rows[0])


def _part(case: Case, part_id: int | None) -> CasePart | None:
    return get_object_or_404(CasePart, pk=part_id, case=case) if part_id else None


# The detail's rows, each read by a query compiled once per process and prepared on PostgreSQL
# (``org.compiled``): Django compiling the six queries of a case and its relations cost more CPU
# than PostgreSQL took to answer them. The marker is a case id no case has.
_DETAIL_MARKS = [-7_310_021]


def _detail_rows(marks: list) -> dict[str, QuerySet]:
    (case_id,) = marks
    return {
        "case": Case.objects.filter(pk=case_id).values(
            *compiled.columns(Case), *compiled.columns(Category, "category__")
        ),
        "parts": CasePart.objects.filter(case_id=case_id).values(
            *compiled.columns(CasePart), *compiled.columns(Unit, "unit__")
        ),
        "extensions": ExtensionRequest.objects.filter(part__case_id=case_id)
        .order_by()
        .values(*compiled.columns(ExtensionRequest)),
        "events": CaseEvent.objects.filter(case_id=case_id).values(
            *compiled.columns(CaseEvent), *compiled.columns(User, "actor__")
        ),
        "photos": CasePhoto.objects.filter(case_id=case_id).values(*compiled.columns(CasePhoto)),
        "field_checks": FieldCheck.objects.filter(case_id=case_id).values(
            *compiled.columns(FieldCheck), *compiled.columns(User, "verifier__")
        ),
    }


def _detail_row(name: str, marks: list) -> QuerySet:
    return _detail_rows(marks)[name]


_DETAIL_NAMES = tuple(_detail_rows(_DETAIL_MARKS))  # the case first, then its related rows


def _read_detail(request, case_id: int) -> Case:
    """The case with its parts (and their units and extension requests), timeline (with actors),
    photos and field checks, as the detail shows it; 404 outside the caller's scope."""
    if (
        not scope_for(request.user).everything
        and not Case.objects.visible_to(request.user).filter(pk=case_id).exists()
    ):
        raise Http404("案件不存在或不在您的范围内")
    queries = [
        compiled.compiled(("cases.api.detail", name), functools.partial(_detail_row, name), _DETAIL_MARKS)
        for name in _DETAIL_NAMES
    ]
    db = queries[0].db
    # The case and its related rows in one round trip on PostgreSQL (``rows_together``).
    found = dict(zip(_DETAIL_NAMES, compiled.rows_together([(q, [case_id]) for q in queries]), strict=True))
    if not found["case"]:
        raise Http404("案件不存在或不在您的范围内")
    case = compiled.instance(Case, db, found["case"][0], related=("category",))

    def children(name: str, model, related: tuple = ()) -> list:
        objects = [compiled.instance(model, db, row, related=related) for row in found[name]]
        for obj in objects:
            model._meta.get_field("case").set_cached_value(obj, case)
        return objects

    parts = children("parts", CasePart, ("unit",))
    requests: dict[int, list[ExtensionRequest]] = {p.pk: [] for p in parts}
    for row in found["extensions"]:
        request_ = compiled.instance(ExtensionRequest, db, row)
        requests[request_.part_id].append(request_)
    for part in parts:
        _prefill(part, extension_requests=requests[part.pk])
    return _prefill(
        case,
        parts=parts,
        events=children("events", CaseEvent, ("actor",)),
        photos=children("photos", CasePhoto),
        field_checks=children("field_checks", FieldCheck, ("verifier",)),
    )


def _answer(request, case: Case, status: int = 200) -> HttpResponse:
    """The detail of ``case`` as ``CaseDetailOut`` describes it (``org.dump``: ninja's answer
    without validating each of its ≈ 80 attributes)."""
    return dump.response(request, CaseDetailOut, case, status)


def _detail(request, case: Case) -> HttpResponse:
    """The case as it is after a step, read again through the caller's scope."""
    return _answer(request, _read_detail(request, case.pk))


def _prefill(obj: M, **related: list) -> M:
    """Fill ``obj``'s prefetch cache with rows already in hand, as ``prefetch_related`` does."""
    cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        qs = getattr(obj, name).get_queryset()
        qs._result_cache, qs._prefetch_done = list(rows), True
        cache[name] = qs  # a reverse relation is cached under its accessor name
    return obj


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
    category = _category(category_id)
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


@router.get("/cases", response=list[CaseOut])
@paginate(CursorPagination, ordering=CASE_LIST_ORDERING)
def case_list(request, filters: Query[CaseFilterQuery]):
    """Cases in the caller's scope, newest first, with cursor pagination (``next`` link)."""
    unknown = sorted(set(request.GET) - set(CaseFilterSet.base_filters) - {"cursor", "page_size"})
    if unknown:
        raise ValidationError(f"未知的筛选条件：{'、'.join(unknown)}")
    filterset = CaseFilterSet(request.GET, _visible(request))
    filterset.check()
    return filterset.qs.with_list_at()


# --- map ----------------------------------------------------------------------------------------


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


@router.get("/map", response=MapOut, url_name="case_map")
def case_map(request, bbox: str = "", zoom: str = ""):
    """The cases in a map view (``bbox`` = min lng, min lat, max lng, max lat in WGS-84): each
    case when at most 500 match, otherwise grid clusters (count and centroid) counted by the
    database (``cases.clusters``). Filters are those of the list page (status, state, unit,
    region, category, dates, q, a summary or metric figure); the caller's scope always applies."""
    return clusters.map_view(request.user, request.GET, bbox, zoom)


@router.get("/cases/{case_id}", response=CaseDetailOut)
def case_detail(request, case_id: int):
    return _answer(request, _read_detail(request, case_id))


@router.post("/cases", response={201: CaseDetailOut})
def report(request, payload: Form[ReportIn], photos: list[UploadedFile] = PHOTOS):
    """上报: multipart form with the fields and the ``photos`` (field reports need at least one).
    The source follows the reporter's role, as on the pages; the timeline records ``via=api``."""
    category = _category(payload.category_id)
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
    return _answer(
        request,
        _prefill(case, parts=[], events=[reported.event], photos=reported.photos, field_checks=[]),
        201,
    )


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
    category = _category(payload.category_id)
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
        _actor(request), case, payload.days, payload.reason, _part(case, payload.part_id), hours=payload.hours
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


@router.post("/cases/{case_id}/field-check", response=CaseDetailOut)
def field_check(request, case_id: int, payload: Form[FieldCheckIn], photos: list[UploadedFile] = PHOTOS):
    """现场核查: multipart form with ``passed``, the phone's ``lat``/``lng``, a ``note`` (required
    on a fail) and on-site ``photos`` (at least one); only the verifier the task went to."""
    case = _case(request, case_id)
    services.field_check_case(
        _actor(request),
        case,
        passed=payload.passed,
        photos_uploaded=photos or [],
        lat=payload.lat,
        lng=payload.lng,
        note=payload.note,
    )
    return _detail(request, case)


@router.post("/cases/{case_id}/verify", response=CaseDetailOut)
def verify(request, case_id: int, payload: NoteIn):
    return _detail(request, services.verify_case(_actor(request), _case(request, case_id), payload.note))


@router.post("/cases/{case_id}/rework", response=CaseDetailOut)
def rework(request, case_id: int, payload: ReasonIn):
    return _detail(request, services.rework_case(_actor(request), _case(request, case_id), payload.reason))


# --- metrics ------------------------------------------------------------------------------------


def _selection(request, q: MetricsQuery) -> metrics.Selection:
    services.check_view_figures(request.user)
    if q.start or q.end:
        if not (q.start and q.end):
            raise ValidationError("请同时给出 start 和 end，或给出 month")
        start, end = day_range(q.start, q.end)
        assert start is not None and end is not None
    else:
        today = timezone.localdate()
        start, end = metrics.month(*(parse_month(q.month) if q.month else (today.year, today.month)))
    return metrics.select(
        start,
        end,
        at=aware(q.at) if q.at else None,
        unit=get_object_or_404(Unit, pk=q.unit_id) if q.unit_id else None,
        region=get_object_or_404(Region, pk=q.region_id) if q.region_id else None,
        category=_category(q.category_id) if q.category_id else None,
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
