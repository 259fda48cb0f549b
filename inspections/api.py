"""Inspections JSON API under /api/v1/inspections/: every step of the pages.

Rounds (list, detail, plan with a seeded draw, close, publish), today's sites, a site's checklist
for a round, submitting an inspection (multipart; idempotent on its ``uid``: 201 the first time,
200 with the same record after), inspections, the rectification list, findings to cases, and the
figures. Lists take the same filters as the pages (``inspections.filtersets``); every record is
fetched through ``visible_to(user)`` (outside the scope: 404); every step calls its service."""

import datetime as dt
import json
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from cases.models import Category
from indicators.models import IndexSystem
from org.audit import Actor
from org.models import Site, User
from org.pagination import RowId

from . import scoring, services
from .filtersets import FindingFilterSet, InspectionFilterSet, RoundFilterSet
from .models import Checklist, Finding, Inspection, Round, RoundSite

router = Router(tags=["督查 inspections"])
CHECKLIST_FILE = File(..., description="测评表 XLSX (the layout of the export)")


def _actor(request) -> Actor:
    return Actor.from_request(request, via="api")


def _filtered(filterset_class, request, queryset):
    filters = filterset_class(request.GET, queryset=queryset, request=request)
    if not filters.is_valid():
        raise ValidationError({k: [str(e) for e in v] for k, v in filters.errors.items()})
    return filters.qs


# --- schemas ------------------------------------------------------------------------------------


class RoundOut(Schema):
    id: int
    title: str
    kind: str
    kind_name: str
    starts_on: dt.date
    ends_on: dt.date
    status: str
    published_at: dt.datetime | None
    seed: int | None
    draw: dict | None
    inspector_ids: list[int]

    @staticmethod
    def resolve_kind_name(obj: Round) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_inspector_ids(obj: Round) -> list[int]:
        return [u.pk for u in obj.inspectors.all()]


class RoundSiteOut(Schema):
    site_id: int
    code: str
    name: str
    kind: str
    drawn: bool
    inspection_id: int | None = None
    score: Decimal | None = None
    full_points: Decimal | None = None


class RoundDetailOut(RoundOut):
    sites: list[RoundSiteOut]
    allowed_actions: list[str]


class DrawIn(Schema):
    seed: int | None = None
    kinds: list[str]
    street_codes: list[str]
    per_group: int = 1


class RoundIn(Schema):
    title: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    inspector_ids: list[RowId]
    site_ids: list[RowId] = []
    draw: DrawIn | None = None
    note: str = ""


class InspectionNoteIn(Schema):
    note: str = ""


class TodayOut(Schema):
    round_id: int
    round_title: str = Field(alias="round.title")
    kind: str = Field(alias="round.kind")
    site_id: int
    site_name: str = Field(alias="site.name")
    lat: float | None = Field(alias="site.lat")
    lng: float | None = Field(alias="site.lng")


class CheckItemOut(Schema):
    id: int
    code: str
    text: str
    criterion_id: int
    points: Decimal
    rule: str
    unit_deduction: Decimal
    max_deduction: Decimal
    photo_required: bool
    category_id: int | None


class PendingOut(Schema):
    id: int
    item_code: str = Field(alias="item.code")
    description: str
    found_at: dt.datetime
    deadline: dt.datetime


class ChecklistOut(Schema):
    round_id: int
    site_id: int
    checklist: str | None
    items: list[CheckItemOut]
    pending_findings: list[PendingOut]
    checkin_radius_m: float


class InspectionIn(Schema):
    uid: str
    lat: str = ""
    lng: str = ""
    device: str = ""
    note: str = ""
    lines: str = Field(
        "[]", description='JSON: [{"item_id", "result": pass|fail|na, "occurrences", "deduction", "note"}]'
    )
    rechecks: str = Field("{}", description='复查: JSON {"<finding id>": true (rectified) | false}')


class ResultOut(Schema):
    item_id: int
    code: str = Field(alias="item.code")
    result: str
    occurrences: int
    deduction: Decimal
    note: str


class InspectionOut(Schema):
    id: int
    uid: str
    round_id: int
    site_id: int
    inspector_id: int
    submitted_at: dt.datetime
    lat: Decimal | None
    lng: Decimal | None
    distance_m: float | None
    far_from_site: bool
    device: str
    full_points: Decimal
    deductions: Decimal
    score: Decimal
    percent: Decimal | None
    responsible_unit_id: int | None
    responsible_leader_id: int | None
    finding_ids: list[int]

    @staticmethod
    def resolve_uid(obj: Inspection) -> str:
        return str(obj.uid)

    @staticmethod
    def resolve_percent(obj: Inspection) -> Decimal | None:
        return scoring.inspection_percent(obj)

    @staticmethod
    def resolve_finding_ids(obj: Inspection) -> list[int]:
        return [f.pk for f in obj.findings.all()]


