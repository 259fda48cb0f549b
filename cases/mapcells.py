"""Per-cell case counts for the map 案件地图格网计数 (``MapCell``), kept as cases move.

The map's clusters (``cases.clusters``) count the cases in the cells of a global grid: a cell
at level ``k`` is ``90 / 2**k`` degrees square, ``cx = floor(lng / size)``, ``cy = floor(lat /
size)`` (the same cells the live count groups by). For every level from ``LEVEL_MIN`` to
``LEVEL_MAX`` the table holds, per cell, region, status and report month (local time), the number
of cases and the sums of their coordinates (the centroid), and the same per report day (for
date ranges that are not whole months); a view is then a sum over the few hundred to few
thousand rows of its cells, whatever the number of cases.

How the counts follow the cases: triggers on the case table (installed by the migration, for
PostgreSQL and SQLite) write one ``MapDelta`` row per case entering (+1) or leaving (−1) a
place, region, status or report time, in the changing transaction. A delta is an insert, so
concurrent steps never wait on a shared counter row (a district-wide cell would be one). ``fold``
moves the deltas into the cells (the ``map_cells`` job, every minute); a view reads the cells
and the pending deltas together in one statement, so it is exact at every moment.

Bulk loads (``bench.generate``) pause the triggers and ``rebuild`` the table afterwards. On
SQLite, a migration that rebuilds the case table (most field changes do) drops its triggers:
such a migration must ``install`` them again (a test checks they are there after migrating).
"""

import contextlib
import datetime as dt
import functools
import math
import operator
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, FloatField, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, ExtractDay, ExtractMonth, ExtractYear, Floor
from django.utils import timezone

from .models import Case, MapCell, MapDelta

LEVEL_MIN, LEVEL_MAX = 6, 17
LEVELS = range(LEVEL_MIN, LEVEL_MAX + 1)
FOLD_BATCH = 20_000
KEY = ("level", "cx", "cy", "region_key", "status", "month", "day")

CASE = "cases_case"
TRACKED = ("lat", "lng", "region_id", "status", "reported_at")
_ROW = "({p}.lat, {p}.lng, COALESCE({p}.region_id, 0), {p}.status, {p}.reported_at, {d})"
_INSERT = "INSERT INTO cases_mapdelta (lat, lng, region_key, status, reported_at, delta) VALUES "
_OLD, _NEW = _ROW.format(p="OLD", d=-1), _ROW.format(p="NEW", d=1)
TRIGGERS = ("cases_map_insert", "cases_map_delete", "cases_map_update")


def cell_size(level: int) -> float:
    """Degrees per cell at ``level`` (exact in binary floating point)."""
    return 90 / 2**level


def _postgresql_sql() -> list[str]:
    moved = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in TRACKED)
    return [
        f"""CREATE OR REPLACE FUNCTION cases_map_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_INSERT}{_NEW};
  ELSIF TG_OP = 'DELETE' THEN
    {_INSERT}{_OLD};
  ELSE
    {_INSERT}{_OLD}, {_NEW};
  END IF;
  RETURN NULL;
END $$""",
        f"CREATE TRIGGER cases_map_insert AFTER INSERT ON {CASE} FOR EACH ROW EXECUTE FUNCTION cases_map_delta()",
        f"CREATE TRIGGER cases_map_delete AFTER DELETE ON {CASE} FOR EACH ROW EXECUTE FUNCTION cases_map_delta()",
        f"CREATE TRIGGER cases_map_update AFTER UPDATE OF {', '.join(TRACKED)} ON {CASE} FOR EACH ROW "
        f"WHEN ({moved}) EXECUTE FUNCTION cases_map_delta()",
    ]


def _sqlite_sql() -> list[str]:
    moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TRACKED)
    return [
        f"CREATE TRIGGER cases_map_insert AFTER INSERT ON {CASE} BEGIN {_INSERT}{_NEW}; END",
        f"CREATE TRIGGER cases_map_delete AFTER DELETE ON {CASE} BEGIN {_INSERT}{_OLD}; END",
        f"CREATE TRIGGER cases_map_update AFTER UPDATE OF {', '.join(TRACKED)} ON {CASE} "
        f"WHEN {moved} BEGIN {_INSERT}{_OLD}, {_NEW}; END",
    ]


def install(conn=connection) -> None:
    """Create the triggers (replacing any of the same name)."""
    statements = _postgresql_sql() if conn.vendor == "postgresql" else _sqlite_sql()
    drop(conn)
    with conn.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def drop(conn=connection) -> None:
    on = f" ON {CASE}" if conn.vendor == "postgresql" else ""
    with conn.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")


@contextlib.contextmanager
def paused(conn=connection) -> Iterator[None]:
    """No deltas while the block loads cases in bulk; ``rebuild`` afterwards."""
    drop(conn)
    try:
        yield
    finally:
        install(conn)


def _ym(day: dt.date) -> int:
    return day.year * 100 + day.month


