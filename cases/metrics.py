"""Case metrics 案件考核指标: one definition, used by every page, export and ranking.

Each metric is a ratio over a period P = [start, end) and a scope (unit, region, category),
computed **as of** a moment T (default: now): only what had happened by T counts, so a figure
published with its T can be computed again later. A zero denominator is "no data" (``None``),
never 0% or 100%. Cohorts (DESIGN.md):

- 上报数 (reports made): cases reported in P.
- 应派遣数 / 应结案数: cases accepted 立案 in P.
- 应处置数: case parts whose handling deadline (after approved extensions) falls in P; a part
  returned 退单 by T is not due.
- 应核查数: cases handled in P.

| key | metric | numerator (of its cohort), everything by T |
|---|---|---|
| valid_report_rate | 有效上报率 | accepted (rejected and merged reports are not valid) |
| dispatch_on_time_rate | 按期派遣率 | first dispatch by the dispatch deadline |
| dispatch_accuracy_rate | 准确派遣率 | dispatched and never returned 退单 |
| handle_rate | 处置率 | part handled |
| handle_on_time_rate | 按期处置率 | part handled by its deadline |
| overdue_pending_rate | 超期待处置率 | part not handled at T and its deadline before T |
| extension_rate | 延期率 | part with an approved extension |
| verify_on_time_rate | 按期核查率 | verified (closed or sent to rework; or checked on site) by the verification deadline |
| close_rate | 结案率 | closed |
| close_on_time_rate | 按期结案率 | closed by the final (close) deadline |
| rework_rate | 返工率 | sent back for rework at least once |

Scope: ``region`` keeps cases located in that region's subtree; ``category`` cases of that
category; ``unit`` keeps the unit's parts for the part metrics, the reports of its people for
有效上报率, and for the other case metrics the cases in which the unit held a part.
``viewer`` narrows everything to the cases that person may see (``Case.objects.visible_to``,
applied as join conditions, so it stays fast at scale); ``cases`` to any queryset of cases
(e.g. a filtered list), which costs a semi-join over that queryset for the part metrics.

Everything is counted by two aggregate queries (one over cases, one over parts), read from the
replica when one is configured (``org.db.read_db``), so the cost does not grow with
Python loops over cases. Timestamps a later step overwrites (a rework clears
a part's handled time) are read as they stand now; rework and return counts are read from the
timeline, so they are exact as of T.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from org.db import read_db
from org.models import Region, Unit, User
from workdays.periods import check_year, month_bounds

from .models import Case, CaseEvent, CasePart, Category, ExtensionRequest


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        """numerator ÷ denominator, or None ("no data") when the denominator is zero."""
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> float | None:
        return round(self.numerator * 100 / self.denominator, 2) if self.denominator else None


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    cohort: str  # reported, accepted, handled (cases) or due (parts)
    numerator: Callable[[dt.datetime], Q]


def _returned_by(at: dt.datetime) -> Q:
    return Q(
        Exists(CaseEvent.objects.filter(case=OuterRef("pk"), action=CaseEvent.Action.RETURN, at__lte=at))
    )


def reworked_by(at: dt.datetime, case_key: str = "pk") -> Q:
    """Sent back for rework by ``at`` (``case_key`` leads to the case: "pk", or "case_id" from a part)."""
    return Q(
        Exists(CaseEvent.objects.filter(case=OuterRef(case_key), action=CaseEvent.Action.REWORK, at__lte=at))
    )


def _extended_by(at: dt.datetime) -> Q:
    approved = ExtensionRequest.objects.filter(
        part=OuterRef("pk"), status=ExtensionRequest.Status.APPROVED, decided_at__lte=at
    )
    return Q(Exists(approved))


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("valid_report_rate", "有效上报率", "reported", lambda t: Q(accepted_at__lte=t)),
        Metric(
            "dispatch_on_time_rate",
            "按期派遣率",
            "accepted",
            lambda t: Q(dispatched_at__lte=t) & Q(dispatched_at__lte=F("dispatch_deadline")),
        ),
        Metric(
            "dispatch_accuracy_rate",
            "准确派遣率",
            "accepted",
            lambda t: Q(dispatched_at__lte=t) & ~_returned_by(t),
        ),
        Metric("handle_rate", "处置率", "due", lambda t: Q(handled_at__lte=t)),
        Metric(
            "handle_on_time_rate",
            "按期处置率",
            "due",
            lambda t: Q(handled_at__lte=t) & Q(handled_at__lte=F("deadline")),
        ),
        Metric(
            "overdue_pending_rate",
            "超期待处置率",
            "due",
            lambda t: (Q(handled_at__isnull=True) | Q(handled_at__gt=t)) & Q(deadline__lt=t),
        ),
        Metric("extension_rate", "延期率", "due", _extended_by),
        Metric(
            "verify_on_time_rate",
            "按期核查率",
            "handled",
            # The verification of this round of handling (a rework's verification precedes the
            # next handling), no later than its deadline.
            lambda t: (
                Q(verified_at__lte=t)
                & Q(verified_at__gte=F("handled_at"))
                & Q(verified_at__lte=F("verify_deadline"))
            ),
        ),
        Metric("close_rate", "结案率", "accepted", lambda t: Q(closed_at__lte=t)),
        Metric(
            "close_on_time_rate",
            "按期结案率",
            "accepted",
            lambda t: Q(closed_at__lte=t) & Q(closed_at__lte=F("close_deadline")),
        ),
        Metric("rework_rate", "返工率", "accepted", reworked_by),
    )
}
CASE_COHORTS = ("reported", "accepted", "handled")


@dataclass(frozen=True)
class Selection:
    """Period P = [start, end), as-of moment T and scope: which cases and parts a figure counts."""

    start: dt.datetime
    end: dt.datetime
    at: dt.datetime
    unit: Unit | None = None
    region: Region | None = None
    category: Category | None = None
    cases: QuerySet[Case] | None = None
    viewer: User | None = None

    def cohort(self, name: str) -> Q:
        """The cohort's condition: on Case for case cohorts, on CasePart for ``due``."""
        upper = min(self.end, self.at + dt.timedelta(microseconds=1))
        if name == "due":
            not_returned = ~Q(status=CasePart.Status.RETURNED) | Q(returned_at__gt=self.at)
            return (
                Q(deadline__gte=self.start, deadline__lt=self.end, dispatched_at__lte=self.at) & not_returned
            )
        field = {"reported": "reported_at", "accepted": "accepted_at", "handled": "handled_at"}[name]
        return Q(**{f"{field}__gte": self.start, f"{field}__lt": upper})

    def case_base(self) -> QuerySet[Case]:
        """Cases within the place, category and queryset of the selection (one filter for all)."""
        qs = self.cases.all() if self.cases is not None else Case.objects.all()
        if self.viewer is not None:
            qs = qs & Case.objects.visible_to(self.viewer)
        if self.region is not None:
            qs = qs.filter(region__path__startswith=self.region.path)
        if self.category is not None:
            qs = qs.filter(category=self.category)
        return qs

    def case_unit(self, cohort: str) -> Q:
        """The unit's share of a case cohort: its people's reports, or the cases it held a part in
        (dispatched to it at or before T)."""
        if self.unit is None:
            return Q()
        if cohort == "reported":
            return Q(reporter_unit=self.unit)
        # Only parts it held by T: a part dispatched to the unit later is not its case yet.
        return Q(
            Exists(CasePart.objects.filter(case=OuterRef("pk"), unit=self.unit, dispatched_at__lte=self.at))
        )

    def part_base(self) -> QuerySet[CasePart]:
        qs = CasePart.objects.visible_to(self.viewer) if self.viewer is not None else CasePart.objects.all()
        if self.region is not None:
            qs = qs.filter(case__region__path__startswith=self.region.path)
        if self.category is not None:
            qs = qs.filter(case__category=self.category)
        if self.unit is not None:
            qs = qs.filter(unit=self.unit)
        if self.cases is not None:
            qs = qs.filter(case__in=self.cases.values("pk"))
        return qs


