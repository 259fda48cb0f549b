"""JSON API of assessment 考评 under /api/v1/assessment/. Figures are the stored (frozen) rows."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from org.audit import Actor
from org.models import Unit

from . import services
from .filtersets import BonusFilter, RunFilter
from .models import Bonus, Circular, Run, Scheme

router = Router(tags=["考评 assessment"])
OPTIONAL_FILE = File(None)  # an optional multipart file part


class RunOut(Schema):
    id: int
    scheme_id: int
    scheme: str
    period_kind: str
    period_start: dt.date
    period_end: dt.date
    label: str
    at: dt.datetime
    status: str
    weights: dict[str, int]
    no_data: str
    published_at: dt.datetime | None
    circular: str | None
    version: int
    previous_id: int | None
    reason: str
    replaced_by_id: int | None


class RunFigureOut(Schema):
    kind: str
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    source: dict


class ScoreOut(Schema):
    unit_id: int
    unit: str
    total: Decimal | None
    rank: int | None
    note: str
    previous_rank: int | None
    movement: str


class ScoreDetailOut(ScoreOut):
    figures: list[RunFigureOut]


class RunDetailOut(RunOut):
    scores: list[ScoreDetailOut]


class RankingOut(Schema):
    ranking: list[ScoreOut]
    red: list[ScoreOut]
    black: list[ScoreOut]


class CorrectIn(Schema):
    reason: str
    at: dt.datetime | None = None


class CircularIn(Schema):
    title: str
    body: str


class CircularOut(Schema):
    id: int
    run_id: int
    status: str
    number: str
    title: str
    body: str
    issued_at: dt.datetime | None
    docx_url: str | None
    pdf_url: str | None


class HistoryOut(Schema):
    run_id: int
    scheme: str
    label: str
    period_start: dt.date
    version: int
    total: Decimal | None
    rank: int | None
    previous_rank: int | None
    movement: str
    note: str


class LeaderUnitOut(Schema):
    unit_id: int
    unit: str
    latest: list[HistoryOut]  # the newest result of each scheme
    history: list[HistoryOut]  # every published result, newest first


class LeaderAreaOut(Schema):
    area: str
    kind: str  # region or site
    units: list[LeaderUnitOut]


class BonusOut(Schema):
    id: int
    scheme_id: int
    label: str
    period_start: dt.date
    unit_id: int
    unit: str
    points: Decimal
    reason: str
    evidence_text: str
    evidence_name: str
    status: str
    entered_by: str
    entered_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str


class BonusDecisionIn(Schema):
    note: str = ""


class ComputeIn(Schema):
    scheme: int
    day: dt.date
    at: dt.datetime | None = None


def _run_out(run: Run) -> dict:
    circular = Circular.objects.filter(run=run, status=Circular.Status.ISSUED).first()
    replaced = services.replaced_by(run)
    return {
        "version": run.version,
        "previous_id": run.previous_id,
        "reason": run.reason,
        "replaced_by_id": replaced.pk if replaced else None,
        "id": run.pk,
        "scheme_id": run.scheme_id,
        "scheme": run.scheme.name,
        "period_kind": run.period_kind,
        "period_start": run.period_start,
        "period_end": run.period_end,
        "label": run.label,
        "at": run.at,
        "status": run.status,
        "weights": run.weights,
        "no_data": run.no_data,
        "published_at": run.published_at,
        "circular": circular.number if circular else None,
    }


def _score(s) -> dict:
    return {
        "unit_id": s.unit_id,
        "unit": s.unit.name,
        "total": s.total,
        "rank": s.rank,
        "note": s.note,
        "previous_rank": s.previous_rank,
        "movement": s.movement,
    }


def _visible(request, pk: int) -> Run:
    return get_object_or_404(services.visible_runs(request.user).select_related("scheme"), pk=pk)


@router.get("/runs", response=list[RunOut])
@paginate
def list_runs(request):
    """Runs the caller may see (HQ: all; others: published runs scoring a unit of theirs),
    filtered by period_kind, status, scheme."""
    qs = services.visible_runs(request.user).select_related("scheme")
    filterset = RunFilter(request.GET, queryset=qs)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return [_run_out(r) for r in filterset.qs]


@router.get("/runs/{run_id}", response=RunDetailOut)
def run_detail(request, run_id: int):
    """A run with each unit's total, rank and frozen figures (figures: HQ only)."""
    run = _visible(request, run_id)
    figures: dict[int, list[dict]] = {}
    if services.is_hq(request.user):
        for f in run.figures.all():
            figures.setdefault(f.unit_id, []).append(
                {
                    "kind": f.kind,
                    "value": f.value,
                    "numerator": f.numerator,
                    "denominator": f.denominator,
                    "source": f.source,
                }
            )
    scores = [{**_score(s), "figures": figures.get(s.unit_id, [])} for s in services.ranking(run)]
    return {**_run_out(run), "scores": scores}


