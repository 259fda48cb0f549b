"""Duplicate suggestions at a hot spot (a busy market: hundreds of open reports of one category at
one place): the nearest few are chosen by the database in one query, never every candidate."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import geo
from cases.duplicates import duplicate_limit, find_duplicates
from cases.models import Case
from cases.tests.factories import CaseFactory, category
from org.tests.prepared import prepared_statements

pytestmark = pytest.mark.django_db

SPOT = (Decimal("31.858700"), Decimal("106.747800"))


def test_a_hot_spot_costs_one_query_and_returns_the_nearest_few():
    garbage = category("0102")
    # 400 open reports within about 40 m of the spot, on a spiral, each a little farther out.
    spot = [
        Case(
            number=f"H-{i:04d}",
            category=garbage,
            description="市场门口垃圾",
            lat=SPOT[0] + Decimal(f"{(i % 20 - 10) * 0.000018:.6f}"),
            lng=SPOT[1] + Decimal(f"{(i // 20 - 10) * 0.000021:.6f}"),
        )
        for i in range(400)
    ]
    Case.objects.bulk_create(spot)
    # Closed ones and another category at the very spot are never suggested.
    CaseFactory(category=garbage, lat=SPOT[0], lng=SPOT[1], status=Case.Status.CLOSED)
    CaseFactory(category=category("0201"), lat=SPOT[0], lng=SPOT[1])
    with CaptureQueriesContext(connection) as ctx:
        found = find_duplicates(garbage, *SPOT)
    assert len(ctx.captured_queries) == 1
    assert len(found) == duplicate_limit() == 10
    open_ones = Case.objects.filter(category=garbage, status=Case.Status.REPORTED)
    by_distance = sorted(open_ones, key=lambda c: (geo.distance_m(*SPOT, c.lat, c.lng), c.pk))
    assert [c.number for c in found] == [c.number for c in by_distance[:10]]
    assert all(geo.distance_m(*SPOT, c.lat, c.lng) <= 50 for c in found)


def test_the_limit_and_the_radius_both_bound_the_answer(settings):
    garbage = category("0102")
    near = CaseFactory(category=garbage, lat=SPOT[0] + Decimal("0.000100"), lng=SPOT[1])  # ≈ 11 m
    CaseFactory(category=garbage, lat=SPOT[0] + Decimal("0.000600"), lng=SPOT[1])  # ≈ 67 m: outside
    corner = CaseFactory(  # inside the box, outside the circle (its corner): dropped by the exact distance
        category=garbage, lat=SPOT[0] + Decimal("0.000400"), lng=SPOT[1] + Decimal("0.000470")
    )
    assert geo.distance_m(*SPOT, corner.lat, corner.lng) > 50
    assert find_duplicates(garbage, *SPOT) == [near]
    settings.CASE_DUPLICATE_LIMIT = 1
    assert find_duplicates(garbage, *SPOT, metres=100) == [near]


def test_the_search_states_the_open_statuses_in_its_prepared_text_on_postgresql():
    """The open statuses are written into the search's text, so PostgreSQL's one plan for every
    search (the generic plan of its prepared statement) may use the partial index of open cases
    (``case_open_category_point``, whose condition is proven against literals only); with the
    statuses as parameters it could not, and PostgreSQL planned the search again on every report
    (0.2 ms, four times running it, at 10,000 cases)."""
    garbage = category("0102")
    CaseFactory(category=garbage, lat=SPOT[0], lng=SPOT[1])
    for _ in range(6):
        assert len(find_duplicates(garbage, *SPOT)) == 1
    ((statement, generic, _custom),) = prepared_statements('%"cases_case"."lat" BETWEEN%')
    statuses = ", ".join(f"'{s}'" for s in Case.OPEN_STATUSES)
    assert f'"cases_case"."status" IN ({statuses})' in statement, statement
    assert "$11" in statement and "$12" not in statement  # only the search's own arguments
    assert generic > 0