def select(
    start: dt.datetime,
    end: dt.datetime,
    *,
    at: dt.datetime | None = None,
    unit: Unit | None = None,
    region: Region | None = None,
    category: Category | None = None,
    cases: QuerySet[Case] | None = None,
    viewer: User | None = None,
) -> Selection:
    """The selection of a figure; with ``viewer``, only the cases that person may see count.

    A moment without a time zone is read as Beijing (local) time; a period out of the years
    figures may name, or ending before it starts, is a ValidationError."""
    if at is not None:
        check_year(at.year)
        if timezone.is_naive(at):
            at = timezone.make_aware(at, timezone.get_current_timezone())
    check_year(start.year)
    check_year(end.year)
    if start >= end:
        raise ValidationError("开始日期不能晚于结束日期")
    return Selection(start, end, at or timezone.now(), unit, region, category, cases, viewer)


def month(year: int, month_number: int) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar month as a period [first day 00:00, next month's first day 00:00)."""
    return month_bounds(year, month_number)


@contextmanager
def reading(db: str) -> Iterator[None]:
    """A transaction on ``db`` for the aggregate queries of the metrics and the summary, on
    PostgreSQL (one snapshot for all of them, JIT off). On SQLite none: its transactions take the
    database's write lock at the start (IMMEDIATE, see settings), which would hold every report
    and step back for as long as a month is counted (seconds at 1M cases)."""
    if connections[db].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=db):
        # The planner's cost estimates for these conditional counts trigger JIT compilation,
        # which takes longer (~1.5 s) than the queries themselves (~0.2 s over 900k cases).
        with connections[db].cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def compute(selection: Selection) -> dict[str, Figure]:
    """Every metric for the selection, by one aggregate query over cases and one over parts."""
    t = selection.at
    case_counts: dict[str, Count] = {}
    any_cohort = Q()
    for cohort in CASE_COHORTS:
        members = selection.cohort(cohort) & selection.case_unit(cohort)
        case_counts[f"{cohort}__den"] = Count("pk", filter=members)
        any_cohort |= members
    for m in METRICS.values():
        if m.cohort in CASE_COHORTS:
            members = selection.cohort(m.cohort) & selection.case_unit(m.cohort)
            case_counts[f"{m.key}__num"] = Count("pk", filter=members & m.numerator(t))
    part_counts = {"due__den": Count("pk")}
    for m in METRICS.values():
        if m.cohort == "due":
            part_counts[f"{m.key}__num"] = Count("pk", filter=m.numerator(t))
    db = read_db()
    with reading(db):
        counts = selection.case_base().using(db).filter(any_cohort).aggregate(**case_counts)
        due = selection.part_base().using(db).filter(selection.cohort("due"))
        counts.update(due.aggregate(**part_counts))

    return {
        m.key: Figure(m.key, m.label, counts[f"{m.key}__num"] or 0, counts[f"{m.cohort}__den"] or 0)
        for m in METRICS.values()
    }


