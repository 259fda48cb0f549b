"""Scores and rates of inspections, in one place: the pages, the exports, the API and (later) the
assessment all count here.

- A line's deduction 扣分: ``fixed`` takes its fixed deduction once, ``per_occurrence`` takes the
  per-occurrence deduction for each occurrence up to its cap (or its points), ``fail_all`` takes
  all its points. An inspector may enter another deduction, never more than the line allows.
- A site's score 得分 = full points − deductions, never below 0. Full points are the points of
  the lines that apply (不适用 lines count for neither). The percentage 得分率 = score ÷ full
  points × 100, so sites with different checklists compare.
- Rollups (street, community, site type, contracting unit or leader, week, month) average the
  inspections' percentages.
- Rates are ratios with a denominator; a zero denominator is "no data" (``None``), never 0% or
  100%: pass rate of a line 合格率 = passed ÷ inspections where it applied; 整改率 = rectified
  findings ÷ findings; 按期整改率 = findings rectified by their deadline ÷ findings.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from org.models import Region, SiteType

from .models import CheckItem, Finding, Inspection, ItemResult

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")


def suggested_deduction(item: CheckItem, occurrences: int) -> Decimal:
    """What a failure of ``item`` with ``occurrences`` problems takes off under its rule."""
    if item.rule == CheckItem.Rule.FAIL_ALL:
        return item.points
    if item.rule == CheckItem.Rule.FIXED:
        return min(item.unit_deduction, item.points)
    return min(item.unit_deduction * max(occurrences, 1), item.max_deduction)


@dataclass(frozen=True)
class Score:
    full_points: Decimal
    deductions: Decimal
    score: Decimal

    @property
    def percent(self) -> Decimal | None:
        return percent(self.score, self.full_points)


def score(lines: Iterable[tuple[Decimal, str, Decimal]]) -> Score:
    """The score of one inspection from its lines ``(points, result, deduction)``."""
    full = deducted = ZERO
    for points, result, deduction in lines:
        if result == ItemResult.Result.NOT_APPLICABLE:
            continue
        full += points
        if result == ItemResult.Result.FAIL:
            deducted += deduction
    return Score(full, deducted, max(full - deducted, ZERO))


def percent(numerator, denominator) -> Decimal | None:
    """numerator ÷ denominator × 100, rounded half up to two places; None ("no data") when the
    denominator is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) * HUNDRED / Decimal(denominator)).quantize(CENT, ROUND_HALF_UP)


def inspection_percent(inspection: Inspection) -> Decimal | None:
    return percent(inspection.score, inspection.full_points)


def average_percent(inspections: Iterable[Inspection]) -> Decimal | None:
    """The mean of the inspections' score ÷ full points (those with full points) as a percentage,
    rounded once at the end; None without any."""
    ratios = [Decimal(i.score) / Decimal(i.full_points) for i in inspections if i.full_points]
    return percent(sum(ratios, ZERO), len(ratios))


# --- Rollups ----------------------------------------------------------------------------------

GROUPINGS = {
    "street": "街道/乡镇",
    "community": "社区/村",
    "site_kind": "点位类型",
    "unit": "包保单位",
    "leader": "包保领导",
    "week": "周",
    "month": "月",
}


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    inspections: int
    sites: int
    average: Decimal | None


def _region_at(path: str, depth: int) -> str:
    codes = path.strip("/").split("/")
    return codes[depth] if len(codes) > depth else ""


def _key(inspection: Inspection, by: str) -> str:
    local = timezone.localtime(inspection.submitted_at)
    if by == "street":
        return _region_at(inspection.site.region.path, 1)
    if by == "community":
        return _region_at(inspection.site.region.path, 2)
    if by == "site_kind":
        return inspection.site.kind
    if by == "unit":
        return str(inspection.responsible_unit_id or "")
    if by == "leader":
        return str(inspection.responsible_leader_id or "")
    if by == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{local:%Y-%m}"
    raise ValueError(by)


