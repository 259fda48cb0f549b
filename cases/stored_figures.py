"""Stored figures 汇总快照: the monthly summary and the metrics of a month, computed once and read
from the database afterwards, so a page or API request costs a few queries whatever the number of
cases.

- A past month is summed up as of its end T, which never moves: it is computed once (by the first
  request, or ahead of time by ``manage.py freeze_figures``) and served as stored for ever. A
  later change (a rework, a late close) no longer shifts published figures.
- The current month (T = now) is served from a snapshot at most ``CASES_FIGURES_MAX_AGE``
  seconds old (or ``REFRESH_COST_FACTOR`` times what computing it took, if longer). When it is
  older, the one request that claims the refresh in the shared cache recomputes it, outside any
  transaction, while concurrent requests keep serving the stale snapshot; a request finding no
  snapshot at all waits for the one computing it (row lock).
- Snapshots are keyed by kind, month, the viewer's scope (``scope_key``: ``all`` for the
  district-wide roles, else a digest of the scope's units, regions, grids and, when the person
  reported cases, the person) and the unit, region and category filters. Two people with the
  same scope share a snapshot; nobody reads figures of another scope.
- A moment ``at`` given explicitly, a period that is not a calendar month, or a narrowing to a
  queryset is computed live (``monthly_summary.build`` / ``metrics.compute``), as before.

Every figure shown carries its T ("数据截至"); the lists behind the figures are computed live as
of that T.
"""

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from org.models import Region, Unit, User
from org.scope import scope_for

from . import metrics, monthly_summary
from .models import Case, Category, FigureSnapshot

Kind = FigureSnapshot.Kind


# A current-month snapshot that took S seconds to compute is kept for at least this many times S,
# so refreshing it never takes more than a tenth of one core, whatever the volume (a district
# month of 10M cases a year takes tens of seconds to count; a small district milliseconds).
logger = logging.getLogger(__name__)
REFRESH_COST_FACTOR = 10
# A refresh claim left by a process that died mid-computation lapses after this long.
REFRESH_CLAIM_SECONDS = 15 * 60


def max_age() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "CASES_FIGURES_MAX_AGE", 60))


def allowed_age(row: FigureSnapshot) -> dt.timedelta:
    """How old a current-month snapshot may get: ``CASES_FIGURES_MAX_AGE``, or
    ``REFRESH_COST_FACTOR`` times what computing it took (from T to computed) if that is longer."""
    took = row.computed_at - row.at if row.computed_at and row.at else dt.timedelta(0)
    return max(max_age(), took * REFRESH_COST_FACTOR)


def month_of(selection: metrics.Selection) -> tuple[int, int] | None:
    """(year, month) when the selection's period is exactly one calendar month, else None."""
    start = timezone.localtime(selection.start)
    if metrics.month(start.year, start.month) == (selection.start, selection.end):
        return start.year, start.month
    return None


def scope_key(viewer: User | None, end: dt.datetime) -> str:
    """The canonical name of the cases ``viewer`` may see (``Case.objects.visible_to``): ``all``
    for everything, else a digest of what the visibility depends on. The person's own reports
    count only when they made one before the month's end."""
    if viewer is None:
        return "all"
    scope = scope_for(viewer)
    if scope.everything:
        return "all"
    parts = [
        "u=" + ",".join(str(i) for i in sorted(scope.unit_ids)),
        "r=" + ",".join(sorted(scope.region_paths)),
        "g=" + ",".join(str(i) for i in sorted(scope.grid_ids)),
    ]
    if viewer.is_authenticated and Case.objects.filter(reporter=viewer, reported_at__lt=end).exists():
        parts.append(f"p={viewer.pk}")
    return "s:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def _filters(selection: metrics.Selection) -> str:
    return "&".join(
        f"{name}={obj.pk if obj is not None else ''}"
        for name, obj in (
            ("unit", selection.unit),
            ("region", selection.region),
            ("category", selection.category),
        )
    )