def fold(batch: int = FOLD_BATCH) -> int:
    """Move the pending deltas into the cells, ``batch`` at a time; the number folded.

    Each batch is one transaction: the deltas read (locked on PostgreSQL, so a concurrent fold
    skips them) are added to their cells at every level and deleted by their ids, so a delta
    committed meanwhile waits for the next batch and none is counted twice."""
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                MapDelta.objects.order_by("pk")
                .select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
                .values_list("pk", "lat", "lng", "region_key", "status", "reported_at", "delta")[:batch]
            )
            if not rows:
                return done
            _add(_cells(rows))
            ids = [r[0] for r in rows]
            for start in range(0, len(ids), 500):
                MapDelta.objects.filter(pk__in=ids[start : start + 500]).delete()
        done += len(rows)
        if len(rows) < batch:
            return done


def _cells(rows: Iterable[tuple]) -> dict[tuple, list]:
    totals: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0.0])
    for _pk, lat, lng, region, status, reported_at, delta in rows:
        lat, lng, local = float(lat), float(lng), timezone.localtime(reported_at)
        month = local.year * 100 + local.month
        for level in LEVELS:
            size = cell_size(level)
            cx, cy = math.floor(lng / size), math.floor(lat / size)
            for day in (0, local.day):  # the month's row and the day's
                total = totals[(level, cx, cy, region, status, month, day)]
                total[0] += delta
                total[1] += delta * lat
                total[2] += delta * lng
    return totals


def _add(totals: dict[tuple, list]) -> None:
    table = MapCell._meta.db_table
    columns = ", ".join(KEY)
    sql = (
        f"INSERT INTO {table} ({columns}, count, sum_lat, sum_lng) VALUES ({', '.join(['%s'] * 10)}) "
        f"ON CONFLICT ({columns}) DO UPDATE SET count = {table}.count + excluded.count, "
        f"sum_lat = {table}.sum_lat + excluded.sum_lat, sum_lng = {table}.sum_lng + excluded.sum_lng"
    )
    with connection.cursor() as cursor:
        # Sorted: concurrent folds (several workers) lock the cells in one order.
        cursor.executemany(sql, [(*key, *total) for key, total in sorted(totals.items())])


def rebuild() -> dict[int, int]:
    """Count every case afresh (after a bulk load, or to check the kept counts); rows per level.

    The cases are read once, per day at the finest level; the month rows add up its day rows
    and each coarser level adds up the four cells of the level below (``floor(x / 2)`` of a cell
    is the cell of ``x / 2``, the size doubling exactly). One transaction that sees one snapshot
    (REPEATABLE READ on PostgreSQL, when it is the outermost): the deltas it drops are exactly
    those of the cases it counts, so changes committed meanwhile stay pending."""
    outermost = not connection.in_atomic_block
    columns = ", ".join((*KEY, "count", "sum_lat", "sum_lng"))
    table = MapCell._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        MapDelta.objects.all().delete()
        MapCell.objects.all().delete()
        for query in (
            _count_query(LEVEL_MAX, by_day=True),
            _summed(MapCell.objects.filter(level=LEVEL_MAX, day__gt=0), LEVEL_MAX, months=True),
            *(_summed(MapCell.objects.filter(level=level + 1), level) for level in reversed(LEVELS[:-1])),
        ):
            sql, params = query.query.sql_with_params()
            cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)
    counted = MapCell.objects.order_by().values("level").annotate(n=Count("pk"))
    return {row["level"]: row["n"] for row in counted}


def _summed(rows: QuerySet[MapCell], level: int, months: bool = False):
    """``rows`` added up into the cells of ``level`` (the cells of ``rows`` halved when
    ``level`` is coarser), or into their months (``months``: day rows into the month's row)."""
    whole = Value(0, output_field=IntegerField())
    cx: Any
    cy: Any
    if months:
        cx, cy = F("cx"), F("cy")
    else:
        cx, cy = Floor(F("cx") / Value(2.0)), Floor(F("cy") / Value(2.0))
    return (
        rows.order_by()
        .annotate(
            m_level=Value(level, output_field=IntegerField()),
            m_cx=cx,
            m_cy=cy,
            m_region=F("region_key"),
            m_status=F("status"),
            m_month=F("month"),
            m_day=whole if months else F("day"),
        )
        .values("m_level", "m_cx", "m_cy", "m_region", "m_status", "m_month", "m_day")
        .annotate(m_count=Sum("count"), m_lat=Sum("sum_lat"), m_lng=Sum("sum_lng"))
    )


def _count_query(level: int, by_day: bool = False):
    """The counts of ``level`` per month (``day`` 0), or per day, from the cases as they are."""
    size = cell_size(level)
    return (
        Case.objects.order_by()
        .annotate(
            m_level=Value(level, output_field=IntegerField()),
            m_cx=Floor(Cast("lng", FloatField()) / size),
            m_cy=Floor(Cast("lat", FloatField()) / size),
            m_region=Coalesce("region_id", 0),
            m_status=F("status"),
            m_month=ExtractYear("reported_at") * 100 + ExtractMonth("reported_at"),
            m_day=ExtractDay("reported_at") if by_day else Value(0, output_field=IntegerField()),
        )
        .values("m_level", "m_cx", "m_cy", "m_region", "m_status", "m_month", "m_day")
        .annotate(
            m_count=Count("pk"),
            m_lat=Sum(Cast("lat", FloatField())),
            m_lng=Sum(Cast("lng", FloatField())),
        )
    )


