"""Query budgets of Open311 (issue 22): a POST is at most 8 statements in one transaction, a
request's detail at most 3, the request list the same number whatever its length, the service
list at most 2 (cached, and fresh again as soon as a category changes). A lookup per row (N+1), a
counter read and written in two round trips, or an OR across a join shows up here first."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appeals.tests.factories import AppealFactory
from cases.models import Category
from org.tests.prepared import prepared_statements, round_trips

from .conftest import IN_DISTRICT

pytestmark = pytest.mark.django_db

SAVEPOINT_SQL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def queries(url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = Client().get(url)
        assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


URLS = [
    "/open311/v2/requests.json",
    "/open311/v2/requests.xml",
    "/open311/v2/requests.json?status=open",
    "/open311/v2/services.json",
]


def test_open311_lists_take_the_same_queries_for_2_and_25_requests(world):
    for _ in range(2):
        AppealFactory(case__region=world.c1, case__category=world.garbage)
    for url in URLS:  # warm up: the first requests also fill per-process and shared caches
        queries(url)
    few = [queries(url) for url in URLS]
    for _ in range(23):
        AppealFactory(case__region=world.c1, case__category=world.garbage)
    many = [queries(url) for url in URLS]
    assert many == few
    # The requests are really there: the budget holds for a full page, not an empty one.
    assert Client().get(URLS[0]).json().__len__() == 25


def test_the_request_list_takes_the_same_queries_for_5_and_50_requests(world):
    """Fixed whatever its length, and counted on the list alone (no warm-up hides a query per row)."""
    for _ in range(5):
        AppealFactory(case__region=world.c1, case__category=world.garbage)
    queries(URLS[0])
    few = queries(URLS[0])
    for _ in range(45):
        AppealFactory(case__region=world.c1, case__category=world.garbage)
    many = queries(URLS[0])
    assert many == few
    assert len(Client().get(URLS[0]).json()) == 50


def _post(world, **extra):
    data = {
        "api_key": world.key,
        "service_code": "SJ0102",
        "lat": IN_DISTRICT[0],
        "long": IN_DISTRICT[1],
        "description": "小区门口垃圾堆了三天",
        "phone": "13800138000",
        **extra,
    }
    return Client().post("/open311/v2/requests.json", data)


def test_a_post_is_at_most_8_statements_its_writes_in_one_transaction(world):
    _post(world, phone="13900000000")  # warm up the per-process caches (boundaries, calendar)
    with CaptureQueriesContext(connection) as ctx:
        response = _post(world)
    assert response.status_code == 200, response.content[:300]
    sql = [q["sql"] for q in ctx.captured_queries]
    # The shared cache's read and the counters' UPSERT (a statement of its own, outside any
    # transaction) come first, so the client's counter row is not held while the case is written;
    # then one transaction. Under the test's own transaction an outermost atomic block is a
    # savepoint (BEGIN and COMMIT in production).
    counted = next(i for i, q in enumerate(sql) if "ON CONFLICT" in q)
    opened = next(i for i, q in enumerate(sql) if q.startswith("SAVEPOINT"))
    assert counted < opened and not any("SAVEPOINT" in q for q in sql[:opened]), sql
    assert sql[-1].startswith("RELEASE SAVEPOINT") and sql[opened].split()[-1] == sql[-1].split()[-1], sql
    assert not any(q.startswith("SAVEPOINT") for q in sql[opened + 1 : -1]), sql
    statements = [q for q in sql if "SAVEPOINT" not in q]
    assert len(statements) <= 8, "\n".join(statements)


def test_a_post_writes_in_four_round_trips_on_postgresql(world):
    """On PostgreSQL the POST's transaction waits for the server four times after opening it: the
    duplicate search with the case's number and id drawn (``org.compiled.together``), the case
    with its report event and the appeal (the case's id known beforehand, so nothing waits for
    it), the audit entry (it names the appeal's id), and the commit."""
    _post(world, phone="13900000000")  # warm up (boundaries, calendar, prepared statements)
    with CaptureQueriesContext(connection) as ctx, round_trips() as counted:
        response = _post(world)
    assert response.status_code == 200, response.content[:300]
    sql = [q["sql"] for q in ctx.captured_queries]
    opened = next(i for i, q in enumerate(sql) if q.startswith("SAVEPOINT"))
    # Before it: the shared cache's read and the counters' UPSERT, one round trip each; the
    # savepoint that stands for BEGIN under the test's transaction is one more.
    assert counted[0] == opened + 1 + 4, sql


def test_a_request_detail_is_at_most_3_statements(world):
    appeal = AppealFactory(case__region=world.c1, case__category=world.garbage)
    url = f"/open311/v2/requests/{appeal.case.number}.json"
    queries(url)
    assert queries(url) <= 3
    assert Client().get(url).json()[0]["service_request_id"] == appeal.case.number


def test_the_service_list_is_at_most_2_statements_and_fresh_after_a_category_changes(
    world, django_capture_on_commit_callbacks
):
    queries(URLS[3])
    assert queries(URLS[3]) <= 2
    names = {s["service_code"]: s["service_name"] for s in Client().get(URLS[3]).json()}
    original = world.garbage.name
    assert names["SJ0102"] == original
    Category.objects.filter(pk=world.garbage.pk).update(name="暴露垃圾（已改名）")
    world.garbage.refresh_from_db()
    world.garbage.name = "暴露垃圾（新名）"
    # Each process keeps its catalogue until the change commits and drops the shared version.
    with django_capture_on_commit_callbacks(execute=False) as pending:
        world.garbage.save()
    names = {s["service_code"]: s["service_name"] for s in Client().get(URLS[3]).json()}
    assert names["SJ0102"] == original
    for callback in pending:
        callback()
    names = {s["service_code"]: s["service_name"] for s in Client().get(URLS[3]).json()}
    assert names["SJ0102"] == "暴露垃圾（新名）"
    world.garbage.active = False
    with django_capture_on_commit_callbacks(execute=True):
        world.garbage.save()
    assert "SJ0102" not in {s["service_code"] for s in Client().get(URLS[3]).json()}
    assert queries(URLS[3]) <= 2


def test_a_request_detail_is_cacheable_until_its_case_changes(world):
    appeal = AppealFactory(case__region=world.c1, case__category=world.garbage)
    url = f"/open311/v2/requests/{appeal.case.number}.json"
    first = Client().get(url)
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    again = Client().get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    case = appeal.case
    case.description = "垃圾已堆到路中间"
    case.save()
    changed = Client().get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed.json()[0]["description"] == "垃圾已堆到路中间"
    assert changed["ETag"] != first["ETag"]


def test_the_request_rows_query_is_planned_once_and_reused_on_postgresql(world):
    """The rows' query runs as a prepared statement (``org.compiled.cursor_for``): one per connection,
    reused by every later detail, so PostgreSQL stops planning the dozen joins each time."""
    appeals = [AppealFactory(case__region=world.c1, case__category=world.garbage) for _ in range(3)]
    for appeal in appeals:
        with CaptureQueriesContext(connection) as ctx:
            body = Client().get(f"/open311/v2/requests/{appeal.case.number}.json").json()
        assert body[0]["service_request_id"] == appeal.case.number
        # Logged with its arguments, as every other statement (the query log, the budgets).
        assert any(appeal.case.number in (q["sql"] or "") for q in ctx.captured_queries)
    runs = [generic + custom for _text, generic, custom in prepared_statements("%appeals_appeal%")]
    assert runs == [3]
