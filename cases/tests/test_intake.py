"""Case intake: numbering (format, uniqueness under concurrent reports, bulk loaders), the
201 answer built from what the report wrote, and the query budgets of intake and detail."""

import re
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases import numbering
from cases.models import Case, CaseCounter
from cases.tests.conftest import at, jpeg
from cases.tests.factories import CaseFactory

BASE = "/api/v1/cases"
NUMBER = re.compile(r"^\d{4}-\d{6}$")


def next_number(moment) -> str:
    """The case number a report at ``moment`` would get (its id, drawn beside it, is not used)."""
    return numbering.draw_case_keys(moment)()[0]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report(client, w, photos=1):
    data = {
        "category_id": w.road.pk,
        "description": "井盖缺失",
        "lat": w.in_grid[0],
        "lng": w.in_grid[1],
        "address": "一社区文化路 12 号",
        "photos": [jpeg(f"p{i}.jpg") for i in range(photos)],
    }
    return client.post(f"{BASE}/cases", data)


@pytest.mark.django_db
def test_numbers_count_per_year_and_continue_after_a_bulk_load():
    assert next_number(at(2030, 1, 1, 0, 5)) == "2030-000001"
    assert next_number(at(2030, 12, 31, 23, 55)) == "2030-000002"
    # Beijing time decides the year: 2030-12-31 17:00 UTC is already 2031 in Beijing.
    assert next_number(at(2031, 1, 1, 1)) == "2031-000001"
    assert numbering.last_case_numbers() == {2030: 2, 2031: 1}
    # A bulk loader (demo, benchmark generator) wrote numbers up to 40 itself and stored them.
    CaseCounter.objects.filter(year=2030).update(last=40)
    assert next_number(at(2030, 6, 1, 9)) == "2030-000041"
    assert next_number(at(2030, 6, 1, 9)) == "2030-000042"
    assert numbering.last_case_numbers()[2030] == 42


@pytest.mark.django_db
def test_numbering_starts_again_in_an_emptied_database():
    assert next_number(at(2034, 2, 1, 9)) == "2034-000001"
    assert next_number(at(2034, 2, 1, 9)) == "2034-000002"
    CaseCounter.objects.all().delete()  # as manage.py flush does (PostgreSQL keeps the sequence)
    assert next_number(at(2034, 2, 1, 9)) == "2034-000001"


@pytest.mark.django_db
def test_numbering_starts_after_the_counter_of_existing_cases():
    CaseCounter.objects.create(year=2032, last=1234)
    assert next_number(at(2032, 3, 1, 9)) == "2032-001235"


@pytest.mark.django_db
def test_concurrent_reports_get_unique_consecutive_numbers():
    """On PostgreSQL, threads with their own connections (and transactions) draw at once. SQLite
    has one writer at a time, and the test's open transaction holds it: there they draw in turn."""
    year, threads, each = 2033, 8, 15
    moment = at(year, 5, 6, 10)
    drawn: list[str] = []
    errors: list[BaseException] = []
    concurrent = connection.vendor == "postgresql"
    start = threading.Barrier(threads if concurrent else 1)

    def work():
        try:
            start.wait()
            for _ in range(each):
                with transaction.atomic():  # as report_case draws inside its transaction
                    drawn.append(next_number(moment))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            if concurrent:
                connection.close()

    def clean_up():  # what the threads committed on their own connections
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM cases_casecounter WHERE year = %s", [year])
            cursor.execute(f"DROP SEQUENCE IF EXISTS cases_case_number_{year}")
        connection.close()

    try:
        if concurrent:
            workers = [threading.Thread(target=work) for _ in range(threads)]
            for t in workers:
                t.start()
            for t in workers:
                t.join()
        else:
            for _ in range(threads):
                work()
        assert errors == []
        assert all(NUMBER.match(n) for n in drawn)
        assert sorted(drawn) == [f"{year}-{k:06d}" for k in range(1, threads * each + 1)]
    finally:
        if concurrent:
            cleaner = threading.Thread(target=clean_up)
            cleaner.start()
            cleaner.join()