@router.get("/runs/{run_id}/ranking", response=RankingOut)
def ranking(request, run_id: int):
    """Ranking (1, 2, 2, 4 on ties), red list 红榜 and black list 黑榜."""
    run = _visible(request, run_id)
    red, black = services.red_black(run)
    return {
        "ranking": [_score(s) for s in services.ranking(run)],
        "red": [_score(s) for s in red],
        "black": [_score(s) for s in black],
    }


@router.post("/runs", response={201: RunOut})
def compute(request, payload: ComputeIn):
    """Compute (or recompute, while a draft) the run of the period containing ``day`` as of
    ``at`` (now). HQ only; a published period is 409."""
    services.check_manage(request.user)
    scheme = get_object_or_404(Scheme, pk=payload.scheme)
    run = services.compute_run(Actor.from_request(request, via="api"), scheme, payload.day, payload.at)
    return Status(201, _run_out(run))


@router.post("/runs/{run_id}/publish", response=RunOut)
def publish(request, run_id: int):
    """Publish and freeze. HQ only; publishing twice is 409."""
    run = _visible(request, run_id)
    return _run_out(services.publish_run(Actor.from_request(request, via="api"), run))


@router.post("/runs/{run_id}/recompute", response=RunOut)
def recompute(request, run_id: int):
    """Recompute a draft (a first version or a correction) as of now. A published run is 409."""
    run = _visible(request, run_id)
    return _run_out(services.recompute_run(Actor.from_request(request, via="api"), run))


@router.post("/runs/{run_id}/correct", response={201: RunOut})
def correct(request, run_id: int, payload: CorrectIn):
    """A correction 更正版 of a published run: a new version computed as of ``at`` (now), linked to
    this one, with its reason; a draft until published. HQ only; not the latest version is 409."""
    run = _visible(request, run_id)
    correction = services.correct_run(Actor.from_request(request, via="api"), run, payload.reason, payload.at)
    return Status(201, _run_out(correction))


@router.get("/runs/{run_id}/versions", response=list[RunOut])
def versions(request, run_id: int):
    """Every version of the run's period (non-HQ: the published ones), oldest first."""
    run = _visible(request, run_id)
    hq = services.is_hq(request.user)
    return [_run_out(v) for v in services.versions(run) if hq or v.is_published]


def _circular_out(c: Circular) -> dict:
    issued = c.is_issued
    return {
        "id": c.pk,
        "run_id": c.run_id,
        "status": c.status,
        "number": c.number,
        "title": c.title,
        "body": c.body,
        "issued_at": c.issued_at,
        "docx_url": f"/api/v1/assessment/circulars/{c.pk}/docx" if issued else None,
        "pdf_url": f"/api/v1/assessment/circulars/{c.pk}/pdf" if issued else None,
    }


@router.get("/circulars", response=list[CircularOut])
@paginate
def list_circulars(request):
    """Circulars: HQ all (drafts too); others the issued ones naming a unit of theirs."""
    return [_circular_out(c) for c in services.visible_circulars(request.user).order_by("-issued_at", "-pk")]


@router.get("/circulars/{circular_id}", response=CircularOut)
def circular_detail(request, circular_id: int):
    return _circular_out(get_object_or_404(services.visible_circulars(request.user), pk=circular_id))


@router.post("/runs/{run_id}/circular", response={201: CircularOut})
def draft_circular(request, run_id: int):
    """Draft the circular of a published run (HQ edits it before issue). A second draft is 409."""
    run = _visible(request, run_id)
    return Status(201, _circular_out(services.draft_circular(Actor.from_request(request, via="api"), run)))


@router.patch("/circulars/{circular_id}", response=CircularOut)
def edit_circular(request, circular_id: int, payload: CircularIn):
    """Edit a draft's title and body. An issued circular is 409."""
    services.check_manage(request.user)
    circular = get_object_or_404(Circular, pk=circular_id)
    actor = Actor.from_request(request, via="api")
    return _circular_out(services.edit_circular(actor, circular, payload.title, payload.body))


@router.post("/runs/{run_id}/circular/issue", response={201: CircularOut})
def issue_circular(request, run_id: int, payload: CircularIn):
    """Number (巴州创文办〔YYYY〕N号) and issue the run's circular with this title and body; Word and
    PDF are rendered and kept. Issuing twice is 409."""
    run = _visible(request, run_id)
    actor = Actor.from_request(request, via="api")
    return Status(201, _circular_out(services.issue_circular(actor, run, payload.title, payload.body)))


