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
number on the page opens the cases it counts. The counting takes four grouped queries whatever
the number of units, regions and categories (see ``build``), each figure a conditional count
(``COUNT(...) FILTER (WHERE ...)``) of its own.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from org.db import read_db
from org.models import Region, Unit

from . import metrics
from .models import Case, Category

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
        return selection.case_base().filter(_backlog(selection.at) & selection.case_unit("accepted"))
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
    # The stored snapshot it was read from and its computation ("" when live): names the
    # rendered tables in the cache (``cases.stored_figures``).
    key: str = ""


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


def _worst(rows: list[Row]) -> list[Row]:
    return sorted((r for r in rows if any(r.severity)), key=lambda r: r.severity, reverse=True)[:WORST]


def _prefixed(condition: Q, prefix: str) -> Q:
    """The same condition on a related model's lookups (``case__`` from a part)."""
    out = Q(_connector=condition.connector, _negated=condition.negated)
    for child in condition.children:
        if isinstance(child, Q):
            out.children.append(_prefixed(child, prefix))
        elif isinstance(child, tuple):
            out.children.append((prefix + child[0], child[1]))
        else:
            raise TypeError(f"cannot prefix {child!r}")
    return out


def _backlog(t: dt.datetime) -> Q:
    """Accepted by T and not closed by T, written as two branches that each have an index."""
    return Q(accepted_at__lte=t, closed_at__isnull=True) | Q(accepted_at__lte=t, closed_at__gt=t)


def _case_conditions(selection: metrics.Selection, prefix: str = "") -> dict[str, Q]:
    """The conditions on a case row of the figures counted over cases (all but 超期数), from
    the case (``prefix`` "") or from one of its parts ("case__")."""
    t = selection.at
    received = _prefixed(selection.cohort("accepted"), prefix)
    return {
        "received": received,
        "handled": _prefixed(selection.cohort("handled"), prefix),
        "pending": _prefixed(_backlog(t), prefix),
        "reworked": received & metrics.reworked_by(t, "case_id" if prefix else "pk"),
    }


def _counted(qs: QuerySet, by: tuple[str, ...], conditions: dict[str, Q], key: str) -> list[dict]:
    """One grouped pass counting every figure with its own condition (``COUNT(...) FILTER``);
    the rows read are those meeting any condition, each condition one index range."""
    counts = {f: Count(key, filter=q, distinct=key != "pk") for f, q in conditions.items()}
    return list(qs.filter(reduce(or_, conditions.values())).order_by().values(*by).annotate(**counts))


def build(selection: metrics.Selection) -> Summary:
    """The summary of a selection (its unit, region and category are ignored: every one is listed).

    Four grouped queries do the counting: cases by region and category, and parts by unit, for
    received, handled, pending and reworked; 超期数 by unit and by region and category from the
    overdue parts, whose deadline index finds them (in the other queries its condition would
    leave no index to read the rows by)."""
    base = metrics.select(selection.start, selection.end, at=selection.at, viewer=selection.viewer)
    overdue = metrics.parts_behind(base, "overdue_pending_rate", "numerator")
    db = read_db()
    with metrics.reading(db):
        case_groups = _counted(
            base.case_base().using(db), ("region__path", "category"), _case_conditions(base), "pk"
        )
        unit_groups = _counted(
            base.part_base().using(db), ("unit",), _case_conditions(base, "case__"), "case_id"
        )
        overdue_cases = Case.objects.using(db).filter(Exists(overdue.filter(case=OuterRef("pk"))))
        case_groups += _counted(overdue_cases, ("region__path", "category"), {"overdue": Q()}, "pk")
        unit_groups += _counted(overdue.using(db), ("unit",), {"overdue": Q()}, "case_id")
    by_unit: dict[str, Counter] = {f: Counter() for f in FIGURES}
    by_category: dict[str, Counter] = {f: Counter() for f in FIGURES}
    path_counts: dict[str, Counter] = {f: Counter() for f in FIGURES}
    for g in unit_groups:
        for f in FIGURES:
            if g.get(f):
                by_unit[f][g["unit"]] += g[f]
    for g in case_groups:
        for f in FIGURES:
            if g.get(f):
                by_category[f][g["category"]] += g[f]
                path_counts[f][g["region__path"]] += g[f]
    by_path = {f: list(path_counts[f].items()) for f in FIGURES}
    totals = {f: sum(by_category[f].values()) for f in FIGURES}

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
