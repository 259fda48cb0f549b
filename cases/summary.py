"""Monthly summary 月度汇总: received, handled, pending, overdue and reworked cases per unit,
region and category, and the worst categories and areas.

Every figure is a set of cases defined once, here or in ``cases.metrics`` (whose cohorts it
reuses), over a month P as of a moment T (the end of the month, or now for the current month):

| figure | 中文 | the cases |
|---|---|---|
| received | 立案数 | accepted 立案 in P (``metrics`` 应结案数 cohort) |
| handled | 处置数 | every part handled in P (``metrics`` 应核查数 cohort) |
| pending | 待办数 | accepted by T and not closed by T (the backlog at T, whenever accepted) |
| overdue | 超期数 | a part due in P still unhandled at T past its deadline (``metrics`` 超期待处置) |
| reworked | 返工数 | accepted in P and sent back for rework by T (``metrics`` 返工率 numerator) |

A unit's figures count the cases in which it holds a part (as in ``metrics``); a region's the
cases located in its subtree. ``cases_behind`` gives the list behind any figure, so every
number on the page opens the cases it counts. The whole summary takes a fixed number of
queries: one per figure and grouping, whatever the number of units, regions and categories.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from org.models import Region, Unit

from . import metrics
from .models import Case, CasePart, Category

FIGURES: dict[str, str] = {
    "received": "立案数",
    "handled": "处置数",
    "pending": "待办数",
    "overdue": "超期数",
    "reworked": "返工数",
}
WORST = 5


def period(
    year: int, month_number: int, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """The month [start, end) and the moment T it is summed up at: its end, or now if sooner."""
    start, end = metrics.month(year, month_number)
    return start, end, min(end, now or timezone.now())


def cases_behind(selection: metrics.Selection, figure: str) -> QuerySet[Case]:
    """The cases one figure counts, for a selection (period, T, scope) of ``cases.metrics``."""
    if figure == "received":
        return metrics.behind(selection, "close_rate", "denominator")
    if figure == "handled":
        return metrics.behind(selection, "verify_on_time_rate", "denominator")
    if figure == "overdue":
        return metrics.behind(selection, "overdue_pending_rate", "numerator")
    if figure == "reworked":
        return metrics.behind(selection, "rework_rate", "numerator")
    if figure == "pending":
        t = selection.at
        backlog = Q(accepted_at__lte=t) & (Q(closed_at__isnull=True) | Q(closed_at__gt=t))
        return selection.case_base().filter(backlog & selection.case_unit("accepted"))
    raise KeyError(figure)


@dataclass
class Row:
    """One line of a table: a unit, region or category and its five figures."""

    key: str  # the list filter that opens this row's cases: unit, region or category
    obj: Unit | Region | Category
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, figure: str) -> int:
        return self.counts.get(figure, 0)

    @property
    def values(self) -> list[int]:
        return [self.count(f) for f in FIGURES]

    @property
    def cells(self) -> list[tuple[str, int]]:
        return [(f, self.count(f)) for f in FIGURES]

    @property
    def severity(self) -> tuple[int, int, int]:
        """Worst first: most overdue, then most pending, then most reworked."""
        return (self.count("overdue"), self.count("pending"), self.count("reworked"))


@dataclass
class Summary:
    start: dt.datetime
    end: dt.datetime
    at: dt.datetime
    totals: dict[str, int]
    units: list[Row]
    regions: list[Row]
    categories: list[Row]
    worst_categories: list[Row]
    worst_areas: list[Row]


def _rollup(counts: Iterable[tuple[str, int]], depth: int) -> Counter:
    """Counts per region path summed up to the ancestor ``depth`` levels below the root."""
    total: Counter = Counter()
    for path, n in counts:
        codes = [c for c in (path or "").strip("/").split("/") if c]
        if len(codes) >= depth:
            total["/" + "/".join(codes[:depth]) + "/"] += n
    return total


def _rows(key: str, objects: Iterable, per_figure: dict[str, Counter], id_of) -> list[Row]:
    rows = []
    for obj in objects:
        counts = {f: per_figure[f].get(id_of(obj), 0) for f in FIGURES}
        if any(counts.values()):
            rows.append(Row(key, obj, counts))
    return rows


def _grouped(qs: QuerySet, by: str, count: Count) -> list[tuple]:
    return list(qs.order_by().values(by).annotate(n=count).values_list(by, "n"))


def _worst(rows: list[Row]) -> list[Row]:
    return sorted((r for r in rows if any(r.severity)), key=lambda r: r.severity, reverse=True)[:WORST]


def build(selection: metrics.Selection) -> Summary:
    """The summary of a selection (its unit, region and category are ignored: every one is listed)."""
    base = metrics.select(selection.start, selection.end, at=selection.at, viewer=selection.viewer)
    by_unit: dict[str, Counter] = {}
    by_path: dict[str, list[tuple[str, int]]] = {}
    by_category: dict[str, Counter] = {}
    totals: dict[str, int] = {}
    for figure in FIGURES:
        cases = cases_behind(base, figure)
        if figure == "overdue":
            parts = metrics.parts_behind(base, "overdue_pending_rate", "numerator")
        else:
            parts = CasePart.objects.filter(case__in=cases.values("pk"))
        by_unit[figure] = Counter(dict(_grouped(parts, "unit", Count("case", distinct=True))))
        by_path[figure] = _grouped(cases, "region__path", Count("pk"))
        by_category[figure] = Counter(dict(_grouped(cases, "category", Count("pk"))))
        totals[figure] = sum(by_category[figure].values())

    unit_ids = {pk for counter in by_unit.values() for pk in counter}
    units = _rows(
        "unit", Unit.objects.filter(pk__in=unit_ids).order_by("kind", "code"), by_unit, lambda u: u.pk
    )
    category_ids = {pk for counter in by_category.values() for pk in counter}
    categories = _rows(
        "category",
        Category.objects.filter(pk__in=category_ids).order_by("kind", "code"),
        by_category,
        lambda c: c.pk,
    )
    streets = {f: _rollup(by_path[f], 2) for f in FIGURES}
    communities = {f: _rollup(by_path[f], 3) for f in FIGURES}
    wanted = {p for counter in [*streets.values(), *communities.values()] for p in counter}
    regions = list(Region.objects.filter(path__in=wanted).order_by("path"))
    street_rows = _rows("region", [r for r in regions if r.path.count("/") == 3], streets, lambda r: r.path)
    community_rows = _rows(
        "region", [r for r in regions if r.path.count("/") == 4], communities, lambda r: r.path
    )
    return Summary(
        start=selection.start,
        end=selection.end,
        at=selection.at,
        totals=totals,
        units=units,
        regions=street_rows,
        categories=categories,
        worst_categories=_worst(categories),
        worst_areas=_worst(community_rows),
    )