def _labels(by: str, keys: set[str], inspections: list[Inspection]) -> dict[str, str]:
    if by in ("street", "community"):
        return dict(Region.objects.filter(code__in=keys).values_list("code", "name"))
    if by == "site_kind":
        return SiteType.names()
    if by == "unit":
        return {
            str(i.responsible_unit_id): str(i.responsible_unit) for i in inspections if i.responsible_unit
        }
    if by == "leader":
        return {
            str(i.responsible_leader_id): str(i.responsible_leader)
            for i in inspections
            if i.responsible_leader
        }
    return {k: k for k in keys}


def rollup(inspections: QuerySet[Inspection], by: str) -> list[Row]:
    """The inspections grouped ``by`` one of ``GROUPINGS``: count, sites, average percentage.
    Inspections without a value for the grouping (no contracting unit ...) form the "" row."""
    rows = list(inspections.select_related("site__region", "responsible_unit", "responsible_leader"))
    groups: dict[str, list[Inspection]] = {}
    for inspection in rows:
        groups.setdefault(_key(inspection, by), []).append(inspection)
    labels = _labels(by, set(groups), rows)
    return [
        Row(
            key,
            labels.get(key, key) or "（未指定）",
            len(group),
            len({i.site_id for i in group}),
            average_percent(group),
        )
        for key, group in sorted(groups.items())
    ]


# --- Figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRate:
    item_id: int
    code: str
    text: str
    applicable: int
    passed: int

    @property
    def rate(self) -> Decimal | None:
        return percent(self.passed, self.applicable)


def item_pass_rates(inspections: QuerySet[Inspection]) -> list[ItemRate]:
    """Per checklist line: inspections where it applied, and those where it passed."""
    rows = (
        ItemResult.objects.filter(inspection__in=inspections.values("pk"))
        .exclude(result=ItemResult.Result.NOT_APPLICABLE)
        .values("item_id", "item__code", "item__text")
        .annotate(applicable=Count("pk"), passed=Count("pk", filter=Q(result=ItemResult.Result.PASS)))
        .order_by("item__code", "item_id")
    )
    return [
        ItemRate(r["item_id"], r["item__code"], r["item__text"], r["applicable"], r["passed"]) for r in rows
    ]


@dataclass(frozen=True)
class Figures:
    sites_inspected: int
    inspections: int
    average: Decimal | None
    findings: int
    rectified: int
    rectified_on_time: int
    open: int
    overdue: int

    @property
    def rectification_rate(self) -> Decimal | None:
        return percent(self.rectified, self.findings)

    @property
    def on_time_rate(self) -> Decimal | None:
        return percent(self.rectified_on_time, self.findings)


def rectified_on_time_q() -> Q:
    """Findings rectified by their deadline (a condition on ``Finding``)."""
    return Q(status=Finding.Status.RECTIFIED, rectified_at__lte=F("deadline"))


def figures(
    inspections: QuerySet[Inspection], findings: QuerySet[Finding], at: dt.datetime | None = None
) -> Figures:
    """The figures of a set of inspections and the findings they made, as of ``at`` (now)."""
    moment = at or timezone.now()
    rows = list(inspections.only("pk", "site_id", "score", "full_points"))
    counts = findings.aggregate(
        total=Count("pk"),
        rectified=Count("pk", filter=Q(status=Finding.Status.RECTIFIED)),
        on_time=Count("pk", filter=rectified_on_time_q()),
        overdue=Count("pk", filter=~Q(status=Finding.Status.RECTIFIED) & Q(deadline__lt=moment)),
    )
    return Figures(
        sites_inspected=len({i.site_id for i in rows}),
        inspections=len(rows),
        average=average_percent(rows),
        findings=counts["total"],
        rectified=counts["rectified"],
        rectified_on_time=counts["on_time"],
        open=counts["total"] - counts["rectified"],
        overdue=counts["overdue"],
    )
