"""The Open311 request list: a fixed number of queries also for refused and merged reports
(their status notes name the refusal reason and the case they joined)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appeals.tests.factories import AppealFactory
from cases.models import Case, CaseEvent
from cases.tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

URL = "/open311/v2/requests.json"


def _queries() -> tuple[int, list]:
    with CaptureQueriesContext(connection) as ctx:
        response = Client().get(URL)
        assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response.json()


def _add(world, n: int) -> None:
    target = CaseFactory(status=Case.Status.HANDLING, lead_unit=world.dept, category=world.garbage)
    for i in range(n):
        refused = AppealFactory(case__status=Case.Status.REJECTED, case__category=world.garbage).case
        CaseEvent.objects.create(case=refused, action=CaseEvent.Action.REJECT, reason=f"不属于城管范围 {i}")
        AppealFactory(case__status=Case.Status.MERGED, case__merged_into=target, case__category=world.garbage)
        AppealFactory(
            case__status=Case.Status.HANDLING, case__category=world.garbage, case__lead_unit=world.dept
        )


def test_refused_and_merged_requests_take_no_query_each(world):
    _add(world, 2)
    _queries()  # warm up the per-process and rate-limit caches
    few, _ = _queries()
    _add(world, 8)
    many, body = _queries()
    assert len(body) == 30
    notes = [r["status_notes"] for r in body]
    assert sum("不属于城管范围" in n for n in notes) == 10
    assert sum("并入案件" in n for n in notes) == 10
    assert many == few
