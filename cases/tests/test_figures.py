"""Stored figures (``cases.figures``): equal to the live computation, a past month frozen, the
current month refreshed after its maximum age, scopes kept apart, and a warm request cheap."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import metrics, monthly_summary, stored_figures
from cases.models import Case, CaseEvent, FigureSnapshot
from cases.tests import test_summary
from cases.tests.factories import CaseFactory, CasePartFactory, CategoryFactory
from org.models import Role
from org.tests.factories import contract, member

march = test_summary.march  # the fixture of seven hand-counted cases around March 2026
day = test_summary.day

pytestmark = pytest.mark.django_db


def rows(table: list[monthly_summary.Row]) -> list[tuple]:
    return [(row.key, row.obj, row.counts) for row in table]


def same_summary(a: monthly_summary.Summary, b: monthly_summary.Summary) -> bool:
    return (a.start, a.end, a.at, a.totals) == (b.start, b.end, b.at, b.totals) and all(
        rows(getattr(a, t)) == rows(getattr(b, t))
        for t in ("units", "regions", "categories", "worst_categories", "worst_areas")
    )


def march_selection(viewer=None, **kw) -> metrics.Selection:
    start, end = metrics.month(2026, 3)
    return metrics.select(start, end, at=end, viewer=viewer, **kw)


def test_stored_figures_equal_the_live_computation(march):
    selection = march_selection()
    live = monthly_summary.build(selection)
    first = stored_figures.summary_figures(selection)  # computed and stored
    again = stored_figures.summary_figures(selection)  # read back
    assert same_summary(first, live) and same_summary(again, live)
    assert again.totals == {"received": 4, "handled": 2, "pending": 4, "overdue": 3, "reworked": 1}
    for unit in (None, march.dept2):
        narrowed = march_selection(unit=unit)
        stored, at = stored_figures.metric_figures(narrowed)
        stored_again, _ = stored_figures.metric_figures(narrowed)
        assert at == narrowed.end
        assert stored == stored_again == metrics.compute(narrowed)
    assert FigureSnapshot.objects.count() == 3  # the summary, the district's and dept2's metrics


def test_a_past_month_is_frozen_at_its_end(march):
    selection = march_selection()
    before = stored_figures.summary_figures(selection)
    closed_before, _ = stored_figures.metric_figures(selection)
    # After the month ended, B is reworked (dated in March by mistake) and a late case appears.
    b = Case.objects.get(number="X-B")
    CaseEvent.objects.create(case=b, action=CaseEvent.Action.REWORK, at=day(3, 28))
    CaseFactory(category=march.road, region=march.c1, accepted_at=day(3, 30), status=Case.Status.ACCEPTED)
    live = monthly_summary.build(selection)
    assert live.totals["received"] == 5 and live.totals["reworked"] == 2
    after = stored_figures.summary_figures(selection)
    assert same_summary(after, before)
    assert after.totals["received"] == 4 and after.totals["reworked"] == 1
    assert stored_figures.metric_figures(selection)[0] == closed_before
    # freeze_figures keeps a stored month; --refresh (a data correction) computes it again.
    call_command("freeze_figures", month="2026-03")
    assert stored_figures.summary_figures(selection).totals["received"] == 4
    call_command("freeze_figures", month="2026-03", refresh=True)
    assert stored_figures.summary_figures(selection).totals == live.totals


def test_the_current_month_is_refreshed_after_its_maximum_age(march, clock, settings):
    settings.CASES_FIGURES_MAX_AGE = 60
    clock.set(day(3, 20, 12))
    start, end = metrics.month(2026, 3)
    selection = metrics.select(start, end, at=day(3, 20, 12))
    first = stored_figures.summary_figures(selection)
    assert first.at == day(3, 20, 12) and first.totals["received"] == 4  # A, B, C, F by 3-20 12:00
    # A case accepted now; a minute later the snapshot is still served, with its T.
    CaseFactory(category=march.road, region=march.c1, accepted_at=day(3, 20, 12), status=Case.Status.ACCEPTED)
    clock.set(day(3, 20, 12) + dt.timedelta(seconds=59))
    assert stored_figures.summary_figures(selection).totals["received"] == 4
    assert stored_figures.metric_figures(selection)[1] == day(
        3,
        20,
        12,
    ) + dt.timedelta(seconds=59)
    # Older than the maximum age: the next request computes it again, as of now.
    FigureSnapshot.objects.update(computed_at=day(3, 20, 12) - dt.timedelta(seconds=61))
    refreshed = stored_figures.summary_figures(selection)
    assert refreshed.at == day(3, 20, 12) + dt.timedelta(seconds=59)
    assert refreshed.totals["received"] == 5
    # A longer maximum age keeps the snapshot.
    settings.CASES_FIGURES_MAX_AGE = 3600
    FigureSnapshot.objects.update(computed_at=day(3, 20, 12) - dt.timedelta(minutes=30))
    CaseFactory(category=march.road, region=march.c1, accepted_at=day(3, 20, 12), status=Case.Status.ACCEPTED)
    assert stored_figures.summary_figures(selection).totals["received"] == 5
    # A snapshot that took 30 s to compute is kept ten times as long (the refresh load stays
    # under a tenth of a core): still served after 61 s, recomputed after 301 s.
    settings.CASES_FIGURES_MAX_AGE = 60
    row = FigureSnapshot.objects.get(kind=FigureSnapshot.Kind.SUMMARY)
    now = day(3, 20, 12) + dt.timedelta(seconds=59)
    FigureSnapshot.objects.filter(pk=row.pk).update(
        at=now - dt.timedelta(seconds=91), computed_at=now - dt.timedelta(seconds=61)
    )
    assert stored_figures.summary_figures(selection).totals["received"] == 5
    FigureSnapshot.objects.filter(pk=row.pk).update(
        at=now - dt.timedelta(seconds=331), computed_at=now - dt.timedelta(seconds=301)
    )
    assert stored_figures.summary_figures(selection).totals["received"] == 6
    # Once the month has ended, its figures are computed as of the end and frozen.
    clock.set(day(4, 1, 9))
    final = stored_figures.summary_figures(selection)
    assert final.at == end and final.totals["received"] == 6


def test_the_page_and_the_api_show_the_moment_of_the_figures(client, march):
    client.force_login(march.dispatcher)
    body = client.get(reverse("cases:summary"), {"month": "2026-03"}).content.decode()
    assert "数据截至 2026-04-01 00:00:00" in body
    body = client.get(reverse("cases:metrics"), {"month": "2026-03"}).content.decode()
    assert "数据截至 2026-04-01 00:00:00" in body
    api = client.get("/api/v1/cases/metrics", {"month": "2026-03"}).json()
    assert api["at"].startswith("2026-04-01T00:00:00") or api["at"].startswith("2026-03-31T16:00:00")


def leader_of(unit, region, username):
    person = member(unit, Role.LEADER, username=username)
    contract(leader=person, region=region)
    return person


def test_scopes_are_kept_apart_and_the_same_scope_is_shared(client, march):
    unit = march.hq.memberships.get().unit
    c1_leader, c1_other, c2_leader = (
        leader_of(unit, march.c1, "l1"),
        leader_of(unit, march.c1, "l2"),
        leader_of(unit, march.c2, "l3"),
    )
    url = reverse("cases:summary")
    totals = {}
    for person in (c1_leader, march.dispatcher, c2_leader, c1_other, march.hq):
        client.force_login(person)
        totals[person.username] = client.get(url, {"month": "2026-03"}).context["result"].totals
    assert (
        totals["l1"]
        == totals["l2"]
        == {"received": 2, "handled": 1, "pending": 1, "overdue": 1, "reworked": 0}
    )
    assert (
        totals["dispatcher"]
        == totals["hq"]
        == {"received": 4, "handled": 2, "pending": 4, "overdue": 3, "reworked": 1}
    )
    assert totals["l3"]["received"] == 2 and totals["l3"] != totals["l1"]
    # One snapshot for the district and one per distinct scope (the two c1 leaders share one).
    keys = set(FigureSnapshot.objects.filter(kind="summary").values_list("scope_key", flat=True))
    assert len(keys) == 3 and "all" in keys
    # The district figures, stored first, are never handed to a leader (and the reverse).
    client.force_login(c2_leader)
    assert client.get(url, {"month": "2026-03"}).context["result"].totals == totals["l3"]


def test_a_leader_gets_the_metrics_of_their_area_from_the_api(client, march):
    """The metrics API narrows to the caller's scope: the leader contracting C1 sees C1."""
    handler = leader_of(march.hq.memberships.get().unit, march.c1, "c1leader")
    client.force_login(march.dispatcher)
    district = client.get("/api/v1/cases/metrics", {"month": "2026-03"}).json()["figures"]
    client.force_login(handler)
    mine = client.get("/api/v1/cases/metrics", {"month": "2026-03"}).json()["figures"]
    client.force_login(march.dispatcher)
    district_again = client.get("/api/v1/cases/metrics", {"month": "2026-03"}).json()["figures"]
    close = {f["key"]: (f["numerator"], f["denominator"]) for f in mine}["close_rate"]
    assert close == (1, 2)  # A (closed) and B of C1
    assert district == district_again
    assert {f["key"]: (f["numerator"], f["denominator"]) for f in district}["close_rate"] == (1, 4)
    assert FigureSnapshot.objects.filter(kind="metrics").count() == 2


