"""Text input of the case loop (issue 13, item 2): a NUL byte or another control character, or a
value longer than its column, is a clean 400 through the API and nothing is stored (PostgreSQL
would answer 500; SQLite would store it)."""

import pytest
from django.test import Client

from cases.models import Case, CaseEvent
from cases.tests.conftest import jpeg

pytestmark = pytest.mark.django_db
BASE = "/api/v1/cases"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report(client, w, **overrides):
    data = {
        "category_id": w.road.pk,
        "description": "井盖缺失",
        "lat": w.in_grid[0],
        "lng": w.in_grid[1],
        "address": "一社区文化路 12 号",
        "photos": [jpeg()],
    }
    data.update(overrides)
    return client.post(f"{BASE}/cases", data)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"description": "井盖\x00缺失"}, "请求参数含有不允许的控制字符"),
        ({"address": "文化路\x00"}, "请求参数含有不允许的控制字符"),
        ({"description": "井盖\x1b缺失"}, "请求参数含有不允许的控制字符"),
        ({"address": "路" * 201}, "地址不能超过 200 字"),
        ({"description": "描" * 4001}, "问题描述不能超过 4000 字"),
    ],
)
def test_a_bad_text_in_a_report_is_a_400_and_stores_nothing(world, overrides, message):
    response = report(client_for(world.collector), world, **overrides)
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": message}
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_a_bad_reason_in_a_json_body_is_a_400_and_changes_nothing(world):
    case_id = report(client_for(world.collector), world).json()["id"]
    dispatcher = client_for(world.dispatcher)
    for reason in ("不属实\x00", "不属实\u0007", "理" * 2001):
        response = dispatcher.post(
            f"{BASE}/cases/{case_id}/reject", {"reason": reason}, content_type="application/json"
        )
        assert response.status_code == 400, response.content
        assert "不予立案理由" in response.json()["detail"]
    assert Case.objects.get().status == Case.Status.REPORTED
    assert CaseEvent.objects.count() == 1


def test_a_nul_byte_in_a_list_query_is_a_400(world):
    client = client_for(world.dispatcher)
    response = client.get(f"{BASE}/cases", {"q": "\x00"})
    assert response.status_code == 400 and response.json() == {"detail": "请求参数含有不允许的控制字符"}
    response = client.get("/cases/", {"q": "井盖\x00"})
    assert response.status_code == 400 and "请求参数含有不允许的控制字符" in response.content.decode()
