"""The JSON API under /api/v1/appeals/: masked by default, contact reads for dispatchers only."""

import json

from django.utils import timezone

from appeals.models import Appeal
from appeals.services import submit_appeal
from cases import services as loop
from cases.models import Case
from org.audit import Actor
from org.models import AuditLog

from .conftest import IN_DISTRICT, actor, jpeg

PHONE, NAME = "13812345678", "王小明"


def _appeal(world, **kwargs) -> Appeal:
    return submit_appeal(
        Actor(user=None, via="public"),
        channel=Appeal.Channel.WEB,
        category=world.garbage,
        description="垃圾没人清",
        phone=PHONE,
        name=NAME,
        lat=IN_DISTRICT[0],
        lng=IN_DISTRICT[1],
        **kwargs,
    )


def _json(client, method, url, payload=None):
    if payload is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, json.dumps(payload), content_type="application/json")


def test_lists_and_details_are_masked_for_every_role(client, world):
    appeal = _appeal(world)
    for user in (world.dispatcher, world.hq):
        client.force_login(user)
        listed = client.get("/api/v1/appeals/").json()
        assert listed["count"] == 1
        item = listed["items"][0]
        assert (item["phone"], item["name"], item["code"], item["stage"]) == (
            "138****5678",
            "王**",
            appeal.code,
            "已收到，等待受理",
        )
        detail = client.get(f"/api/v1/appeals/{appeal.pk}")
        assert PHONE not in detail.content.decode() and NAME not in detail.content.decode()


def test_contact_reads_are_for_dispatchers_and_logged(client, world):
    appeal = _appeal(world)
    client.force_login(world.hq)
    response = client.get(f"/api/v1/appeals/{appeal.pk}/contact")
    assert response.status_code == 403
    assert response.json() == {"detail": "只有受理派遣员可以查看群众联系方式"}
    client.force_login(world.dispatcher)
    assert client.get(f"/api/v1/appeals/{appeal.pk}/contact").json() == {"phone": PHONE, "name": NAME}
    log = AuditLog.objects.get(action="appeal.read_contact")
    assert (log.actor, log.via) == (world.dispatcher, "api")


def test_a_unit_sees_only_its_appeals(client, world):
    appeal = _appeal(world)
    case = loop.accept_case(actor(world.dispatcher), appeal.case)
    loop.dispatch_case(actor(world.dispatcher), case, world.dept)
    client.force_login(world.other_handler)
    assert client.get("/api/v1/appeals/").json()["count"] == 0
    assert client.get(f"/api/v1/appeals/{appeal.pk}").status_code == 404
    client.force_login(world.handler)
    assert client.get(f"/api/v1/appeals/{appeal.pk}").json()["lead_unit"] == "区城管局"


def test_clerk_entry_follow_up_rating_and_stats_through_the_api(client, world):
    client.force_login(world.dispatcher)
    response = _json(
        client,
        "post",
        "/api/v1/appeals/",
        {
            "channel": "mail",
            "category_id": world.garbage.pk,
            "description": "来信反映垃圾",
            "phone": PHONE,
            "address": "一社区",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["channel"], body["case_status"], body["needs_follow_up"], body["phone"]) == (
        "mail",
        "reported",
        True,
        "138****5678",
    )
    appeal = Appeal.objects.get()
    case = loop.accept_case(actor(world.dispatcher), appeal.case)
    case = loop.dispatch_case(actor(world.dispatcher), case, world.dept)
    case = loop.handle_part(actor(world.handler), case, [jpeg()])
    response = _json(client, "post", f"/api/v1/appeals/{appeal.pk}/follow-up", {"note": "已回信告知"})
    assert response.status_code == 200 and response.json()["needs_follow_up"] is False
    loop.verify_case(actor(world.dispatcher), Case.objects.get(pk=case.pk))
    response = _json(
        client,
        "post",
        f"/api/v1/appeals/{appeal.pk}/rating",
        {"rating": "unsatisfied", "comment": "没扫干净"},
    )
    assert response.json()["review"] == "pending"
    response = _json(client, "post", f"/api/v1/appeals/{appeal.pk}/rating", {"rating": "satisfied"})
    assert response.status_code == 409
    assert response.json() == {"detail": "该诉求已评价，不能重复评价"}
    response = _json(
        client, "post", f"/api/v1/appeals/{appeal.pk}/review", {"reopen": False, "note": "已清理到位"}
    )
    assert response.json()["review"] == "upheld"
    today = timezone.localdate().isoformat()
    stats = client.get("/api/v1/appeals/stats", {"start": today, "end": today, "by": "channel"}).json()
    assert (
        stats["total"]["received"] == 1 and stats["total"]["resolved"] == 0 and stats["total"]["rate"] == 0.0
    )
    assert stats["rows"] == [
        {
            "key": "mail",
            "label": "来信/信箱",
            "received": 1,
            "closed": 1,
            "resolved": 0,
            "satisfied": 0,
            "basic": 0,
            "unsatisfied": 1,
            "unrated": 0,
            "reopened": 0,
            "rate": 0.0,
        }
    ]
    empty = client.get("/api/v1/appeals/stats", {"start": "2020-01-01", "end": "2020-01-02"}).json()
    assert empty["total"]["rate"] is None


def test_the_api_refuses_what_the_role_may_not_do(client, world):
    appeal = _appeal(world)
    client.force_login(world.hq)
    response = _json(client, "post", "/api/v1/appeals/", {"description": "x", "phone": PHONE, "address": "y"})
    assert response.status_code == 403
    response = _json(client, "post", f"/api/v1/appeals/{appeal.pk}/follow-up", {"note": "x"})
    assert response.status_code == 403
    client.force_login(world.dispatcher)
    response = _json(client, "post", "/api/v1/appeals/", {"description": "x", "phone": "123", "address": "y"})
    assert response.status_code == 400
    assert "phone" in response.json()["detail"]
    response = client.get("/api/v1/appeals/stats", {"start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400
