"""Bad query values of the figures are a 4xx with a Chinese message, never a 500 (issue 13,
item 3): months out of range or malformed, a moment without a time zone (read as Beijing time),
a reversed period, hours beyond any deadline."""

import pytest
from django.test import Client

from cases.tests.conftest import at

pytestmark = pytest.mark.django_db
METRICS = "/api/v1/cases/metrics"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("month", ["2026-13", "abcd", "9999-12", "2026-00", "0001-01", "2026-1", "2026-10x"])
def test_a_bad_month_is_a_400_in_chinese(world, month):
    response = client_for(world.dispatcher).get(METRICS, {"month": month})
    assert response.status_code == 400, response.content
    assert "月份" in response.json()["detail"] or "年份" in response.json()["detail"]


def test_a_reversed_period_is_a_400(world):
    response = client_for(world.dispatcher).get(METRICS, {"start": "2026-10-31", "end": "2026-10-01"})
    assert response.status_code == 400
    assert response.json() == {"detail": "开始日期不能晚于结束日期"}


def test_a_period_out_of_range_is_a_400(world):
    response = client_for(world.dispatcher).get(METRICS, {"start": "0001-01-01", "end": "0001-01-02"})
    assert response.status_code == 400 and "年份" in response.json()["detail"]


def test_a_moment_without_a_time_zone_is_beijing_time(world, clock):
    clock.set(at(2026, 11, 20, 12))
    client = client_for(world.dispatcher)
    naive = client.get(METRICS, {"month": "2026-10", "at": "2026-11-01T08:00:00"})
    assert naive.status_code == 200, naive.content
    assert naive.json()["at"] == "2026-11-01T08:00:00+08:00"
    aware = client.get(METRICS, {"month": "2026-10", "at": "2026-11-01T08:00:00+08:00"})
    assert aware.json() == naive.json()
    far = client.get(METRICS, {"month": "2026-10", "at": "0001-01-01T00:00:00"})
    assert far.status_code == 400 and "年份" in far.json()["detail"]


def test_due_soon_hours_beyond_any_deadline_is_a_4xx(world):
    response = client_for(world.dispatcher).get("/api/v1/cases/cases", {"due_soon_hours": 99999999999999})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("month", ["9999-12", "2026-13", "abcd"])
def test_the_summary_page_refuses_a_bad_month_without_a_500(world, month):
    response = client_for(world.dispatcher).get("/cases/summary/", {"month": month})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        # The bad value is ignored as a form error would be: the page shows the current month.
        assert response.context["month"] != month
