"""One error contract per interface, in Chinese (issue 13, item 6 of the probe): the API answers
``{"detail": "<中文>"}``, Open311 its error list, pages Chinese templates (DEBUG off, as here)."""

import json

import pytest
from django.test import Client, RequestFactory

from chuangwen import errors
from org.models import Role, Unit
from org.tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def person():
    return member(UnitFactory(code="C1", kind=Unit.Kind.COMMUNITY_COMMITTEE), Role.COLLECTOR, username="zhou")


def test_api_anonymous_and_bad_tokens_get_a_chinese_401(client):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer nope"}):
        response = client.get("/api/v1/org/me", **headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "未登录或令牌无效"}


def test_api_invalid_parameters_are_one_chinese_message(client, person):
    client.force_login(person)
    response = client.get("/api/v1/appeals/stats", {"start": "2026-03-01", "end": "abc"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("参数无效：end ")
    # The case list's filters are read by the list's one filter (cases.filtersets): a 400 naming it.
    response = client.get("/api/v1/cases/cases", {"state": "due_soon", "due_soon_hours": "abc"})
    assert response.status_code == 400 and response.json()["detail"].startswith("即将到期（工作时）：")
    response = client.get("/api/v1/cases/cases", {"due_soon_hours": 99999999999999})
    assert response.status_code == 400 and "744" in response.json()["detail"]
    response = client.post("/api/v1/org/tokens", {"days": 30}, content_type="application/json")
    assert response.status_code == 422
    assert response.json() == {"detail": "参数无效：name 为必填项"}


def test_api_an_unparsable_body_is_a_chinese_400(client, person):
    client.force_login(person)
    response = client.post("/api/v1/org/tokens", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求内容无法解析，应为有效的 JSON"}
    # A multipart body without its boundary cannot be read at all: a 400, never a 500.
    response = client.post("/api/v1/org/tokens", b"x", content_type="multipart/form-data")
    assert response.status_code == 400 and response.json()["detail"].startswith("请求体无法解析")


def test_api_csrf_failure_is_a_chinese_403(person):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    response = client.post("/api/v1/org/tokens", {"name": "x", "days": 30}, content_type="application/json")
    assert response.status_code == 403
    assert has_chinese(response.json()["detail"])


def test_api_unknown_paths_and_errors_answer_json(client):
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "对象不存在或不在您的权限范围内"}
    response = errors.server_error(RequestFactory().get("/api/v1/cases/cases"))
    assert response.status_code == 500
    assert json.loads(response.content) == {"detail": "服务器内部错误，请稍后再试"}


def test_open311_errors_keep_the_georeport_format():
    response = errors.server_error(RequestFactory().get("/open311/v2/requests.xml"))
    assert response.status_code == 500
    assert b"<errors><error><code>500</code>" in response.content
    response = errors.bad_request(RequestFactory().post("/open311/v2/requests.json"))
    assert json.loads(response.content) == [{"code": 400, "description": "请求无效"}]


def test_pages_answer_chinese_templates(client, person):
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()
    response = errors.server_error(RequestFactory().get("/cases/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "服务器出错了" in body and 'lang="zh-Hans"' in body
    response = errors.bad_request(RequestFactory().get("/cases/"))
    assert response.status_code == 400 and "请求无效" in response.content.decode()
    client.force_login(person)
    response = client.get("/admin/")
    assert response.status_code in (302, 403)


def test_a_csrf_failure_on_a_page_is_a_chinese_403(person):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "zhou", "password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "页面已过期" in body and "CSRF verification failed" not in body


def test_a_refusal_on_a_page_is_the_chinese_403(client, person):
    client.force_login(person)
    response = client.get("/cases/summary/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_api_page_bounds_are_a_422_not_a_database_overflow(client, person):
    """Found by the schema fuzzing: ?limit=10**30 overflowed the database's integer (500)."""
    client.force_login(person)
    for params in ({"limit": 10**30}, {"offset": 10**30}):
        response = client.get("/api/v1/org/units", params)
        assert response.status_code == 422, response.content
        assert has_chinese(response.json()["detail"])


def test_the_database_unreachable_is_a_503_to_retry_in_every_interface(client, person, monkeypatch):
    """A database restart mid-request (found by the fault drill, bench/faults.py): the step did
    not commit, so the answer is 503 with Retry-After in the interface's own form, not a 500."""
    from django.db import OperationalError

    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("cases.models.Category.objects.staff_selectable", unreachable)
    client.raise_request_exception = False
    client.force_login(person)
    response = client.get("/api/v1/cases/categories")
    assert response.status_code == 503 and response["Retry-After"] == str(errors.RETRY_AFTER)
    assert response.json() == {"detail": "数据库暂时不可用，请稍后重试（本次提交未保存）"}
    response = errors.server_error_for(OperationalError(), RequestFactory().get("/open311/v2/requests.json"))
    assert response.status_code == 503
    assert json.loads(response.content) == [{"code": 503, "description": errors.MESSAGES[503]}]
    response = errors.server_error_for(OperationalError(), RequestFactory().get("/cases/"))
    assert response.status_code == 503 and errors.MESSAGES[503] in response.content.decode()
    # Any other failure stays a 500.
    response = errors.server_error_for(ValueError(), RequestFactory().get("/api/v1/cases/cases"))
    assert response.status_code == 500
