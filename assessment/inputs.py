"""The inputs of a run, each read through the owning app's own figure functions (nothing is
re-counted here): one value 0–100 per unit and component, or None when the unit has no data.

- cases 案件综合指数: ``cases.metrics.by_unit`` (``compute`` for each unit, grouped), as of T, combined by DESIGN.md's
  formula 处置率×30 + 按期处置率×20 + (1−返工率)×20 + (1−超期待处置率)×20 + (1−延期率)×10; a term
  without data is left out and the others re-weighted; no term with data → None.
- inspections 实地督查得分: ``inspections.scoring.rollup(..., "unit")`` over the inspections
  submitted in the period by T, by the unit answering for the site (包保单位): the average score
  percentage.
- materials 报送材料得分率: ``materials.figures.monthly`` for each month in the period: Σ scores ÷
  Σ points. Materials are monthly, so a weekly scheme cannot weigh them (refused on save).
- tasks 任务按期销号率: the unit's lead tasks whose deadline falls in the period: closed 销号 by
  T and on or before the deadline ÷ all of them.
- bonus 加减分: 50 + Σ points of the scheme's entries for the unit and period that a second HQ
  user approved by T, held within 0–100. Every unit has this figure (no entry: 50, neutral), so
  the no-data rule never applies to it; one point moves the total by weight ÷ 100.
- appeals 诉求化解率: ``appeals.metrics.resolution_by_unit``: appeals received in the period whose
  case the unit leads, closed by T and not rated 不满意 by T ÷ all of them.
- cards 红黄牌扣分: ``materials.figures.cards_as_of`` for the months of the period: 100 − 10 per
  yellow card − 20 per red card in force at T (issued by T, not revoked by then), held at 0 or
  above. A unit that was assigned no materials in those months and got no card has no data.
  Monthly like the materials, so a weekly scheme cannot weigh it.
- joint 联合执法报到率: ``streets.services.attendance_by_unit``: the unit's summons to the joint
  enforcement days 集中联合执法 of the period signed in by T ÷ those decided by T (signed in, or
  the action's day over without a sign-in: a no-show). A unit never summoned, or whose actions
  are all still to come, has no data.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from appeals import metrics as appeal_metrics
from cases import metrics
from indicators.models import Task
from inspections import scoring
from inspections.models import Inspection
from materials import figures as material_figures
from org.models import Unit
from streets import services as streets_services
from workdays.periods import local_midnight

from .models import Bonus, Component, Scheme

CENT = Decimal("0.01")
CASE_TERMS = (  # (metric, weight, counts as 1 − rate)
    ("handle_rate", 30, False),
    ("handle_on_time_rate", 20, False),
    ("rework_rate", 20, True),
    ("overdue_pending_rate", 20, True),
    ("extension_rate", 10, True),
)


@dataclass
class Value:
    value: Decimal | None
    numerator: Decimal = Decimal(0)
    denominator: Decimal = Decimal(0)
    source: dict = field(default_factory=dict)


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def case_values(units: Sequence[Unit], start: dt.date, end: dt.date, at: dt.datetime) -> dict[int, Value]:
    out = {}
    lo, hi = local_midnight(start), local_midnight(end)
    keys = [key for key, _w, _i in CASE_TERMS]
    by_unit = metrics.by_unit(lo, hi, [u.pk for u in units], keys, at=at)
    for unit in units:
        figs = by_unit[unit.pk]
        weighted, weights = Decimal(0), 0
        for key, weight, inverted in CASE_TERMS:
            fig = figs[key]
            if fig.denominator:
                rate = Decimal(fig.numerator) / Decimal(fig.denominator)
                weighted += weight * (1 - rate if inverted else rate)
                weights += weight
        handle = figs["handle_rate"]
        out[unit.pk] = Value(
            _q(weighted * 100 / weights) if weights else None,
            Decimal(handle.numerator),
            Decimal(handle.denominator),
            {key: [figs[key].numerator, figs[key].denominator] for key, _w, _i in CASE_TERMS},
        )
    return out


def inspection_values(
    units: Sequence[Unit], start: dt.date, end: dt.date, at: dt.datetime
) -> dict[int, Value]:
    ids = [u.pk for u in units]
    qs = Inspection.objects.filter(
        submitted_at__gte=local_midnight(start),
        submitted_at__lt=min(local_midnight(end), at + dt.timedelta(microseconds=1)),
        responsible_unit_id__in=ids,
    )
    behind: dict[str, list[int]] = {}
    for pk, unit_id in qs.values_list("pk", "responsible_unit_id"):
        behind.setdefault(str(unit_id), []).append(pk)
    out = {}
    for row in scoring.rollup(qs, "unit"):
        if row.key and row.average is not None:
            out[int(row.key)] = Value(
                _q(row.average),
                Decimal(row.inspections),
                Decimal(1),
                {"inspections": sorted(behind[row.key])},
            )
    return out


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, day = [], start.replace(day=1)
    while day < end:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def material_values(units: Sequence[Unit], start: dt.date, end: dt.date, at: dt.datetime) -> dict[int, Value]:
    chosen = Unit.objects.filter(pk__in=[u.pk for u in units])
    score: dict[int, Decimal] = {}
    points: dict[int, Decimal] = {}
    months = _months(start, end)
    for month in months:
        for row in material_figures.monthly(month, "unit", chosen):
            score[row.key] = score.get(row.key, Decimal(0)) + row.score
            points[row.key] = points.get(row.key, Decimal(0)) + row.points
    return {
        key: Value(
            _q(score[key] * 100 / points[key]),
            score[key],
            points[key],
            {"months": [f"{m:%Y-%m}" for m in months]},
        )
        for key in points
        if points[key]
    }


def task_values(units: Sequence[Unit], start: dt.date, end: dt.date, at: dt.datetime) -> dict[int, Value]:
    due: dict[int, list[int]] = {}
    on_time: dict[int, list[int]] = {}
    tasks = Task.objects.filter(lead_unit__in=units, deadline__gte=start, deadline__lt=end)
    for task in tasks.only("pk", "lead_unit_id", "deadline", "state", "closed_at"):
        assert task.lead_unit_id is not None  # filtered on lead_unit above
        due.setdefault(task.lead_unit_id, []).append(task.pk)
        closed = task.closed_at
        if (
            task.state == Task.State.CLOSED
            and closed is not None
            and closed <= at
            and timezone.localtime(closed).date() <= task.deadline  # type: ignore[operator]
        ):
            on_time.setdefault(task.lead_unit_id, []).append(task.pk)
    return {
        unit_id: Value(
            _q(Decimal(len(on_time.get(unit_id, []))) * 100 / len(ids)),
            Decimal(len(on_time.get(unit_id, []))),
            Decimal(len(ids)),
            {"due": ids, "on_time": on_time.get(unit_id, [])},
        )
        for unit_id, ids in due.items()
    }


BONUS_BASE = Decimal(50)


def bonus_values(
    scheme: Scheme, units: Sequence[Unit], start: dt.date, end: dt.date, at: dt.datetime
) -> dict[int, Value]:
    entries: dict[int, list[Bonus]] = {u.pk: [] for u in units}
    approved = Bonus.objects.filter(
        scheme=scheme,
        period_start=start,
        unit_id__in=list(entries),
        status=Bonus.Status.APPROVED,
        decided_at__lte=at,
    ).order_by("pk")
    for bonus in approved:
        entries[bonus.unit_id].append(bonus)
    out = {}
    for unit_id, mine in entries.items():
        points = sum((b.points for b in mine), Decimal(0))
        out[unit_id] = Value(
            _q(min(max(BONUS_BASE + points, Decimal(0)), Decimal(100))),
            points,
            Decimal(len(mine)),
            {"bonuses": [b.pk for b in mine]},
        )
    return out


def reader(
    kind: str, scheme: Scheme
) -> Callable[[Sequence[Unit], dt.date, dt.date, dt.datetime], dict[int, Value]]:
    """The function reading one component's values for the scheme's units."""
    if kind == Component.Kind.BONUS:
        return lambda units, start, end, at: bonus_values(scheme, units, start, end, at)
    return READERS[kind]


def appeal_values(units: Sequence[Unit], start: dt.date, end: dt.date, at: dt.datetime) -> dict[int, Value]:
    found = appeal_metrics.resolution_by_unit(
        [u.pk for u in units], local_midnight(start), local_midnight(end), at
    )
    return {
        unit_id: Value(
            _q(Decimal(len(resolved)) * 100 / len(received)),
            Decimal(len(resolved)),
            Decimal(len(received)),
            {"received": received, "resolved": resolved},
        )
        for unit_id, (received, resolved) in found.items()
    }


YELLOW_POINTS, RED_POINTS = Decimal(10), Decimal(20)


def card_values(units: Sequence[Unit], start: dt.date, end: dt.date, at: dt.datetime) -> dict[int, Value]:
    found = material_figures.cards_as_of(_months(start, end), [u.pk for u in units], at)
    out = {}
    for unit_id, cards in found.items():
        deducted = YELLOW_POINTS * len(cards.yellow) + RED_POINTS * len(cards.red)
        out[unit_id] = Value(
            _q(max(Decimal(100) - deducted, Decimal(0))),
            deducted,
            Decimal(len(cards.submissions)),
            {"yellow": cards.yellow, "red": cards.red, "submissions": cards.submissions},
        )
    return out


def joint_values(units: Sequence[Unit], start: dt.date, end: dt.date, at: dt.datetime) -> dict[int, Value]:
    # The period is [start, end): its last day is the day before ``end``.
    found = streets_services.attendance_by_unit([u.pk for u in units], start, end - dt.timedelta(days=1), at)
    return {
        unit_id: Value(
            _q(Decimal(len(attended)) * 100 / len(decided)),
            Decimal(len(attended)),
            Decimal(len(decided)),
            {"decided": decided, "attended": attended},
        )
        for unit_id, (decided, attended) in found.items()
    }


READERS: dict[str, Callable[[Sequence[Unit], dt.date, dt.date, dt.datetime], dict[int, Value]]] = {
    Component.Kind.CASES: case_values,
    Component.Kind.INSPECTIONS: inspection_values,
    Component.Kind.MATERIALS: material_values,
    Component.Kind.TASKS: task_values,
    Component.Kind.APPEALS: appeal_values,
    Component.Kind.CARDS: card_values,
    Component.Kind.JOINT: joint_values,
}