def _document(request, circular_id: int, fmt: str) -> HttpResponse:
    issued = Circular.objects.filter(status=Circular.Status.ISSUED).select_related("run__scheme")
    circular = get_object_or_404(issued, pk=circular_id)
    services.check_download(request.user, circular)
    if fmt == "pdf":
        response = HttpResponse(services.circular_pdf(circular), content_type="application/pdf")
    else:
        response = HttpResponse(
            bytes(circular.document or b""),
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    response["Content-Disposition"] = (
        f'attachment; filename="circular-{circular.year}-{circular.sequence}.{fmt}"'
    )
    return response


@router.get("/circulars/{circular_id}/docx", response={200: None})
def circular_docx(request, circular_id: int):
    """The issued circular as Word; HQ and the units it names."""
    return _document(request, circular_id, "docx")


@router.get("/circulars/{circular_id}/pdf", response={200: None})
def circular_pdf(request, circular_id: int):
    """The issued circular as PDF; HQ and the units it names."""
    return _document(request, circular_id, "pdf")


def _history_out(s) -> dict:
    return {
        "run_id": s.run_id,
        "scheme": s.run.scheme.name,
        "label": s.run.label,
        "period_start": s.run.period_start,
        "version": s.run.version,
        "total": s.total,
        "rank": s.rank,
        "previous_rank": s.previous_rank,
        "movement": s.movement,
        "note": s.note,
    }


@router.get("/units/{unit_id}/history", response=list[HistoryOut])
def unit_history(request, unit_id: int):
    """A unit's results across periods (latest published version of each), with the movement
    against the scheme's previous period. HQ, the unit itself, or a leader who contracts it."""
    unit = get_object_or_404(Unit, pk=unit_id)
    return [_history_out(s) for s in services.unit_history(request.user, unit)]


@router.get("/leader", response=list[LeaderAreaOut])
def leader_view(request):
    """包保领导: each of the leader's active contracts (region or site) with its units' latest
    results per scheme and their history. Leaders only (403 otherwise)."""
    return [
        {
            "area": area.label,
            "kind": area.kind,
            "units": [
                {
                    "unit_id": row.unit.pk,
                    "unit": row.unit.name,
                    "latest": [_history_out(s) for s in row.latest],
                    "history": [_history_out(s) for s in row.history],
                }
                for row in rows
            ],
        }
        for area, rows in services.leader_view(request.user)
    ]


def _bonus_out(b: Bonus) -> dict:
    return {
        "id": b.pk,
        "scheme_id": b.scheme_id,
        "label": b.label,
        "period_start": b.period_start,
        "unit_id": b.unit_id,
        "unit": b.unit.name,
        "points": b.points,
        "reason": b.reason,
        "evidence_text": b.evidence_text,
        "evidence_name": b.evidence_name,
        "status": b.status,
        "entered_by": str(b.entered_by),
        "entered_at": b.entered_at,
        "decided_by": str(b.decided_by) if b.decided_by else None,
        "decided_at": b.decided_at,
        "decision_note": b.decision_note,
    }


@router.get("/bonuses", response=list[BonusOut])
@paginate
def list_bonuses(request):
    """Bonus and deduction entries 加减分 (HQ), filtered by status, scheme, unit."""
    services.check_manage(request.user)
    qs = Bonus.objects.select_related("unit", "entered_by", "decided_by")
    filterset = BonusFilter(request.GET, queryset=qs)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return [_bonus_out(b) for b in filterset.qs]


@router.post("/bonuses", response={201: BonusOut})
def enter_bonus(
    request,
    scheme: Form[int],
    day: Form[dt.date],
    unit: Form[int],
    points: Form[Decimal],
    reason: Form[str],
    evidence_text: Form[str] = "",
    evidence: UploadedFile | None = OPTIONAL_FILE,
):
    """Enter points (multipart form): reason and evidence (``evidence_text`` or an ``evidence``
    file) required; pending until a second HQ user approves."""
    spec = services.BonusSpec(scheme, day, unit, points, reason, evidence_text)
    return Status(
        201, _bonus_out(services.enter_bonus(Actor.from_request(request, via="api"), spec, evidence))
    )


@router.post("/bonuses/{bonus_id}/approve", response=BonusOut)
def approve_bonus(request, bonus_id: int, payload: BonusDecisionIn | None = None):
    """Approve: HQ, not the user who entered it (403); decided already is 409."""
    bonus = get_object_or_404(Bonus, pk=bonus_id)
    note = payload.note if payload else ""
    return _bonus_out(services.decide_bonus(Actor.from_request(request, via="api"), bonus, True, note))


@router.post("/bonuses/{bonus_id}/reject", response=BonusOut)
def reject_bonus(request, bonus_id: int, payload: BonusDecisionIn):
    """Reject with a note: HQ, not the user who entered it (403); decided already is 409."""
    bonus = get_object_or_404(Bonus, pk=bonus_id)
    return _bonus_out(
        services.decide_bonus(Actor.from_request(request, via="api"), bonus, False, payload.note)
    )