class InspectionDetailOut(InspectionOut):
    results: list[ResultOut]


class FindingOut(Schema):
    id: int
    inspection_id: int
    round_id: int = Field(alias="inspection.round_id")
    site_id: int
    item_id: int
    item_code: str = Field(alias="item.code")
    description: str
    deduction: Decimal
    found_at: dt.datetime
    deadline: dt.datetime
    overdue: bool
    status: str
    responsible_unit_id: int | None
    responsible_leader_id: int | None
    case_id: int | None
    case_number: str | None
    rectified_at: dt.datetime | None
    recheck_failures: int
    photos: list[str]

    @staticmethod
    def resolve_overdue(obj: Finding) -> bool:
        return obj.is_overdue()

    @staticmethod
    def resolve_case_number(obj: Finding) -> str | None:
        return obj.case.number if obj.case else None

    @staticmethod
    def resolve_photos(obj: Finding) -> list[str]:
        return [p.image.url for p in obj.photos.all()]


class ToCasesIn(Schema):
    finding_ids: list[int]
    category_id: int | None = None


class CaseRefOut(Schema):
    id: int
    number: str
    status: str
    lead_unit_id: int | None
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/v1/cases/cases/{obj.pk}"


class InspectionRowOut(Schema):
    key: str
    label: str
    inspections: int
    sites: int
    average: Decimal | None


class ItemRateOut(Schema):
    item_id: int
    code: str
    text: str
    applicable: int
    passed: int
    rate: Decimal | None


class InspectionFiguresOut(Schema):
    sites_inspected: int
    inspections: int
    average: Decimal | None
    findings: int
    rectified: int
    rectified_on_time: int
    open: int
    overdue: int
    rectification_rate: Decimal | None
    on_time_rate: Decimal | None
    by: str
    rows: list[InspectionRowOut]
    items: list[ItemRateOut]


# --- rounds -------------------------------------------------------------------------------------


def _round(request, round_id: int) -> Round:
    return get_object_or_404(Round.objects.visible_to(request.user), pk=round_id)


def _round_detail(request, round_: Round) -> Round:
    """The round with its sites (and their scores where inspected) and the caller's next steps."""
    done = {i.site_id: i for i in Inspection.objects.visible_to(request.user).filter(round=round_)}
    sites = []
    for rs in RoundSite.objects.filter(round=round_).select_related("site"):
        inspection = done.get(rs.site_id)
        sites.append(
            {
                "site_id": rs.site_id,
                "code": rs.site.code,
                "name": rs.site.name,
                "kind": rs.site.kind,
                "drawn": rs.drawn,
                "inspection_id": inspection.pk if inspection else None,
                "score": inspection.score if inspection else None,
                "full_points": inspection.full_points if inspection else None,
            }
        )
    round_.sites = sites  # type: ignore[attr-defined]
    round_.allowed_actions = services.allowed_actions(request.user, round_)  # type: ignore[attr-defined]
    return round_


@router.get("/rounds", response=list[RoundOut])
@paginate
def list_rounds(request, kind: str = "", status: str = "", start: str = "", end: str = ""):
    """The rounds the caller may see (an unpublished 暗访 only for HQ and its inspectors)."""
    return _filtered(
        RoundFilterSet, request, Round.objects.visible_to(request.user).prefetch_related("inspectors")
    )


@router.post("/rounds", response={201: RoundDetailOut})
def plan_round(request, data: RoundIn):
    """计划轮次 (HQ): sites by id and/or a random draw (the seed is generated when not given)."""
    draw = None
    if data.draw is not None:
        draw = services.Draw(
            seed=data.draw.seed or services.new_seed(),
            kinds=tuple(data.draw.kinds),
            street_codes=tuple(data.draw.street_codes),
            per_group=data.draw.per_group,
        )
    services.check_plan(request.user)
    inspectors = list(User.objects.filter(pk__in=data.inspector_ids, is_active=True))
    sites = list(Site.objects.filter(pk__in=data.site_ids))
    if len(inspectors) != len(set(data.inspector_ids)) or len(sites) != len(set(data.site_ids)):
        raise ValidationError("督查人员或点位不存在")
    round_ = services.plan_round(
        _actor(request),
        title=data.title,
        kind=data.kind,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        inspectors=inspectors,
        sites=sites,
        draw=draw,
        note=data.note,
    )
    return Status(201, _round_detail(request, round_))


