"""The API under /api/v1/volunteers/: the loop end to end, the citizens' endpoints without sign-in,
refusals as 403/400/409 with a Chinese detail, masking, and the points shop."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from cases.tests.conftest import jpeg
from org.models import AuditLog
from volunteers import services
from volunteers.models import Order, OrderPhoto, PointsEntry

from .conftest import actor

pytestmark = pytest.mark.django_db
API = "/api/v1/volunteers"


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, url, payload=None):
    return client.post(API + url, json.dumps(payload or {}), content_type="application/json")


def test_the_loop_through_the_api(world):
    citizen = Client()
    menu = citizen.get(API + "/services").json()
    assert [s["name"] for s in menu] == ["上门助老"]
    placed = _post(citizen, "/orders", {"service_id": world.service.pk, "description": "打扫", "address": "3 栋",
                                        "phone": "13800001111", "lat": 31.0, "lng": 106.0})  # fmt: skip
    assert placed.status_code == 201
    code = placed.json()["code"]
    assert "phone" not in placed.json()
    order = Order.objects.get(code=code)
    assert order.channel == "api"

    station = _as(world.station_staff)
    detail = station.get(f"{API}/orders/{order.pk}").json()
    assert detail["phone"] == "138****1111" and detail["allowed_actions"] == ["assign", "read_contact"]
    assert station.get(f"{API}/orders/{order.pk}/suggestions").json()[0]["id"] == world.team.pk
    assert (
        _post(station, f"/orders/{order.pk}/assign", {"team_id": world.team.pk}).json()["status"]
        == "assigned"
    )

    leader = _as(world.leader.user)
    assert _post(leader, f"/orders/{order.pk}/accept").json()["status"] == "accepted"
    (record,) = _post(leader, f"/orders/{order.pk}/staff", {"volunteer_ids": [world.alice.pk]}).json()
    alice = _as(world.alice.user)
    signed = _post(alice, f"/records/{record['id']}/sign-in", {"lat": 31.0, "lng": 106.0}).json()
    assert signed["signed_in_at"] and not signed["far"]
    _post(alice, f"/records/{record['id']}/sign-out", {"lat": 31.0, "lng": 106.0})
    served = leader.post(f"{API}/orders/{order.pk}/complete", {"note": "已完成", "photos": [jpeg()]}).json()
    assert served["status"] == "served" and len(served["photos"]) == 1
    assert OrderPhoto.objects.get(order=order).original.name.startswith("private/volunteers/")
    assert _post(leader, f"/records/{record['id']}/confirm", {}).status_code == 200

    rated = _post(
        citizen, "/orders/rate", {"code": code, "phone": "13800001111", "rating": 5, "comment": "好"}
    )
    assert rated.json()["status"] == "rated"
    again = _post(citizen, "/orders/rate", {"code": code, "phone": "13800001111", "rating": 4})
    assert again.status_code == 409 and "不能重复评价" in again.json()["detail"]
    tracked = _post(citizen, "/orders/track", {"code": code.lower(), "phone": "13800001111"}).json()
    assert tracked["rating"] == 5 and tracked["team"] == "一队"


def test_refusals_are_403_400_409_and_404(world):
    order = services.place_order(
        actor(None), world.service, description="x", address="y", phone="13800001111"
    )
    leader = _as(world.leader.user)
    assert leader.get(f"{API}/orders/{order.pk}").status_code == 404  # not yet theirs
    centre = _as(world.centre_staff)
    refused = _post(centre, f"/orders/{order.pk}/accept")
    assert refused.status_code == 403 and "队长" in refused.json()["detail"]
    _post(centre, f"/orders/{order.pk}/assign", {"team_id": world.team.pk})
    assert _post(centre, f"/orders/{order.pk}/assign", {"team_id": world.team.pk}).status_code == 409
    assert _post(leader, f"/orders/{order.pk}/decline", {"reason": " "}).status_code == 400
    bad = _post(Client(), "/orders", {"service_id": world.service.pk, "description": "x", "address": "y",
                                      "phone": "123"})  # fmt: skip
    assert bad.status_code == 400 and "手机号" in bad.json()["detail"]
    assert _post(Client(), "/orders/track", {"code": order.code, "phone": "13900000000"}).status_code == 404
    assert Client().get(f"{API}/orders").status_code == 401


def test_public_endpoints_are_rate_limited(world, settings):
    settings.VOLUNTEER_RATE_LIMITS = {"track": {"ip": "1/h", "phone": None}}
    assert _post(Client(), "/orders/track", {"code": "X", "phone": "13800001111"}).status_code == 404
    assert _post(Client(), "/orders/track", {"code": "X", "phone": "13800001111"}).status_code == 429


def test_contact_and_real_name_reads_are_limited_and_logged(world):
    order = services.place_order(
        actor(None), world.service, description="x", address="y", phone="13800001111"
    )
    assert _post(_as(world.station_staff), f"/orders/{order.pk}/contact").json()["phone"] == "13800001111"
    listed = _as(world.station_staff).get(f"{API}/volunteers").json()["items"]
    assert {v["name"] for v in listed} >= {"王**"} and all("*" in v["id_number"] for v in listed)
    assert _post(_as(world.other_staff), f"/volunteers/{world.alice.pk}/real-name").status_code == 404
    full = _post(_as(world.hq), f"/volunteers/{world.alice.pk}/real-name").json()
    assert full["id_number"] == world.alice.id_number
    assert (
        AuditLog.objects.filter(
            action__in=["volunteer.read_real_name", "volunteers.order.read_contact"]
        ).count()
        == 2
    )


def test_activity_points_and_shop_through_the_api(world):
    leader = _as(world.leader.user)
    start = timezone.now() + dt.timedelta(days=1)
    created = _post(leader, "/activities", {"team_id": world.team.pk, "title": "清洁", "kind": "environment",
                                            "place": "河边", "starts_at": start.isoformat(),
                                            "ends_at": (start + dt.timedelta(hours=2)).isoformat(), "capacity": 1})  # fmt: skip
    assert created.status_code == 201
    activity_id = created.json()["id"]
    alice = _as(world.alice.user)
    assert _post(alice, f"/activities/{activity_id}/enrol").status_code == 201
    full = _post(_as(world.bob.user), f"/activities/{activity_id}/enrol")
    assert full.status_code == 409 and "已满" in full.json()["detail"]

    services.adjust_points(actor(world.hq), world.alice, 40, "测试")
    assert alice.get(f"{API}/me").json()["points_balance"] == 40
    too_many = _post(alice, "/redemptions", {"goods_id": world.goods.pk, "quantity": 2})
    assert too_many.status_code == 409 and "积分余额不足" in too_many.json()["detail"]
    redemption = _post(alice, "/redemptions", {"goods_id": world.goods.pk}).json()
    assert _post(alice, f"/redemptions/{redemption['id']}/pickup").status_code == 403
    assert (
        _post(_as(world.station_staff), f"/redemptions/{redemption['id']}/pickup").json()["status"]
        == "picked_up"
    )
    ledger = alice.get(f"{API}/me/points").json()["items"]
    assert [e["points"] for e in ledger] == [-30, 40]
    assert PointsEntry.objects.filter(volunteer=world.alice).count() == 2