def _side(condition: Q, metric: Metric, selection: Selection, side: str) -> Q:
    if side == "numerator":
        return condition & metric.numerator(selection.at)
    if side != "denominator":
        raise ValueError(side)
    return condition


def behind(selection: Selection, key: str, side: str = "numerator") -> QuerySet[Case]:
    """The cases behind one figure: its numerator or its denominator. For the part metrics these
    are the cases of the parts counted (a joint case appears once; see ``parts_behind``)."""
    metric = METRICS[key]
    if metric.cohort == "due":
        return Case.objects.filter(pk__in=parts_behind(selection, key, side).values("case_id"))
    members = selection.cohort(metric.cohort) & selection.case_unit(metric.cohort)
    return selection.case_base().filter(_side(members, metric, selection, side))


def parts_behind(selection: Selection, key: str, side: str = "numerator") -> QuerySet[CasePart]:
    """The case parts behind a part metric (处置率, 按期处置率, 超期待处置率, 延期率)."""
    metric = METRICS[key]
    if metric.cohort != "due":
        raise ValueError(f"{key} counts cases, not parts")
    return selection.part_base().filter(_side(selection.cohort("due"), metric, selection, side))


def by_unit(
    start: dt.datetime, end: dt.datetime, unit_ids: list[int], keys: list[str], *, at: dt.datetime
) -> dict[int, dict[str, Figure]]:
    """``compute(select(start, end, at=at, unit=unit))[key]`` for many units at once, by one grouped
    query over parts (and one per accepted-cohort case metric) instead of two per unit. Only the
    part metrics and 返工率 are offered (what the assessment 考评 reads); a unit without any part
    in a cohort gets zero counts, as ``compute`` gives it."""
    selection = select(start, end, at=at)
    found: dict[int, dict[str, list[int]]] = {u: {k: [0, 0] for k in keys} for u in unit_ids}
    due_keys = [k for k in keys if METRICS[k].cohort == "due"]
    db = read_db()
    with reading(db):
        _count_by_unit(selection, unit_ids, keys, due_keys, db, found)
    return {
        unit_id: {k: Figure(k, METRICS[k].label, num, den) for k, (num, den) in figs.items()}
        for unit_id, figs in found.items()
    }


def _count_by_unit(
    selection: Selection,
    unit_ids: list[int],
    keys: list[str],
    due_keys: list[str],
    db: str,
    found: dict[int, dict[str, list[int]]],
) -> None:
    t = selection.at
    if due_keys:
        counts = {"den": Count("pk")}
        counts.update({f"{k}__num": Count("pk", filter=METRICS[k].numerator(t)) for k in due_keys})
        rows = (
            CasePart.objects.using(db)
            .filter(unit_id__in=unit_ids)
            .filter(selection.cohort("due"))
            .order_by()
            .values("unit_id")
            .annotate(**counts)
        )
        for row in rows:
            for k in due_keys:
                found[row["unit_id"]][k] = [row[f"{k}__num"], row["den"]]
    for k in keys:
        if METRICS[k].cohort == "due":
            continue
        if k != "rework_rate":
            raise ValueError(f"{k} is not offered by unit")
        # The unit's cases: accepted in P, with a part of the unit dispatched by T (``case_unit``).
        upper = min(selection.end, t + dt.timedelta(microseconds=1))
        rows = (
            CasePart.objects.using(db)
            .filter(
                unit_id__in=unit_ids,
                dispatched_at__lte=t,
                case__accepted_at__gte=selection.start,
                case__accepted_at__lt=upper,
            )
            .order_by()
            .values("unit_id")
            .annotate(
                den=Count("case_id", distinct=True),
                num=Count("case_id", distinct=True, filter=reworked_by(t, "case_id")),
            )
        )
        for row in rows:
            found[row["unit_id"]][k] = [row["num"], row["den"]]