@router.get("/rounds/{int:round_id}", response=RoundDetailOut)
def get_round(request, round_id: int):
    return _round_detail(request, _round(request, round_id))


@router.post("/rounds/{int:round_id}/close", response=RoundDetailOut)
def close_round(request, round_id: int, data: InspectionNoteIn):
    round_ = services.close_round(_actor(request), _round(request, round_id), data.note)
    return _round_detail(request, round_)


@router.post("/rounds/{int:round_id}/publish", response=RoundDetailOut)
def publish_round(request, round_id: int, data: InspectionNoteIn):
    """发布 an 暗访 round: it and its findings become visible to the inspected."""
    round_ = services.publish_round(_actor(request), _round(request, round_id), data.note)
    return _round_detail(request, round_)


# --- inspecting ---------------------------------------------------------------------------------


@router.get("/today", response=list[TodayOut])
def today(request):
    """The caller's sites to inspect today (open rounds naming them, not yet inspected)."""
    return list(services.pending_sites(request.user))


def _round_site(request, round_id: int, site_id: int) -> tuple[Round, Site]:
    round_ = _round(request, round_id)
    site = get_object_or_404(
        Site, pk=site_id, pk__in=RoundSite.objects.filter(round=round_).values("site_id")
    )
    return round_, site


@router.get("/rounds/{int:round_id}/sites/{int:site_id}/checklist", response=ChecklistOut)
def checklist(request, round_id: int, site_id: int):
    """What the phone shows: the site's checklist lines and, in a 复查, the findings to verify."""
    round_, site = _round_site(request, round_id, site_id)
    found = services.checklist_for(round_, site)
    pending = services.open_findings_at(site, round_) if round_.kind == Round.Kind.REINSPECTION else []
    return {
        "round_id": round_.pk,
        "site_id": site.pk,
        "checklist": found.name if found else None,
        "items": list(found.items.all()) if found else [],
        "pending_findings": list(pending),
        "checkin_radius_m": services.checkin_radius_m(),
    }


def _json(text: str, what: str, kind: type):
    try:
        value = json.loads(text or ("[]" if kind is list else "{}"))
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{what} 不是有效的 JSON") from exc
    if not isinstance(value, kind):
        raise ValidationError(f"{what} 格式不对")
    return value


def _lines(request, raw: list) -> list[services.Line]:
    lines = []
    for entry in raw:
        if not isinstance(entry, dict) or "item_id" not in entry:
            raise ValidationError("lines 的每一项须有 item_id")
        try:
            item_id, occurrences = int(entry["item_id"]), int(entry.get("occurrences") or 1)
        except (TypeError, ValueError) as exc:
            raise ValidationError("item_id 或 occurrences 无效") from exc
        lines.append(
            services.Line(
                item_id=item_id,
                result=str(entry.get("result", "")),
                occurrences=occurrences,
                deduction=entry.get("deduction"),
                note=str(entry.get("note", "")),
                photos=request.FILES.getlist(f"photo_{item_id}"),
            )
        )
    return lines


@router.post(
    "/rounds/{int:round_id}/sites/{int:site_id}/inspections",
    response={200: InspectionDetailOut, 201: InspectionDetailOut},
)
def submit(request, round_id: int, site_id: int, payload: Form[InspectionIn]):
    """提交检查 (multipart): ``lines`` as JSON, each failure's photos as files ``photo_<item_id>``.
    Sending the same ``uid`` again returns the stored inspection (200) and writes nothing."""
    round_, site = _round_site(request, round_id, site_id)
    rechecks = _json(payload.rechecks, "rechecks", dict)
    try:
        verdicts = {int(k): bool(v) for k, v in rechecks.items()}
    except ValueError as exc:
        raise ValidationError("rechecks 的键须为问题编号") from exc
    inspection, created = services.submit_inspection(
        _actor(request),
        round_,
        site,
        uid=payload.uid,
        lines=_lines(request, _json(payload.lines, "lines", list)),
        rechecks=verdicts,
        lat=payload.lat,
        lng=payload.lng,
        device=payload.device or request.META.get("HTTP_USER_AGENT", ""),
        note=payload.note,
    )
    return Status(201 if created else 200, _inspection(request, inspection.pk))