@dataclass(frozen=True)
class Selection:
    """The cases a cluster view counts: statuses (None: all), regions (ids; None: all), report
    days ``[date_from, date_to)`` in local time (None: open-ended) with the same bounds as
    moments (``reported_from``, ``reported_to``: local midnights) for the pending deltas."""

    statuses: frozenset[str] | None = None
    regions: frozenset[int] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    reported_from: dt.datetime | None = None
    reported_to: dt.datetime | None = None

    def periods(self) -> Q:
        """The cell rows of the report days: whole months from their month rows, the days of a
        month taken in part from its day rows (``day`` 0 is a month row)."""
        lo, hi = self.date_from, self.date_to
        if lo is None and hi is None:
            return Q(day=0)
        if lo is not None and hi is not None and lo >= hi:
            return Q(pk__in=[])
        parts = []
        if lo is not None and lo.day != 1:  # a first month in part
            within = hi is not None and _ym(hi) == _ym(lo)
            parts.append(Q(month=_ym(lo), day__gte=lo.day) & (Q(day__lt=hi.day) if hi and within else Q()))
            if within:
                return parts[0]
            lo = (lo.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        if hi is not None and hi.day != 1:  # a last month in part
            parts.append(Q(month=_ym(hi), day__gte=1, day__lt=hi.day))
            hi = hi.replace(day=1)
        if lo is None or hi is None or lo < hi:  # the whole months between
            parts.append(
                Q(day=0)
                & (Q(month__gte=_ym(lo)) if lo is not None else Q())
                & (Q(month__lt=_ym(hi)) if hi is not None else Q())
            )
        return functools.reduce(operator.or_, parts)

    def cases(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        """The cases of ``qs`` this selection counts."""
        if self.statuses is not None:
            qs = qs.filter(status__in=self.statuses)
        if self.regions is not None:
            qs = qs.filter(region_id__in=self.regions)
        if self.reported_from is not None:
            qs = qs.filter(reported_at__gte=self.reported_from)
        if self.reported_to is not None:
            qs = qs.filter(reported_at__lt=self.reported_to)
        return qs


@dataclass(frozen=True)
class Cell:
    """One non-empty cell of a view: its place in the grid, its count and its cases' centroid."""

    cx: int
    cy: int
    count: int
    lat: float
    lng: float


def clusters(level: int, x0: int, y0: int, x1: int, y1: int, sel: Selection) -> list[Cell] | None:
    """The non-empty cells of ``[x0, x1) × [y0, y1)`` at ``level`` with the cases ``sel`` counts;
    None when the level is finer than the kept ones (count the cases then).
    A level coarser than ``LEVEL_MIN`` adds up the cells of ``LEVEL_MIN`` inside each."""
    if level > LEVEL_MAX:
        return None
    read = max(level, LEVEL_MIN)
    shift = read - level
    bx0, by0, bx1, by1 = x0 << shift, y0 << shift, x1 << shift, y1 << shift
    cells = MapCell.objects.filter(level=read, cx__gte=bx0, cx__lt=bx1, cy__gte=by0, cy__lt=by1)
    size = cell_size(read)
    pending = MapDelta.objects.annotate(
        cx=Floor(Cast("lng", FloatField()) / size), cy=Floor(Cast("lat", FloatField()) / size)
    ).filter(cx__gte=bx0, cx__lt=bx1, cy__gte=by0, cy__lt=by1)
    if sel.statuses is not None:
        cells, pending = cells.filter(status__in=sel.statuses), pending.filter(status__in=sel.statuses)
    if sel.regions is not None:
        cells, pending = cells.filter(region_key__in=sel.regions), pending.filter(region_key__in=sel.regions)
    cells = cells.filter(sel.periods())
    if sel.reported_from is not None:
        pending = pending.filter(reported_at__gte=sel.reported_from)
    if sel.reported_to is not None:
        pending = pending.filter(reported_at__lt=sel.reported_to)
    totals: dict[tuple[int, int], list] = defaultdict(lambda: [0, 0.0, 0.0])
    summed = cells.order_by().values("cx", "cy").annotate(n=Sum("count"), a=Sum("sum_lat"), o=Sum("sum_lng"))
    changes = (
        pending.order_by()
        .values("cx", "cy")
        .annotate(
            n=Sum("delta"),
            a=Sum(F("delta") * Cast("lat", FloatField())),
            o=Sum(F("delta") * Cast("lng", FloatField())),
        )
    )
    # One statement, so one snapshot: a fold committing between two reads would otherwise take
    # its deltas out of the second read after the first had read the cells without them.
    for row in summed.union(changes, all=True):
        total = totals[(int(row["cx"]) >> shift, int(row["cy"]) >> shift)]
        total[0] += row["n"]
        total[1] += row["a"]
        total[2] += row["o"]
    return [Cell(cx, cy, n, a / n, o / n) for (cx, cy), (n, a, o) in totals.items() if n > 0]
