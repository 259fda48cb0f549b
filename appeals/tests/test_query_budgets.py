"""Query budgets of the Open311 list: the same number of queries for 2 and for 25 service
requests, so a lookup per request (N+1) fails here."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appeals.tests.factories import AppealFactory

pytestmark = pytest.mark.django_db


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
    queries(URLS[0])  # warm up: the first request also fills per-process and rate-limit caches
    few = [queries(url) for url in URLS]
    for _ in range(23):
        AppealFactory(case__region=world.c1, case__category=world.garbage)
    many = [queries(url) for url in URLS]
    assert many == few
    # The requests are really there: the budget holds for a full page, not an empty one.
    assert Client().get(URLS[0]).json().__len__() == 25