def test_a_person_who_reported_cases_does_not_share_a_scope_snapshot(march):
    unit = march.hq.memberships.get().unit
    plain, reporter = leader_of(unit, march.c1, "l1"), leader_of(unit, march.c1, "l2")
    end = metrics.month(2026, 3)[1]
    assert stored_figures.scope_key(plain, end) == stored_figures.scope_key(reporter, end)
    CaseFactory(category=march.road, region=march.c2, reporter=reporter, reported_at=day(3, 9))
    assert stored_figures.scope_key(plain, end) != stored_figures.scope_key(reporter, end)
    assert stored_figures.scope_key(march.dispatcher, end) == stored_figures.scope_key(None, end) == "all"


def warm_queries(client, url: str) -> int:
    client.get(url)  # computes and stores
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def test_a_warm_request_takes_a_small_fixed_number_of_queries(client, march):
    client.force_login(march.dispatcher)
    urls = [
        reverse("cases:summary") + "?month=2026-03",
        reverse("cases:metrics") + "?month=2026-03",
        "/api/v1/cases/metrics?month=2026-03",
    ]
    few = [warm_queries(client, url) for url in urls]
    for i, unit in enumerate((march.dept3, march.committee, march.committee2)):
        c = CaseFactory(
            category=CategoryFactory(), region=march.c2, accepted_at=day(3, 4 + i), status="accepted"
        )
        CasePartFactory(case=c, unit=unit, dispatched_at=day(3, 5 + i), deadline=day(3, 9 + i))
    FigureSnapshot.objects.all().delete()
    many = [warm_queries(client, url) for url in urls]
    assert many == few
    # session, user, scope (memberships), the snapshot, the page's cached tables or menus, and on
    # pages the menu's unread notice count
    assert few == [6, 6, 4]


