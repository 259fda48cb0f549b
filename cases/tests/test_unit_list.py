"""A unit's cases (list page, API) read from the unit's part index, and the map's cached clusters."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache.backends import db as db_cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CasePart
from cases.services import accept_case, dispatch_case, return_case
from cases.tests.conftest import actor
from cases.tests.factories import CaseFactory
from cases.tests.test_workflow import report

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")
API = "/api/v1/cases/cases"
MAP = "/api/v1/cases/map"
DISTRICT_BBOX = "106.70,31.80,106.80,31.90"


def _old(unit, *, active=False, qs=None):
    """The former definition: the unit leads the case or holds a (an active) part of it."""
    parts = CasePart.objects.filter(case=OuterRef("pk"), unit=unit)
    if active:
        parts = parts.filter(status__in=CasePart.ACTIVE_STATUSES)
    qs = Case.objects.all() if qs is None else qs
    rows = qs.filter(Q(lead_unit=unit) | Q(Exists(parts))).order_by("-reported_at", "-pk")
    return list(rows.values_list("pk", flat=True))


@pytest.fixture
def mixed(world):
    """Cases through the services (joint, a lead's return and re-dispatch to the same unit, a
    co-unit's return) and 30 factory cases of dept in threes at the same moment."""
    w = world
    d = actor(w.dispatcher)
    dispatch_case(d, accept_case(d, report(w)), w.dept)
    dispatch_case(d, accept_case(d, report(w)), w.dept2, [w.dept])
    back = dispatch_case(d, accept_case(d, report(w)), w.dept)
    back = return_case(actor(w.handler), back, "不属于本单位")
    dispatch_case(d, back, w.dept, [w.dept2])  # the same unit again: a second part of dept
    co = dispatch_case(d, accept_case(d, report(w)), w.dept2, [w.dept3])
    return_case(actor(w.handler3), co, "不属于本单位", part=co.parts.get(unit=w.dept3))
    lead_gone = dispatch_case(d, accept_case(d, report(w)), w.dept3)
    return_case(actor(w.handler3), lead_gone, "不属于本单位")  # dept3 held it, no longer leads
    report(w)  # not dispatched
    base = timezone.now() - dt.timedelta(days=2)
    for i in range(30):
        status = Case.Status.CLOSED if i % 2 else Case.Status.HANDLING
        CaseFactory(lead_unit=w.dept, status=status, reported_at=base - dt.timedelta(minutes=i // 3))
    return w


def test_each_unit_has_one_indexed_part_per_case(mixed):
    held = CasePart.objects.values("case", "unit").annotate(
        n=Count("pk"), indexed=Count("pk", filter=Q(case_reported_at__isnull=False))
    )
    assert any(r["n"] == 2 for r in held)  # the re-dispatch to the same unit
    assert all(r["indexed"] == 1 for r in held)
    for part in CasePart.objects.filter(case_reported_at__isnull=False).select_related("case"):
        assert part.case_reported_at == part.case.reported_at


def test_of_unit_is_the_old_definition(mixed):
    w = mixed
    for unit in (w.dept, w.dept2, w.dept3, w.committee):
        new = Case.objects.of_unit(unit.pk).order_by("-list_at", "-pk").values_list("pk", flat=True)
        assert list(new) == _old(unit)
        active = Case.objects.of_unit(unit.pk, active=True).order_by("-list_at", "-pk")
        assert list(active.values_list("pk", flat=True)) == _old(unit, active=True)
    assert len(_old(w.dept)) == 33 and len(_old(w.dept3)) == 2 and _old(w.dept3, active=True) == []


def _walk_list(client, query) -> list[int]:
    pks, response = [], client.get(LIST, query)
    while True:
        assert response.status_code == 200
        pks += [c.pk for c in response.context["page"]]
        if response.context["next_query"] is None:
            return pks
        response = client.get(LIST + "?" + response.context["next_query"])


def _walk_api(client, url) -> list[int]:
    pks = []
    while url:
        body = client.get(url).json()
        pks += [c["id"] for c in body["results"]]
        url = body["next"]
    return pks


def test_unit_pages_of_the_list_and_api_walk_the_old_definition(client, mixed):
    w = mixed
    client.force_login(w.dispatcher)
    for unit in (w.dept, w.dept2, w.dept3):
        assert _walk_list(client, {"unit": unit.pk, "per_page": 20}) == _old(unit)
        # The API's unit filter means what the page's does (one filter: cases.filtersets).
        assert _walk_api(client, f"{API}?unit={unit.pk}&page_size=7") == _old(unit)
    # With another filter on top, and backwards from the last page.
    closed = _walk_list(client, {"unit": w.dept.pk, "status": "closed", "per_page": 20})
    assert closed == _old(w.dept, qs=Case.objects.filter(status=Case.Status.CLOSED)) and len(closed) == 15
    first = client.get(LIST, {"unit": w.dept.pk, "per_page": 20})
    last = client.get(LIST + "?" + first.context["next_query"])
    back = client.get(LIST + "?" + last.context["previous_query"])
    assert [c.pk for c in back.context["page"]] == [c.pk for c in first.context["page"]]


def test_a_unit_filter_stays_inside_the_scope(client, mixed):
    w = mixed
    client.force_login(w.handler2)
    shown = _walk_list(client, {"unit": w.dept.pk, "per_page": 20})
    assert shown == _old(w.dept, qs=Case.objects.visible_to(w.handler2)) and len(shown) == 2
    assert _walk_api(client, f"{API}?unit={w.dept.pk}") == shown


def test_a_unit_page_takes_the_same_queries_as_an_unfiltered_one(client, mixed):
    w = mixed
    client.force_login(w.dispatcher)

    def count(query) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST, query).status_code == 200
        return len(ctx.captured_queries)

    plain = count({"per_page": 20})
    # The chosen unit is read once more for the unit menu, whatever the page size.
    assert count({"unit": w.dept.pk, "per_page": 20}) == count({"unit": w.dept.pk, "per_page": 100})
    assert count({"unit": w.dept.pk, "per_page": 20}) <= plain + 1


@pytest.fixture
def crowd(world):
    """520 cases led by dept and 510 led by dept2 (with their lead parts), over the district."""
    now = timezone.now()
    cases = Case.objects.bulk_create(
        Case(
            number=f"K-{i:05d}",
            category=world.garbage,
            description="堆放垃圾",
            lat=Decimal("31.8050") + Decimal(i % 10) * Decimal("0.0090"),
            lng=Decimal("106.7050") + Decimal(i // 10) * Decimal("0.0009"),
            status=Case.Status.HANDLING,
            lead_unit=world.dept if i < 520 else world.dept2,
            reported_at=now - dt.timedelta(minutes=i),
        )
        for i in range(1030)
    )
    CasePart.objects.bulk_create(
        CasePart(case=c, unit=c.lead_unit, is_lead=True, deadline=now, case_reported_at=c.reported_at)
        for c in cases
    )
    return world


def _map(client, user, **extra):
    client.force_login(user)
    response = client.get(MAP, {"bbox": DISTRICT_BBOX, "zoom": 13, **extra})
    assert response.status_code == 200
    return response.json()


def test_cached_clusters_are_per_scope_and_filters(client, crowd):
    w = crowd
    assert _map(client, w.dispatcher)["total"] == 1030
    assert _map(client, w.handler)["total"] == 520  # not the district's cached answer
    assert _map(client, w.handler2)["total"] == 510
    assert _map(client, w.dispatcher, unit=w.dept2.pk)["total"] == 510
    body = _map(client, w.handler)
    assert body["mode"] == "clusters" and body["total"] == 520
    assert _map(client, w.handler3) == {"mode": "points", "total": 0, "cell": None, "items": []}


def test_cached_clusters_expire(client, crowd, settings, monkeypatch):
    w = crowd
    settings.CASES_MAP_MAX_AGE = 60
    # A filter the kept per-cell counts do not keep (a category): counted from the cases, cached.
    assert _map(client, w.dispatcher, category=w.garbage.pk)["total"] == 1030
    Case.objects.filter(number="K-00000").update(lat=Decimal("10"))  # out of the view
    assert _map(client, w.dispatcher)["total"] == 1029  # the kept counts: at once
    assert _map(client, w.dispatcher, category=w.garbage.pk)["total"] == 1030  # served from the cache
    later = timezone.now() + dt.timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: later)
    monkeypatch.setattr(db_cache, "tz_now", lambda: later)  # the cache's own clock
    assert _map(client, w.dispatcher, category=w.garbage.pk)["total"] == 1029


def test_a_unit_scope_is_its_parts_leads_and_reports(mixed):
    w = mixed
    CaseFactory(reporter=w.handler)  # a report of the handler's own
    CaseFactory(reporter_unit=w.dept2)  # and one of dept2's
    for user, unit in ((w.handler, w.dept), (w.handler2, w.dept2), (w.handler3, w.dept3)):
        held = CasePart.objects.filter(case=OuterRef("pk"), unit=unit)
        old = Case.objects.filter(
            Q(lead_unit=unit) | Q(reporter=user) | Q(reporter_unit=unit) | Q(Exists(held))
        )
        assert sorted(Case.objects.visible_to(user).values_list("pk", flat=True)) == sorted(
            old.values_list("pk", flat=True)
        )
    assert Case.objects.visible_to(w.handler).filter(reporter=w.handler).count() == 1