def _fresh(row: FigureSnapshot, end: dt.datetime, now: dt.datetime) -> bool:
    """Final (as of the month's end), or the current month's and recent enough."""
    if row.data is None or row.at is None or row.computed_at is None:
        return False
    if row.at >= end:
        return True
    return now < end and row.computed_at >= now - allowed_age(row)


def _stored(
    kind: str,
    selection: metrics.Selection,
    scope: str,
    filters: str,
    compute: Callable[[dt.datetime], Any],
    refresh: bool = False,
) -> tuple[Any, dt.datetime, dt.datetime]:
    """The stored data of a snapshot, its T and when it was computed; computed when missing or
    stale (by one request at a time: the others serve the stale one meanwhile)."""
    start = timezone.localtime(selection.start)
    key = {
        "kind": kind,
        "month": f"{start:%Y-%m}",
        "scope_key": scope,
        "filters": filters,
    }
    end = selection.end
    rows = FigureSnapshot.objects.filter(**key)
    row = None if refresh else rows.only("data", "at", "computed_at").first()
    if row is not None and _fresh(row, end, timezone.now()):
        return row.data, row.at, row.computed_at  # type: ignore[return-value]
    if row is not None and row.data is not None:
        # A stale snapshot: one request (the one that claims it in the shared cache) recomputes
        # it, outside any transaction, and the others serve the stale one meanwhile. A claim
        # rather than a row lock, so that it holds on SQLite too, where a transaction would take
        # the write lock and hold every report back for as long as the month is counted.
        claim = f"cases.figures.refresh.{row.pk}"
        if not cache.add(claim, timezone.now().isoformat(), timeout=REFRESH_CLAIM_SECONDS):
            return row.data, row.at, row.computed_at  # type: ignore[return-value]
        try:
            return _recompute(rows, end, compute)
        finally:
            cache.delete(claim)
    if row is None:
        FigureSnapshot.objects.bulk_create([FigureSnapshot(**key)], ignore_conflicts=True)
    with transaction.atomic():
        # Nothing to serve yet: wait for whoever computes it, or compute it.
        locked = rows.select_for_update().get()
        if not refresh and _fresh(locked, end, timezone.now()):
            return locked.data, locked.at, locked.computed_at  # type: ignore[return-value]
        return _recompute(rows, end, compute)


def _recompute(
    rows: QuerySet[FigureSnapshot], end: dt.datetime, compute: Callable[[dt.datetime], Any]
) -> tuple[Any, dt.datetime, dt.datetime]:
    """Compute a snapshot as of now (or the month's end, if sooner) and store it."""
    at = min(end, timezone.now())
    started = time.monotonic()
    data = compute(at)
    computed = timezone.now()
    rows.update(data=data, at=at, computed_at=computed)
    logger.info("stored figures refreshed as of %s in %.2f s", at, time.monotonic() - started)
    return data, at, computed


def _at(selection: metrics.Selection, at: dt.datetime) -> metrics.Selection:
    return metrics.select(
        selection.start,
        selection.end,
        at=at,
        unit=selection.unit,
        region=selection.region,
        category=selection.category,
        viewer=selection.viewer,
    )


# --- metrics ---------------------------------------------------------------------------------


def metric_figures(
    selection: metrics.Selection, *, live: bool = False, refresh: bool = False
) -> tuple[dict[str, metrics.Figure], dt.datetime]:
    """The eleven metrics of the selection and their T: stored unless ``live`` (an explicit
    moment) or the selection is not a calendar month or narrows to a queryset."""
    if live or selection.cases is not None or month_of(selection) is None:
        return metrics.compute(selection), selection.at

    def compute(at: dt.datetime) -> dict:
        return {k: [f.numerator, f.denominator] for k, f in metrics.compute(_at(selection, at)).items()}

    scope = scope_key(selection.viewer, selection.end)
    data, at, _computed = _stored(Kind.METRICS, selection, scope, _filters(selection), compute, refresh)
    return {
        key: metrics.Figure(key, m.label, *data.get(key, (0, 0))) for key, m in metrics.METRICS.items()
    }, at