def test_while_one_request_refreshes_the_others_serve_the_stale_snapshot(march, clock):
    from django.core.cache import cache

    clock.set(day(3, 20, 12))
    start, end = metrics.month(2026, 3)
    selection = metrics.select(start, end, at=day(3, 20, 12))
    assert stored_figures.summary_figures(selection).totals["received"] == 4
    CaseFactory(category=march.road, region=march.c1, accepted_at=day(3, 20, 12), status=Case.Status.ACCEPTED)
    stale = day(3, 20, 12) - dt.timedelta(minutes=2)
    FigureSnapshot.objects.update(computed_at=stale)
    # Another request has claimed the refresh (in the shared cache, so on SQLite too).
    row = FigureSnapshot.objects.get()
    claim = f"cases.figures.refresh.{row.pk}"
    assert cache.add(claim, "elsewhere", timeout=60)
    served = stored_figures.summary_figures(selection)
    assert served.totals["received"] == 4 and served.at == day(3, 20, 12)
    assert FigureSnapshot.objects.get().computed_at == stale  # nothing recomputed meanwhile
    cache.delete(claim)
    refreshed = stored_figures.summary_figures(selection)
    assert refreshed.totals["received"] == 5
    assert cache.add(claim, "free again", timeout=60)  # the refresher let its claim go


def test_freeze_figures_stores_last_and_this_month_for_the_district_and_each_leader_scope(march, clock):
    clock.set(day(4, 10, 9))
    unit = march.hq.memberships.get().unit
    leader_of(unit, march.c1, "l1"), leader_of(unit, march.c1, "l2")
    call_command("freeze_figures", leaders=True)
    stored = set(FigureSnapshot.objects.values_list("kind", "month", "scope_key"))
    assert {(k, m) for k, m, _ in stored} == {
        (k, m) for k in ("summary", "metrics") for m in ("2026-03", "2026-04")
    }
    assert len({s for _, _, s in stored}) == 2  # the district and the one scope both leaders share
    march_all = FigureSnapshot.objects.get(kind="summary", month="2026-03", scope_key="all")
    assert march_all.at == metrics.month(2026, 3)[1] and march_all.data["totals"]["received"] == 4
    assert FigureSnapshot.objects.get(kind="summary", month="2026-04", scope_key="all").at == day(4, 10, 9)


@pytest.mark.django_db
def test_counting_opens_a_transaction_on_postgresql_only():
    """On SQLite a transaction takes the write lock at its start (IMMEDIATE), so counting a month
    inside one would hold every report back for as long as it counts."""
    before = len(connection.savepoint_ids)
    with metrics.reading("default"):
        opened = len(connection.savepoint_ids) - before
    assert opened == (1 if connection.vendor == "postgresql" else 0)
