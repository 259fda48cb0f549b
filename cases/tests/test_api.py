"""The cases API: the whole loop with photos, scope (404 outside it), errors as 4xx bodies,
list filters with cursor pagination, categories, routing suggestion and metrics."""

import pytest
from django.test import Client

from cases.models import Case
from cases.tests.conftest import at, jpeg
from cases.tests.factories import CategoryFactory, RoutingRuleFactory
from org.models import ApiToken

pytestmark = pytest.mark.django_db

BASE = "/api/v1/cases"


@pytest.fixture(autouse=True)
def _long_sessions(settings):
    """Sessions made while the test clock is set must outlive the clock's later moves."""
    settings.SESSION_COOKIE_AGE = 10 * 365 * 24 * 3600


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, path, data=None):
    return client.post(f"{BASE}{path}", data or {}, content_type="application/json")


def report(client, w, where=None, photos=1, category=None):
    lat, lng = where or w.in_grid
    data = {
        "category_id": (category or w.road).pk,
        "description": "井盖缺失",
        "lat": lat,
        "lng": lng,
        "address": "一社区文化路 12 号",
    }
    if photos:
        data["photos"] = [jpeg(f"p{i}.jpg") for i in range(photos)]
    return client.post(f"{BASE}/cases", data)


def test_the_whole_loop_through_the_api(world, clock):
    w = world
    RoutingRuleFactory(category=w.road, region=w.c1, unit=w.dept)
    collector, dispatcher, handler = client_for(w.collector), client_for(w.dispatcher), client_for(w.handler)
    clock.set(at(2026, 3, 2, 9))
    r = report(collector, w, photos=2)
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["status"] == "reported" and case["region_id"] == w.c1.pk and case["grid_id"] == w.grid.pk
    assert len(case["photos"]) == 2 and "private" not in case["photos"][0]["image_url"]
    case_id = case["id"]

    r = post(dispatcher, f"/cases/{case_id}/accept", {"note": "属实"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert r.json()["suggested_unit_id"] == w.dept.pk
    assert r.json()["allowed_actions"] == ["reclassify", "dispatch"]
    r = dispatcher.get(f"{BASE}/routing/suggest", {"category_id": w.road.pk, "case_id": case_id})
    assert r.json()["unit_id"] == w.dept.pk
    r = post(
        dispatcher, f"/cases/{case_id}/dispatch", {"lead_unit_id": w.dept.pk, "co_unit_ids": [w.dept2.pk]}
    )
    assert r.status_code == 200 and r.json()["status"] == "dispatched"
    assert [(p["unit_id"], p["is_lead"]) for p in r.json()["parts"]] == [
        (w.dept.pk, True),
        (w.dept2.pk, False),
    ]

    assert post(handler, f"/cases/{case_id}/start").json()["status"] == "handling"
    r = post(handler, f"/cases/{case_id}/extensions", {"days": 2, "reason": "等待材料"})
    assert r.status_code == 201
    ext_id = r.json()["id"]
    r = post(dispatcher, f"/cases/{case_id}/extensions/{ext_id}/decide", {"approve": True, "note": "同意"})
    assert r.status_code == 200 and r.json()["status"] == "approved"

    r = handler.post(f"{BASE}/cases/{case_id}/handle", {"note": "已修复"})
    assert r.status_code == 400 and "照片" in r.json()["detail"]
    r = handler.post(f"{BASE}/cases/{case_id}/handle", {"note": "已修复", "photos": [jpeg()]})
    assert r.status_code == 200 and r.json()["status"] == "handling"
    r = client_for(w.handler2).post(f"{BASE}/cases/{case_id}/handle", {"photos": [jpeg()]})
    assert r.json()["status"] == "handled"
    r = post(dispatcher, f"/cases/{case_id}/verify", {"note": "现场核查已修复"})
    assert r.json()["status"] == "closed"

    timeline = [(e["action"], e["actor_name"], e["via"]) for e in r.json()["events"]]
    assert [t[0] for t in timeline] == [
        "report",
        "accept",
        "dispatch",
        "start",
        "request_extension",
        "approve_extension",
        "handle",
        "handle",
        "close",
    ]
    assert all(name and via == "api" for _action, name, via in timeline)
    assert [p["kind"] for p in r.json()["photos"]] == ["before", "before", "after", "after"]


def test_merge_through_the_api(world):
    w = world
    collector, dispatcher = client_for(w.collector), client_for(w.dispatcher)
    first = report(collector, w).json()["id"]
    post(dispatcher, f"/cases/{first}/accept")
    second = report(collector, w).json()
    assert [d["id"] for d in second["duplicates"]] == [first]
    r = post(dispatcher, f"/cases/{second['id']}/merge", {"into_id": first, "reason": "同一井盖"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "merged" and body["merged_into_id"] == first
    assert body["events"][-1]["action"] == "merge" and body["events"][-1]["reason"] == "同一井盖"
    # A merged case cannot be merged again, and nobody but the dispatchers merges.
    r = post(dispatcher, f"/cases/{second['id']}/merge", {"into_id": first})
    assert r.status_code == 409 and r.json()["detail"]
    third = report(collector, w).json()["id"]
    r = post(collector, f"/cases/{third}/merge", {"into_id": first})
    assert r.status_code == 403
    assert Case.objects.get(pk=third).status == Case.Status.REPORTED


def test_return_and_redispatch_through_the_api(world):
    w = world
    dispatcher, handler = client_for(w.dispatcher), client_for(w.handler)
    case_id = report(client_for(w.collector), w).json()["id"]
    post(dispatcher, f"/cases/{case_id}/accept")
    post(dispatcher, f"/cases/{case_id}/dispatch", {"lead_unit_id": w.dept.pk})
    r = post(handler, f"/cases/{case_id}/return", {"reason": ""})
    assert r.status_code == 400 and "退单理由" in r.json()["detail"]
    r = post(client_for(w.handler2), f"/cases/{case_id}/return", {"reason": "不是我们的"})
    assert r.status_code == 404  # not their case: outside their scope
    r = post(handler, f"/cases/{case_id}/return", {"reason": "属住建局管养道路"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "returned" and body["return_count"] == 1
    assert [p["status"] for p in body["parts"]] == ["returned"]
    assert body["events"][-1]["action"] == "return" and body["events"][-1]["via"] == "api"
    r = post(dispatcher, f"/cases/{case_id}/dispatch", {"lead_unit_id": w.dept2.pk})
    assert r.status_code == 200 and r.json()["status"] == "dispatched"
    assert client_for(w.handler).get(f"{BASE}/cases/{case_id}").status_code == 200  # returned part kept


def test_rework_through_the_api(world, clock):
    w = world
    dispatcher, handler = client_for(w.dispatcher), client_for(w.handler)
    clock.set(at(2026, 3, 2, 9))
    case_id = report(client_for(w.collector), w).json()["id"]
    post(dispatcher, f"/cases/{case_id}/accept")
    post(dispatcher, f"/cases/{case_id}/dispatch", {"lead_unit_id": w.dept.pk})
    r = post(dispatcher, f"/cases/{case_id}/rework", {"reason": "仍有破损"})
    assert r.status_code == 409  # not handled yet
    handler.post(f"{BASE}/cases/{case_id}/handle", {"photos": [jpeg()]})
    r = post(handler, f"/cases/{case_id}/rework", {"reason": "仍有破损"})
    assert r.status_code == 403
    r = post(dispatcher, f"/cases/{case_id}/rework", {"reason": ""})
    assert r.status_code == 400 and "返工理由" in r.json()["detail"]
    clock.set(at(2026, 3, 3, 10))
    r = post(dispatcher, f"/cases/{case_id}/rework", {"reason": "仍有破损"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "handling" and body["rework_count"] == 1
    assert [p["status"] for p in body["parts"]] == ["handling"]
    assert body["events"][-1]["action"] == "rework"
    assert "handle" in client_for(w.handler).get(f"{BASE}/cases/{case_id}").json()["allowed_actions"]


def test_errors_are_json_bodies_with_the_right_status(world):
    w = world
    case_id = report(client_for(w.collector), w).json()["id"]
    handler, dispatcher = client_for(w.handler), client_for(w.dispatcher)
    assert handler.get(f"{BASE}/cases/{case_id}").status_code == 404  # not their case
    r = post(client_for(w.collector), f"/cases/{case_id}/accept")
    assert r.status_code == 403 and r.json()["detail"]
    r = post(dispatcher, f"/cases/{case_id}/reject", {"reason": ""})
    assert r.status_code == 400 and "理由" in r.json()["detail"]
    r = post(dispatcher, f"/cases/{case_id}/verify")
    assert r.status_code == 409 and r.json()["detail"]
    assert Client().get(f"{BASE}/cases").status_code == 401
    r = report(client_for(w.collector), w, where=w.in_c2)
    assert r.status_code == 403
    r = report(client_for(w.collector), w, photos=0)
    assert r.status_code == 400
    r = report(client_for(w.collector), w, category=CategoryFactory.build(pk=987_654))
    assert r.status_code == 404 and r.json()["detail"] == "对象不存在或不在您的权限范围内"
    assert Case.objects.count() == 1


def test_device_token_authenticates(world):
    _token, key = ApiToken.issue(world.collector, "手机")
    r = Client().get(f"{BASE}/cases", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200


def test_list_is_scoped_filtered_and_cursor_paginated(world, clock):
    w = world
    collector = client_for(w.collector)
    ids = []
    for day in range(2, 7):
        clock.set(at(2026, 3, day, 9))
        ids.append(report(collector, w).json()["id"])
    clock.set(at(2026, 3, 6, 10))
    report(client_for(w.collector2), w, where=w.in_c2)
    dispatcher = client_for(w.dispatcher)
    post(dispatcher, f"/cases/{ids[0]}/accept")
    post(dispatcher, f"/cases/{ids[0]}/dispatch", {"lead_unit_id": w.dept.pk})

    seen, url = [], f"{BASE}/cases?page_size=2"
    while url:
        page = collector.get(url).json()
        seen.extend(c["id"] for c in page["results"])
        url = page["next"]
    assert seen == list(reversed(ids))  # newest first, collector2's case out of scope

    everything = dispatcher.get(f"{BASE}/cases", {"page_size": 50}).json()["results"]
    assert len(everything) == 6
    by_status = dispatcher.get(f"{BASE}/cases", {"status": ["dispatched"]}).json()["results"]
    assert [c["id"] for c in by_status] == [ids[0]]
    by_unit = dispatcher.get(f"{BASE}/cases", {"unit": w.dept.pk}).json()["results"]
    assert [c["id"] for c in by_unit] == [ids[0]]
    by_region = dispatcher.get(f"{BASE}/cases", {"region": w.c2.pk}).json()["results"]
    assert len(by_region) == 1
    by_dates = dispatcher.get(f"{BASE}/cases", {"start": "2026-03-03", "end": "2026-03-04"})
    assert {c["id"] for c in by_dates.json()["results"]} == {ids[1], ids[2]}
    clock.set(at(2026, 3, 20, 9))
    overdue = dispatcher.get(f"{BASE}/cases", {"state": "overdue"}).json()["results"]
    assert [c["id"] for c in overdue] == [ids[0]] and overdue[0]["overdue"] is True
    clock.set(at(2026, 3, 9, 12))  # dispatched Fri 6 March 10:00: due Fri 13 March 10:00
    soon = dispatcher.get(f"{BASE}/cases", {"state": "due_soon", "due_soon_hours": 24 * 7}).json()["results"]
    assert [c["id"] for c in soon] == [ids[0]]
    assert client_for(w.handler).get(f"{BASE}/cases").json()["results"][0]["id"] == ids[0]
    post(dispatcher, f"/cases/{ids[1]}/accept")
    post(dispatcher, f"/cases/{ids[1]}/dispatch", {"lead_unit_id": w.dept2.pk, "co_unit_ids": [w.dept.pk]})
    by_unit = dispatcher.get(f"{BASE}/cases", {"unit": w.dept.pk}).json()["results"]
    assert [c["id"] for c in by_unit] == [ids[1], ids[0]]  # led, and joint as a co-unit
    # A filter the list does not know, or a bad value, is refused (never silently ignored).
    r = dispatcher.get(f"{BASE}/cases", {"unit_id": w.dept.pk})
    assert r.status_code == 400 and "unit_id" in r.json()["detail"]
    r = dispatcher.get(f"{BASE}/cases", {"month": "2026-13", "metric": "close_rate"})
    assert r.status_code == 400 and "月份" in r.json()["detail"]
    r = dispatcher.get(f"{BASE}/cases", {"start": "2026-03-05", "end": "2026-03-01"})
    assert r.status_code == 400 and "开始日期" in r.json()["detail"]


def test_categories_and_suggestion_at_a_point(world):
    w = world
    client = client_for(w.collector)
    cats = client.get(f"{BASE}/categories", {"kind": "event"}).json()
    assert {c["major_name"] for c in cats} >= {"市容环境", "街面秩序", "宣传广告", "施工管理", "突发事件"}
    RoutingRuleFactory(grid=w.grid, unit=w.dept3)
    lat, lng = w.in_grid
    r = client.get(f"{BASE}/routing/suggest", {"category_id": w.garbage.pk, "lat": lat, "lng": lng}).json()
    assert r == {"unit_id": w.dept3.pk, "unit_name": w.dept3.name, "region_id": w.c1.pk, "grid_id": w.grid.pk}


def test_metrics_and_the_cases_behind(world, clock):
    w = world
    clock.set(at(2026, 3, 2, 9))
    collector, dispatcher = client_for(w.collector), client_for(w.dispatcher)
    first = report(collector, w).json()["id"]
    second = report(collector, w).json()["id"]
    post(dispatcher, f"/cases/{first}/accept")
    post(dispatcher, f"/cases/{second}/reject", {"reason": "重复上报"})
    clock.set(at(2026, 4, 1, 9))
    body = dispatcher.get(f"{BASE}/metrics", {"month": "2026-03"}).json()
    figures = {f["key"]: f for f in body["figures"]}
    assert len(figures) == 11
    assert (figures["valid_report_rate"]["numerator"], figures["valid_report_rate"]["denominator"]) == (1, 2)
    assert figures["valid_report_rate"]["percent"] == 50.0
    assert figures["handle_rate"]["rate"] is None  # no part was due: no data
    assert figures["dispatch_on_time_rate"]["rate"] == 0.0  # accepted, never dispatched
    r = dispatcher.get(f"{BASE}/metrics/valid_report_rate/cases", {"month": "2026-03", "side": "denominator"})
    assert {c["id"] for c in r.json()["results"]} == {first, second}
    r = dispatcher.get(f"{BASE}/metrics/valid_report_rate/cases", {"month": "2026-03"})
    assert [c["id"] for c in r.json()["results"]] == [first]
    assert dispatcher.get(f"{BASE}/metrics/nonsense/cases").status_code == 404
    # The figures are for HQ, dispatchers, leaders and inspectors, as on the page (test_rules.py).
    r = client_for(w.handler).get(f"{BASE}/metrics", {"start": "2026-03-01", "end": "2026-03-31"})
    assert r.status_code == 403


def test_citizens_only_categories_are_neither_listed_nor_reportable(world):
    w = world
    unsure = CategoryFactory(public_only=True, name="不确定测试")
    client = client_for(w.collector)
    listed = {c["id"] for c in client.get(f"{BASE}/categories").json()}
    assert w.road.pk in listed and unsure.pk not in listed
    r = report(client, w, category=unsure)
    assert r.status_code == 400 and "仅供群众" in r.json()["detail"]
    assert Case.objects.count() == 0


def test_a_dispatcher_reclassifies_through_the_api(world):
    w = world
    case_id = report(client_for(w.collector), w).json()["id"]
    dispatcher = client_for(w.dispatcher)
    r = post(dispatcher, f"/cases/{case_id}/reclassify", {"category_id": w.garbage.pk, "reason": "实为垃圾"})
    assert r.status_code == 200 and r.json()["category_id"] == w.garbage.pk
    r = post(dispatcher, f"/cases/{case_id}/reclassify", {"category_id": w.road.pk})
    assert r.status_code == 400 and "改类理由" in r.json()["detail"]
    r = post(
        client_for(w.collector), f"/cases/{case_id}/reclassify", {"category_id": w.road.pk, "reason": "x"}
    )
    assert r.status_code == 403
    assert Case.objects.get(pk=case_id).category == w.garbage


def _as_ninja_answers(user, case_id: int) -> dict:
    """The detail as ninja answers it by validating the ORM's objects against ``CaseDetailOut``
    (what the API did before ``org.dump``): the reference the fast answer must equal."""
    import json

    from django.db.models import Prefetch
    from django.test import RequestFactory
    from ninja.responses import NinjaJSONEncoder

    from cases.models import CaseEvent, CasePart, ExtensionRequest, FieldCheck
    from cases.schemas import CaseDetailOut

    parts = CasePart.objects.select_related("unit").prefetch_related(
        Prefetch("extension_requests", queryset=ExtensionRequest.objects.order_by())
    )
    case = (
        Case.objects.select_related("category")
        .prefetch_related(
            Prefetch("parts", queryset=parts),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
            "photos",
            Prefetch("field_checks", queryset=FieldCheck.objects.select_related("verifier")),
        )
        .get(pk=case_id)
    )
    request = RequestFactory().get("/")
    request.user = user
    validated = CaseDetailOut.model_validate(case, context={"request": request, "response_status": 200})
    return json.loads(json.dumps(validated.model_dump(), cls=NinjaJSONEncoder))


def _instants(value):
    """``value`` with every ISO date-time string read as an instant (the report's own answer
    carries its times in local time as written, a read-back answer in UTC)."""
    from django.utils.dateparse import parse_datetime

    if isinstance(value, dict):
        return {k: _instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_instants(v) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and "T" in value:
        return parse_datetime(value) or value
    return value


def test_the_detail_answer_equals_ninjas_validated_answer_at_every_step(world, clock):
    """The detail is built by ``org.dump`` from rows read by compiled queries, without pydantic's
    validation; at every step of a loop with a joint dispatch, an extension, a field check and
    a duplicate, each caller's answer equals the one ninja builds through the schema."""
    w = world
    w.road.field_verification = True
    w.road.save()
    RoutingRuleFactory(category=w.road, region=w.c1, unit=w.dept)
    collector, dispatcher, handler = client_for(w.collector), client_for(w.dispatcher), client_for(w.handler)
    clock.set(at(2026, 3, 2, 9))
    statuses = []

    def same(user, response, case_id=None):
        assert response.status_code in (200, 201), response.content
        answer = response.json()
        expected = _as_ninja_answers(user, case_id or answer["id"])
        if response.status_code == 201:
            assert _instants(answer) == _instants(expected)
        else:
            assert answer == expected
        statuses.append(answer["status"])
        return answer

    first = same(w.collector, report(collector, w))["id"]
    case_id = same(w.collector, report(collector, w, photos=2))["id"]  # a duplicate of the first
    assert same(w.dispatcher, dispatcher.get(f"{BASE}/cases/{case_id}"))["duplicates"][0]["id"] == first
    same(w.dispatcher, post(dispatcher, f"/cases/{case_id}/accept", {"note": "属实"}))
    same(
        w.dispatcher,
        post(
            dispatcher, f"/cases/{case_id}/dispatch", {"lead_unit_id": w.dept.pk, "co_unit_ids": [w.dept2.pk]}
        ),
    )
    same(w.handler, post(handler, f"/cases/{case_id}/start"))
    # Two requests on the lead part (the detail reads them with their part, a row each).
    ext_id = post(handler, f"/cases/{case_id}/extensions", {"days": 2, "reason": "等待材料"}).json()["id"]
    r = post(
        dispatcher, f"/cases/{case_id}/extensions/{ext_id}/decide", {"approve": False, "note": "理由不足"}
    )
    assert r.status_code == 200, r.content
    same(w.handler, handler.get(f"{BASE}/cases/{case_id}"))
    ext_id = post(
        handler, f"/cases/{case_id}/extensions", {"days": 2, "reason": "材料已申请，待送达"}
    ).json()["id"]
    post(dispatcher, f"/cases/{case_id}/extensions/{ext_id}/decide", {"approve": True, "note": "同意"})
    same(w.handler, handler.get(f"{BASE}/cases/{case_id}"))
    same(w.handler, handler.post(f"{BASE}/cases/{case_id}/handle", {"photos": [jpeg()]}))
    same(w.handler2, client_for(w.handler2).post(f"{BASE}/cases/{case_id}/handle", {"photos": [jpeg()]}))
    lat, lng = w.in_grid
    check = {"passed": "true", "lat": lat, "lng": lng, "photos": [jpeg()]}
    same(w.collector, collector.post(f"{BASE}/cases/{case_id}/field-check", check))
    same(w.dispatcher, post(dispatcher, f"/cases/{case_id}/verify", {"note": "核查通过"}))
    final = same(w.dispatcher, dispatcher.get(f"{BASE}/cases/{case_id}"))
    assert statuses[-1] == "closed" and {"reported", "accepted", "dispatched", "handling", "handled"} <= set(
        statuses
    )
    assert final["field_checks"] and len(final["extensions"]) == 2 and len(final["parts"]) == 2