# --- summary ---------------------------------------------------------------------------------


def _summary_data(result: monthly_summary.Summary) -> dict:
    def rows(table: list[monthly_summary.Row]) -> list:
        return [[row.obj.pk, row.values] for row in table]

    return {
        "totals": result.totals,
        "units": rows(result.units),
        "regions": rows(result.regions),
        "categories": rows(result.categories),
        "worst_categories": rows(result.worst_categories),
        "worst_areas": rows(result.worst_areas),
    }


def _summary_of(data: dict, selection: metrics.Selection, at: dt.datetime) -> monthly_summary.Summary:
    """The stored summary. Its units, regions and categories are read back (three queries) only
    when a table is used: a page whose rendered tables are cached needs none of them."""

    def ids(*tables: str) -> set[int]:
        return {pk for t in tables for pk, _ in data[t]}

    units = SimpleLazyObject(lambda: Unit.objects.in_bulk(ids("units")))
    regions = SimpleLazyObject(lambda: Region.objects.in_bulk(ids("regions", "worst_areas")))
    categories = SimpleLazyObject(lambda: Category.objects.in_bulk(ids("categories", "worst_categories")))

    def rows(table: str, key: str, objects: Any) -> list[monthly_summary.Row]:
        def load() -> list[monthly_summary.Row]:
            return [
                monthly_summary.Row(key, objects[pk], dict(zip(monthly_summary.FIGURES, values, strict=True)))
                for pk, values in data[table]
                if pk in objects
            ]

        return cast(list[monthly_summary.Row], SimpleLazyObject(load))

    return monthly_summary.Summary(
        start=selection.start,
        end=selection.end,
        at=at,
        totals={f: data["totals"].get(f, 0) for f in monthly_summary.FIGURES},
        units=rows("units", "unit", units),
        regions=rows("regions", "region", regions),
        categories=rows("categories", "category", categories),
        worst_categories=rows("worst_categories", "category", categories),
        worst_areas=rows("worst_areas", "region", regions),
    )


def summary_figures(
    selection: metrics.Selection, *, live: bool = False, refresh: bool = False
) -> monthly_summary.Summary:
    """The monthly summary of the selection (its T is ``.at``): stored unless ``live``, as
    ``metric_figures``. Its unit, region and category are ignored, as in ``monthly_summary.build``."""
    if live or selection.cases is not None or month_of(selection) is None:
        return monthly_summary.build(selection)
    scope = scope_key(selection.viewer, selection.end)
    data, at, computed = _stored(
        Kind.SUMMARY,
        selection,
        scope,
        "",
        lambda t: _summary_data(monthly_summary.build(_at(selection, t))),
        refresh,
    )
    result = _summary_of(data, selection, at)
    result.key = f"{timezone.localtime(selection.start):%Y-%m}:{scope}:{computed.timestamp()}"
    return result


def menu_key(scope) -> str:
    """Names the filter menus a scope is offered (its units and regions), for the page cache."""
    if scope.everything:
        return "all"
    names = ",".join(str(i) for i in sorted(scope.unit_ids)) + "|" + ",".join(sorted(scope.region_paths))
    return hashlib.sha256(names.encode()).hexdigest()


def freeze(year: int, month_number: int, viewer: User | None = None, refresh: bool = False) -> dt.datetime:
    """Compute and store the summary and the district metrics of a month (``freeze_figures``);
    returns their T. ``refresh`` recomputes a stored month (after a correction of the data)."""
    start, end = metrics.month(year, month_number)
    selection = metrics.select(start, end, at=min(end, timezone.now()), viewer=viewer)
    _figures, at = metric_figures(selection, refresh=refresh)
    summary_figures(selection, refresh=refresh)
    return at
