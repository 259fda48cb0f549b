"""Abuse control on the public pages and Open311: the limits hold, with a clear message."""

import json

from appeals.models import Appeal

from .conftest import IN_DISTRICT


def _form(phone="13812345678"):
    return {
        "description": "垃圾",
        "address": "一社区",
        "lat": IN_DISTRICT[0],
        "lng": IN_DISTRICT[1],
        "phone": phone,
    }


def test_submissions_are_limited_per_phone_number(client, world, settings):
    settings.APPEALS_RATE_LIMITS = {"submit": {"ip": "100/h", "phone": "2/h"}}
    for i in range(2):
        assert client.post("/appeal/", _form(), REMOTE_ADDR=f"198.51.100.{i}").status_code == 302
    response = client.post("/appeal/", _form(), REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429
    assert "提交过于频繁：同一手机号每小时最多提交 2 次，请稍后再试。" in response.content.decode()
    assert Appeal.objects.count() == 2
    assert client.post("/appeal/", _form("13900000000"), REMOTE_ADDR="198.51.100.9").status_code == 302


def test_submissions_are_limited_per_address(client, world, settings):
    settings.APPEALS_RATE_LIMITS = {"submit": {"ip": "2/h", "phone": "100/h"}}
    for i in range(2):
        assert client.post("/appeal/", _form(f"1390000000{i}")).status_code == 302
    response = client.post("/appeal/", _form("13900000009"))
    assert response.status_code == 429
    assert "同一网络地址每小时最多提交 2 次" in response.content.decode()
    assert Appeal.objects.count() == 2


def test_tracking_look_ups_are_limited_so_codes_cannot_be_guessed(client, world, settings):
    settings.APPEALS_RATE_LIMITS = {"track": {"ip": "3/h", "phone": "100/h"}}
    client.post("/appeal/", _form())
    code = Appeal.objects.get().code
    client.cookies.clear()
    for guess in ("AAAAAAAAAA", "BBBBBBBBBB", "CCCCCCCCCC"):
        assert client.post("/appeal/track/", {"code": guess, "phone": "13812345678"}).status_code == 200
    response = client.post("/appeal/track/", {"code": code, "phone": "13812345678"})
    assert response.status_code == 429
    assert "查询过于频繁：同一网络地址每小时最多查询 3 次，请稍后再试。" in response.content.decode()
    # Even the right code does not get through while the limit holds.
    assert client.get(f"/appeal/track/{code}/").status_code == 302


def test_tracking_is_limited_per_phone_across_addresses(client, world, settings):
    settings.APPEALS_RATE_LIMITS = {"track": {"ip": "100/h", "phone": "2/h"}}
    for i in range(2):
        client.post(
            "/appeal/track/", {"code": "AAAAAAAAAA", "phone": "13812345678"}, REMOTE_ADDR=f"198.51.100.{i}"
        )
    response = client.post(
        "/appeal/track/", {"code": "AAAAAAAAAA", "phone": "138-1234-5678"}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 429
    assert "同一手机号每小时最多查询 2 次" in response.content.decode()


def test_open311_submissions_are_limited_per_client_key_and_phone(client, world, settings):
    from appeals.services import issue_open311_key
    from org.audit import Actor

    settings.APPEALS_RATE_LIMITS = {"submit": {"ip": "1/h"}, "open311": {"client": "2/h", "phone": "1/h"}}
    data = {"api_key": world.key, "service_code": "SJ0102", "lat": IN_DISTRICT[0], "long": IN_DISTRICT[1]}
    # One server submits for many people: the per-IP limit of the web form does not apply.
    assert client.post("/open311/v2/requests.json", {**data, "phone": "13800000001"}).status_code == 200
    response = client.post("/open311/v2/requests.json", {**data, "phone": "13800000001"})
    assert response.status_code == 429
    assert json.loads(response.content) == [
        {"code": 429, "description": "提交过于频繁：同一手机号每小时最多提交 1 次，请稍后再试。"}
    ]
    assert client.post("/open311/v2/requests.json", data).status_code == 200
    response = client.post("/open311/v2/requests.xml", data)
    assert response.status_code == 429
    assert "同一客户端每小时最多提交 2 次" in response.content.decode()
    _other, key = issue_open311_key(Actor.system(), "另一个客户端")
    assert client.post("/open311/v2/requests.json", {**data, "api_key": key}).status_code == 200
    assert Appeal.objects.count() == 3


def test_open311_token_look_ups_are_limited(client, world, settings):
    settings.APPEALS_RATE_LIMITS = {"track": {"ip": "1/h"}}
    assert client.get("/open311/v2/tokens/AAAAAAAAAA.json").status_code == 404
    assert client.get("/open311/v2/tokens/AAAAAAAAAA.xml").status_code == 429
