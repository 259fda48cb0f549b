"""JSON API of assessment 考评 under /api/v1/assessment/. Figures are the stored (frozen) rows."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from org.audit import Actor

from . import services
from .filtersets import RunFilter
from .models import Run, Scheme

router = Router(tags=["考评 assessment"])


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


class ScoreDetailOut(ScoreOut):
    figures: list[RunFigureOut]


class RunDetailOut(RunOut):
    scores: list[ScoreDetailOut]


class RankingOut(Schema):
    ranking: list[ScoreOut]
    red: list[ScoreOut]
    black: list[ScoreOut]


class ComputeIn(Schema):
    scheme: int
    day: dt.date
    at: dt.datetime | None = None


def _run_out(run: Run) -> dict:
    circular = getattr(run, "circular", None)
    return {
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
    return {"unit_id": s.unit_id, "unit": s.unit.name, "total": s.total, "rank": s.rank, "note": s.note}


def _visible(request, pk: int) -> Run:
    return get_object_or_404(services.visible_runs(request.user).select_related("scheme"), pk=pk)


@router.get("/runs", response=list[RunOut])
@paginate
def list_runs(request):
    """Runs the caller may see (HQ: all; others: published runs scoring a unit of theirs),
    filtered by period_kind, status, scheme."""
    qs = services.visible_runs(request.user).select_related("scheme", "circular")
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