def _inspection(request, pk: int) -> Inspection:
    return get_object_or_404(
        Inspection.objects.visible_to(request.user).prefetch_related("findings", "results__item"), pk=pk
    )


@router.get("/inspections", response=list[InspectionOut])
@paginate
def list_inspections(request):
    """Inspections (filters: round, kind, site_kind, street, unit, start, end)."""
    qs = Inspection.objects.visible_to(request.user).prefetch_related("findings")
    return _filtered(InspectionFilterSet, request, qs)


@router.get("/inspections/{int:inspection_id}", response=InspectionDetailOut)
def get_inspection(request, inspection_id: int):
    return _inspection(request, inspection_id)


# --- findings -----------------------------------------------------------------------------------


def _findings(request):
    return (
        Finding.objects.visible_to(request.user)
        .select_related("inspection", "item", "case")
        .prefetch_related("photos")
    )


@router.get("/findings", response=list[FindingOut])
@paginate
def list_findings(request):
    """整改清单 (filters: state open|overdue|in_case|not_in_case|rectified|on_time, unit, round,
    kind, site_kind, street, item, start, end)."""
    return _filtered(FindingFilterSet, request, _findings(request))


@router.get("/findings/{int:finding_id}", response=FindingOut)
def get_finding(request, finding_id: int):
    return get_object_or_404(_findings(request), pk=finding_id)


@router.post("/findings/cases", response={201: list[CaseRefOut]})
def findings_to_cases(request, data: ToCasesIn):
    """转案件 for the findings named (all or none); ``category_id`` for lines without one."""
    chosen = list(_findings(request).filter(pk__in=data.finding_ids))
    if len(chosen) != len(set(data.finding_ids)):
        raise ValidationError("问题不存在或不在您的权限范围内")
    category = get_object_or_404(Category, pk=data.category_id) if data.category_id else None
    return Status(201, services.findings_to_cases(_actor(request), chosen, category))


# --- checklists ---------------------------------------------------------------------------------


class ChecklistListOut(Schema):
    id: int
    system_id: int
    site_kind: str
    name: str
    items: list[CheckItemOut]


class ChecklistImportErrorOut(Schema):
    sheet: str
    row: int
    column: str
    message: str


class ImportOut(Schema):
    counts: dict[str, int]


class ChecklistImportFailedOut(Schema):
    detail: str
    # Empty when the request itself was refused before the workbook was read (e.g. a bad field).
    errors: list[ChecklistImportErrorOut] = []


@router.get("/checklists", response=list[ChecklistListOut])
def list_checklists(request, system_id: int | None = None):
    """The checklists of an index system (default: the active one)."""
    system = get_object_or_404(IndexSystem, pk=system_id) if system_id else IndexSystem.active()
    return list(Checklist.objects.filter(system=system).prefetch_related("items")) if system else []


@router.post("/checklists/{int:system_id}/import", response={200: ImportOut, 400: ChecklistImportFailedOut})
def import_checklists(request, system_id: int, file: UploadedFile = CHECKLIST_FILE):
    """导入测评表 (HQ): the XLSX of the export; any error imports nothing and lists every error."""
    system = get_object_or_404(IndexSystem, pk=system_id)
    result = services.import_checklists(_actor(request), system, file)
    if not result.ok:
        return Status(
            400,
            {
                "detail": f"文件有 {len(result.errors)} 处错误，未导入任何数据",
                "errors": [e.__dict__ for e in result.errors],
            },
        )
    return {"counts": result.counts}


# --- figures ------------------------------------------------------------------------------------


@router.get("/figures", response=InspectionFiguresOut)
def figures(request, by: str = "street"):
    """Sites inspected, average score, findings, 整改率, 按期整改率 (null: no data), the rollup
    ``by`` street|community|site_kind|unit|leader|week|month and each line's pass rate."""
    if by not in scoring.GROUPINGS:
        raise ValidationError(f"by 须为 {'、'.join(scoring.GROUPINGS)} 之一")
    inspections = _filtered(InspectionFilterSet, request, Inspection.objects.visible_to(request.user))
    findings = Finding.objects.visible_to(request.user).filter(inspection__in=inspections.values("pk"))
    result = scoring.figures(inspections, findings)
    return {
        **result.__dict__,
        "rectification_rate": result.rectification_rate,
        "on_time_rate": result.on_time_rate,
        "by": by,
        "rows": [r.__dict__ for r in scoring.rollup(inspections, by)],
        "items": [{**r.__dict__, "rate": r.rate} for r in scoring.item_pass_rates(inspections)],
    }
