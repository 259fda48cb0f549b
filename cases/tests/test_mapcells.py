"""The map's kept per-cell counts (cases.mapcells): exact after every kind of change, in the
changing transaction, folded by the job, and the map's clusters read from them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from cases import clusters, mapcells, services
from cases.filtersets import CaseFilterSet
from cases.models import Case, MapCell, MapDelta
from cases.tests.conftest import actor, at, jpeg
from cases.tests.factories import CaseFactory
from notices.schedule import job as scheduled_job

pytestmark = pytest.mark.django_db

MAP = "/api/v1/cases/map"
DISTRICT_BBOX = "106.70,31.80,106.80,31.90"
STATUSES = [Case.Status.CLOSED, Case.Status.HANDLING, Case.Status.REPORTED, Case.Status.DISPATCHED]


@pytest.fixture
def spread(world):
    """700 cases over the district in two months and both communities, in four statuses."""
    cases = [
        Case(
            number=f"G-{i:05d}",
            category=world.garbage,
            description="堆放垃圾",
            lat=Decimal("31.8013") + Decimal(i % 23) * Decimal("0.0041"),
            lng=Decimal("106.7017") + Decimal(i // 23) * Decimal("0.0031"),
            status=STATUSES[i % 4],
            region=world.c1 if i % 3 else world.c2,
            reported_at=at(2026, 10, 31, 23, 30) + dt.timedelta(minutes=i),  # Oct and Nov (local)
        )
        for i in range(700)
    ]
    return Case.objects.bulk_create(cases)


def _fresh(level: int) -> dict[tuple, int]:
    """The counts of ``level`` per month (day 0) and per day computed from the cases now."""
    return {
        (r["m_cx"], r["m_cy"], r["m_region"], r["m_status"], r["m_month"], r["m_day"]): r["m_count"]
        for by_day in (False, True)
        for r in mapcells._count_query(level, by_day)
    }


def _kept(level: int) -> dict[tuple, int]:
    """The kept counts of ``level`` (folded first)."""
    mapcells.fold()
    rows = MapCell.objects.filter(level=level).exclude(count=0)
    return {(r.cx, r.cy, r.region_key, r.status, r.month, r.day): r.count for r in rows}


def _view(user, query: str, bbox=DISTRICT_BBOX, zoom=13) -> tuple[dict, dict]:
    """The map's answer from the kept counts and the clusters counted from the cases."""
    params = QueryDict(query)
    answer = clusters.map_view(user, params, bbox, str(zoom))
    filterset = CaseFilterSet(params, Case.objects.visible_to(user))
    box = tuple(float(v) for v in bbox.split(","))
    level = clusters.grid_level(box, zoom)  # type: ignore[arg-type]
    cell = mapcells.cell_size(level)
    x0, y0, x1, y1 = (
        int(box[0] // cell),
        int(box[1] // cell),
        int(box[2] // cell) + 1,
        int(box[3] // cell) + 1,
    )
    qs = filterset.qs.filter(lng__gte=x0 * cell, lng__lt=x1 * cell, lat__gte=y0 * cell, lat__lt=y1 * cell)
    return answer, clusters._clusters(qs, cell)


def _same(answer: dict, counted: dict) -> None:
    assert answer["mode"] == "clusters" and answer["total"] == counted["total"]

    def key(c):
        return (round(c["lat"], 9), round(c["lng"], 9), c["count"])

    assert sorted(map(key, answer["items"])) == sorted(map(key, counted["items"]))


def test_the_counts_follow_every_kind_of_change_at_every_level(world, spread):
    for level in (mapcells.LEVEL_MIN, 12, mapcells.LEVEL_MAX):
        assert _kept(level) == _fresh(level) and sum(_fresh(level).values()) == 2 * 700
    second, third = spread[1:3]
    Case.objects.filter(pk=spread[3].pk).update(status=Case.Status.CLOSED)  # a bulk update
    second.lat, second.lng, second.region = Decimal("31.8900"), Decimal("106.7900"), world.c2
    second.save()  # moved (a correction of the place)
    third.delete()
    CaseFactory(lat=Decimal("31.8500"), lng=Decimal("106.7500"), region=None)  # no region
    Case.objects.filter(pk=spread[4].pk).update(reported_at=at(2026, 9, 1, 8))  # another month
    Case.objects.filter(pk=spread[5].pk).update(description="只改描述")  # not a tracked change
    assert MapDelta.objects.count() == 2 + 2 + 1 + 1 + 2
    for level in mapcells.LEVELS:
        assert _kept(level) == _fresh(level)
    assert not MapDelta.objects.exists()


def test_a_step_counts_in_its_own_transaction(world, clock):
    clock.set(at(2026, 11, 2, 9))
    case = services.report_case(
        actor(world.collector),
        category=world.garbage,
        description="垃圾",
        lat="31.845",
        lng="106.73",
        photos_uploaded=[jpeg()],
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        services.accept_case(actor(world.dispatcher), case)
        assert _kept(17) == _fresh(17)  # seen inside the step's transaction
        raise RuntimeError("rolled back")
    case.refresh_from_db()
    assert case.status == Case.Status.REPORTED
    assert _kept(17) == _fresh(17) == {(*k[:3], "reported", 202611, d): 1 for k in _fresh(17) for d in (0, 2)}
    services.accept_case(actor(world.dispatcher), case)
    assert {k[3] for k in _fresh(17)} == {"accepted"} and _kept(17) == _fresh(17)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=closed&status=handling",
        "state=open",
        "status=closed&state=open",
        "region={c1}",
        "region={s1}&status=reported",
        "date_field=reported&start=2026-11-01&end=2026-11-30",
        "start=2026-10-01&end=2026-10-31&state=open",
        "start=2026-11-01",
        "start=2026-10-31&end=2026-11-03&status=closed",
        "start=2026-11-02&end=2026-11-02",
        "start=2026-10-31&end=2026-11-03",  # > 500: a day of October and days of November
        "start=2026-11-01&end=2026-11-01",  # > 500: one day
        "start=2026-10-31&end=2026-10-31",
        "end=2026-10-31",
        "start=2026-09-15&end=2026-12-15",
    ],
)
@pytest.mark.parametrize("zoom", [13, 16, 4])
def test_clusters_from_the_kept_counts_equal_those_counted_from_the_cases(world, spread, query, zoom):
    query = query.format(c1=world.c1.pk, s1=world.s1.pk)
    Case.objects.filter(pk__in=[c.pk for c in spread[::7]]).update(status=Case.Status.ACCEPTED)  # pending
    mapcells.fold(batch=50)  # part folded, part pending
    answer, counted = _view(world.dispatcher, query, zoom=zoom)
    if counted["total"] <= clusters.MAP_LIMIT:
        # Few: the cases themselves, looked for by the filters' own columns in the kept cells.
        west, south, east, north = (Decimal(v) for v in DISTRICT_BBOX.split(","))
        inside = CaseFilterSet(QueryDict(query), Case.objects.all()).qs.filter(
            lng__gte=west, lng__lte=east, lat__gte=south, lat__lte=north
        )
        assert answer["mode"] == "points" and answer["total"] == counted["total"]
        assert {p["id"] for p in answer["items"]} == set(inside.values_list("pk", flat=True))
    else:
        _same(answer, counted)


def test_clusters_at_a_level_finer_than_the_kept_ones_are_counted_from_the_cases(world, spread):
    box = "106.7010,31.8010,106.7024,31.8020"
    assert clusters.grid_level(tuple(float(v) for v in box.split(",")), 22) > mapcells.LEVEL_MAX  # type: ignore[arg-type]
    Case.objects.bulk_create(
        Case(
            number=f"H-{i:04d}",
            category=world.garbage,
            description="堆放",
            lat=Decimal("31.801500"),
            lng=Decimal("106.7017") + Decimal(i) / 10**6,
            region=world.c1,
        )
        for i in range(600)
    )
    answer, counted = _view(world.dispatcher, "", bbox=box, zoom=22)
    _same(answer, counted)
    assert answer["total"] == 601


@pytest.mark.parametrize(
    "query",
    ["unit={dept}", "category={garbage}", "date_field=closed&start=2026-11-01", "state=overdue", "q=G-"],
)
def test_filters_the_counts_do_not_keep_are_counted_from_the_cases(world, spread, query):
    filterset = CaseFilterSet(QueryDict(query.format(dept=world.dept.pk, garbage=world.garbage.pk)))
    assert filterset.is_valid()
    assert clusters.kept_selection(world.dispatcher, filterset) is None
    assert clusters.kept_selection(world.handler, CaseFilterSet(QueryDict(""))) is None  # a unit's scope
    assert clusters.kept_selection(world.dispatcher, CaseFilterSet(QueryDict(""))) == mapcells.Selection()


def test_the_map_sees_a_change_at_once_and_reads_a_fixed_number_of_rows(client, world, spread):
    client.force_login(world.hq)
    view = {"bbox": DISTRICT_BBOX, "zoom": 13}
    assert client.get(MAP, view).json()["total"] == 700
    Case.objects.filter(pk=spread[1].pk).update(lat=Decimal("10"))  # out of the view
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(MAP, view).json()["total"] == 699
    with CaptureQueriesContext(connection) as wide:
        body = client.get(MAP, {"bbox": "100,30,110,35", "zoom": 8, "state": "open"}).json()
    assert body["mode"] == "clusters" and body["total"] == 524  # 3 in 4 are open, one moved away
    assert len(ctx.captured_queries) == len(wide.captured_queries)
    # The cells and the pending changes in one statement (one snapshot: a fold in between
    # cannot take changes out of one read that the other read without).
    assert any("cases_mapcell" in q["sql"] and "cases_mapdelta" in q["sql"] for q in ctx.captured_queries)
    assert not any('FROM "cases_case"' in q["sql"] for q in ctx.captured_queries)


def test_an_empty_view_reads_no_cases(world, spread):
    with CaptureQueriesContext(connection) as ctx:
        answer = clusters.map_view(world.dispatcher, QueryDict("status=closed"), "100,20,100.5,20.5", "12")
    assert answer == {"mode": "points", "total": 0, "items": []}
    assert not any('FROM "cases_case"' in q["sql"] for q in ctx.captured_queries)


def test_a_view_answers_alike_from_the_kept_counts_and_from_the_cases(world):
    # 10 cases in a small view and 600 just outside it in the same grid cells: the cells hold
    # more than the limit, so both ways of counting give clusters of all 610.
    inside = [(Decimal("31.801000"), Decimal("106.701000"))] * 10
    outside = [(Decimal("31.803000") + Decimal(i) / 10**6, Decimal("106.703000")) for i in range(600)]
    Case.objects.bulk_create(
        Case(
            number=f"V-{i:04d}", category=world.garbage, description="堆放", lat=lat, lng=lng, region=world.c1
        )
        for i, (lat, lng) in enumerate(inside + outside)
    )
    view = "106.7005,31.8005,106.7015,31.8015"
    kept = clusters.map_view(world.dispatcher, QueryDict(""), view, "13")
    counted = clusters.map_view(world.dispatcher, QueryDict(f"category={world.garbage.pk}"), view, "13")
    assert kept["mode"] == counted["mode"] == "clusters" and kept["total"] == counted["total"] == 610
    # Zoomed in, the cells hold only the ten: the cases in the view, either way.
    for query in ("", f"category={world.garbage.pk}"):
        answer = clusters.map_view(world.dispatcher, QueryDict(query), view, "17")
        assert answer["mode"] == "points" and answer["total"] == 10


@pytest.mark.parametrize(
    "start,end", [("2026-01-01", "2026-01-01"), ("2026-02-15", "2026-01-10"), ("2026-01-20", "2026-01-05")]
)
def test_an_empty_or_inverted_range_of_days_counts_nothing(world, spread, start, end):
    mapcells.fold()
    selection = mapcells.Selection(date_from=dt.date.fromisoformat(start), date_to=dt.date.fromisoformat(end))
    assert not MapCell.objects.filter(selection.periods()).exists()
    assert MapCell.objects.filter(mapcells.Selection().periods()).exists()


def test_the_triggers_are_there_after_every_migration():
    # On SQLite a migration that rebuilds the case table drops its triggers; it must install
    # them again (cases.mapcells.install).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases_case'::regclass")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_case'"
            )
        names = {row[0] for row in cursor.fetchall()}
    assert set(mapcells.TRIGGERS) <= names


def test_the_job_folds_the_changes_and_rebuild_counts_afresh(world, spread):
    job = scheduled_job("map_cells")
    assert MapDelta.objects.count() == 700  # the bulk insert's, in its transaction
    assert job.run(at(2026, 11, 20, 9)) == "归并案件地图变化 700 条"
    assert not MapDelta.objects.exists()
    kept = {level: _kept(level) for level in mapcells.LEVELS}
    MapCell.objects.filter(level=12).update(count=99)  # damaged
    rows = mapcells.rebuild()
    assert rows[12] == len(kept[12]) and {level: _kept(level) for level in mapcells.LEVELS} == kept


def test_paused_counts_nothing_until_rebuilt(world):
    with mapcells.paused():
        CaseFactory(lat=Decimal("31.8500"), lng=Decimal("106.7500"))
    assert not MapDelta.objects.exists()
    CaseFactory(lat=Decimal("31.8500"), lng=Decimal("106.7500"))  # the triggers are back
    assert MapDelta.objects.count() == 1
    mapcells.rebuild()
    assert _kept(17) == _fresh(17) and sum(_fresh(17).values()) == 2 * 2