@pytest.mark.django_db
def test_the_201_answer_is_the_detail_of_the_new_case(world):
    w = world
    nearby = CaseFactory(
        category=w.road, lat=w.in_grid[0], lng=w.in_grid[1], region=w.c1, status=Case.Status.REPORTED
    )
    dispatcher = client_for(w.dispatcher)
    r = report(dispatcher, w, photos=2)
    assert r.status_code == 201, r.content
    answer = r.json()
    assert NUMBER.match(answer["number"])
    assert [e["action"] for e in answer["events"]] == ["report"]
    assert answer["events"][0]["data"] == {"duplicates": [nearby.pk]}
    assert [d["id"] for d in answer["duplicates"]] == [nearby.pk]
    assert len(answer["photos"]) == 2 and answer["parts"] == [] and answer["extensions"] == []
    assert answer["allowed_actions"] == ["accept", "reject", "merge", "reclassify"]
    assert dispatcher.get(f"{BASE}/cases/{answer['id']}").json() == answer


def _count(client, method: str, *args, **kwargs) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(*args, **kwargs)
        assert response.status_code in (200, 201), response.content[:300]
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_intake_query_budget(world):
    w = world
    CaseFactory(category=w.road, lat=w.in_grid[0], lng=w.in_grid[1], region=w.c1)
    collector = client_for(w.collector)
    report(collector, w)  # the first report of the year creates the year's numbering
    # session, user, category, the collector's scope (memberships, contracts, grids, segments),
    # duplicates, number, case, event, photo and which duplicates the reporter may see (region
    # and grid come with the cached boundaries; savepoints of the test's transaction beside them)
    with CaptureQueriesContext(connection) as ctx:
        assert report(collector, w).status_code == 201
    work = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(work) == 13, "\n".join(q[:150] for q in work)
    # More photos add one row each, nothing else.
    with CaptureQueriesContext(connection) as ctx:
        assert report(collector, w, photos=3).status_code == 201
    assert len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]) == 15


@pytest.mark.django_db
def test_detail_api_query_budget(world):
    w = world
    case = CaseFactory(category=w.road, region=w.c1, status=Case.Status.REPORTED)
    dispatcher = client_for(w.dispatcher)
    # session, user, scope, and the case with its parts, their extension requests, events, photos
    # and field checks (six statements, one round trip on PostgreSQL: org.compiled.rows_together);
    # the duplicates the dispatcher may merge into come from the report event among the events
    # (none recorded here, so no look-up)
    assert _count(dispatcher, "get", f"{BASE}/cases/{case.pk}") == 9


@pytest.mark.django_db
def test_detail_page_query_budget_and_photos_in_the_timeline(world):
    from django.urls import reverse

    from cases.models import CaseEvent, CasePhoto, ExtensionRequest
    from cases.tests.factories import CasePartFactory

    w = world
    case = CaseFactory(category=w.road, region=w.c1, status=Case.Status.HANDLING, lead_unit=w.dept)
    part = CasePartFactory(case=case, unit=w.dept, is_lead=True, status="handling")
    ExtensionRequest.objects.create(part=part, days=2, reason="材料未到")
    event = CaseEvent.objects.create(case=case, action=CaseEvent.Action.REPORT, actor=w.collector)
    for k, on_event in enumerate((event, None)):
        CasePhoto.objects.create(
            case=case,
            event=on_event,
            kind=CasePhoto.Kind.BEFORE,
            original=f"private/cases/{k}.jpg",
            image=f"cases/photos/{k}.jpg",
            thumbnail=f"cases/thumbs/{k}.jpg",
            sha256=f"{k:064d}",
            size=1,
        )
    dispatcher = client_for(w.dispatcher)
    url = reverse("cases:detail", args=[case.pk])
    # session, user, scope, the case, parts, their extension requests, events, photos, and the
    # menu's unread notice count
    with CaptureQueriesContext(connection) as ctx:
        dispatcher.get(url)
    assert len(ctx.captured_queries) == 9
    page = dispatcher.get(url).content.decode()
    assert "批准延期" in page  # the pending request is decided from the prefetched rows
    assert page.count("cases/thumbs/0.jpg") == 2  # in the gallery and on its timeline step
    assert page.count("cases/thumbs/1.jpg") == 1  # in the gallery only
