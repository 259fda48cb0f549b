"""Open311 GeoReport v2: every endpoint in JSON and XML, every documented error, field by field."""

import datetime as dt
import json
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from appeals.models import Appeal, ServiceAttribute
from appeals.services import revoke_open311_key, submit_appeal
from cases import services as loop
from cases.models import Case, Category
from org.audit import Actor

from .conftest import IN_DISTRICT, actor, jpeg

FORMATS = ["json", "xml"]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def parse(response, fmt, item=None):
    """The body as Python: JSON as is; XML as a list of {tag: text} (or one dict) for comparison."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)
    if item is None:
        return root
    return [{child.tag: child.text for child in element} for element in root.findall(item)]


def errors(response, fmt):
    if fmt == "json":
        return json.loads(response.content)
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    return [
        {"code": int(e.findtext("code")), "description": e.findtext("description")}
        for e in root.findall("error")
    ]


def _post(client, fmt, **data):
    return client.post(f"/open311/v2/requests.{fmt}", data)


def _valid(world, **overrides):
    data = {
        "api_key": world.key,
        "service_code": "SJ0102",
        "lat": IN_DISTRICT[0],
        "long": IN_DISTRICT[1],
        "description": "路口垃圾满地",
        "first_name": "三",
        "last_name": "张",
        "phone": "13812345678",
        "email": "zhang@example.com",
        "media_url": "https://img.example.com/1.jpg",
    }
    data.update(overrides)
    return data


# --- discovery and services --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_points_to_the_v2_endpoint(client, world, fmt):
    response = client.get(f"/open311/discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        endpoint = parse(response, fmt)["endpoints"][0]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2/"
        assert endpoint["formats"] == ["text/xml", "application/json"]
    else:
        root = parse(response, fmt)
        assert root.tag == "discovery"
        assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2/"
        assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
            "text/xml",
            "application/json",
        ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list_the_active_categories_without_unsure(client, world, fmt):
    ServiceAttribute.objects.create(category=world.garbage, code="amount", description="大约多少", order=1)
    Category.objects.filter(kind="event", code="0103").update(active=False)
    response = client.get(f"/open311/v2/services.{fmt}", {"jurisdiction_id": "bazhou.gov.cn"})
    assert response.status_code == 200
    listed = parse(response, fmt, "service")
    by_code = {s["service_code"]: s for s in listed}
    garbage = by_code["SJ0102"]
    expected = {
        "service_code": "SJ0102",
        "service_name": "暴露垃圾",
        "description": "事件 · 市容环境 · 暴露垃圾",
        "metadata": True if fmt == "json" else "true",
        "type": "realtime",
        "keywords": "市容环境, 事件",
        "group": "市容环境",
    }
    assert garbage == expected
    assert by_code["BJ0101"]["metadata"] in (False, "false")
    assert "SJ0103" not in by_code and "SJ9900" not in by_code
    assert len(listed) == Category.objects.filter(active=True).exclude(code="9900").count()


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_lists_the_attributes(client, world, fmt):
    ServiceAttribute.objects.create(
        category=world.garbage,
        code="kind",
        description="垃圾类型",
        datatype="singlevaluelist",
        required=True,
        order=1,
        values=[{"key": "1", "name": "生活垃圾"}, {"key": "2", "name": "建筑垃圾"}],
    )
    ServiceAttribute.objects.create(
        category=world.garbage,
        code="note",
        description="补充说明",
        datatype="text",
        order=2,
        datatype_description="可不填",
    )
    response = client.get(f"/open311/v2/services/SJ0102.{fmt}")
    assert response.status_code == 200
    first = {
        "variable": True,
        "code": "kind",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "垃圾类型",
        "values": [{"key": "1", "name": "生活垃圾"}, {"key": "2", "name": "建筑垃圾"}],
    }
    second = {
        "variable": True,
        "code": "note",
        "datatype": "text",
        "required": False,
        "datatype_description": "可不填",
        "order": 2,
        "description": "补充说明",
    }
    if fmt == "json":
        assert parse(response, fmt) == {"service_code": "SJ0102", "attributes": [first, second]}
    else:
        root = parse(response, fmt)
        assert root.tag == "service_definition" and root.findtext("service_code") == "SJ0102"
        attributes = root.findall("attributes/attribute")
        assert [a.findtext("code") for a in attributes] == ["kind", "note"]
        assert attributes[0].findtext("variable") == "true" and attributes[0].findtext("required") == "true"
        assert attributes[0].find("datatype_description").text is None
        assert [(v.findtext("key"), v.findtext("name")) for v in attributes[0].findall("values/value")] == [
            ("1", "生活垃圾"),
            ("2", "建筑垃圾"),
        ]
        assert attributes[1].find("values") is None and attributes[1].findtext("order") == "2"


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_and_jurisdiction_are_404(client, world, fmt):
    response = client.get(f"/open311/v2/services/SJ7777.{fmt}")
    assert response.status_code == 404
    assert errors(response, fmt) == [
        {"code": 404, "description": "service_code 不存在：SJ7777（service_code not found）"}
    ]
    response = client.get(f"/open311/v2/services.{fmt}", {"jurisdiction_id": "elsewhere.gov"})
    assert response.status_code == 404
    assert errors(response, fmt) == [
        {"code": 404, "description": "jurisdiction_id 不存在：elsewhere.gov（jurisdiction_id not found）"}
    ]


# --- POST requests -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_an_appeal_in_the_case_loop(client, world, fmt):
    response = _post(client, fmt, **_valid(world))
    assert response.status_code == 200
    appeal = Appeal.objects.get()
    created = parse(response, fmt, "request")
    assert len(created) == 1
    body = created[0]
    assert body["service_request_id"] == appeal.case.number
    assert "token" not in body
    assert (
        appeal.code in body["service_notice"] and "http://testserver/appeal/track/" in body["service_notice"]
    )
    assert body["account_id"] is None
    assert (appeal.channel, appeal.client, appeal.phone, appeal.name) == (
        "open311",
        world.client,
        "13812345678",
        "张三",
    )
    assert appeal.media_url == "https://img.example.com/1.jpg"
    case = appeal.case
    assert (case.status, case.source, case.category, case.reporter) == (
        "reported",
        "open311",
        world.garbage,
        None,
    )
    assert str(case.lat) == IN_DISTRICT[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_with_an_address_only_and_jurisdiction(client, world, fmt):
    data = _valid(
        world, lat="", long="", address_string="一社区南门", jurisdiction_id="bazhou.gov.cn", phone=""
    )
    response = _post(client, fmt, **data)
    assert response.status_code == 200
    appeal = Appeal.objects.get()
    assert appeal.location_approximate and appeal.phone == ""
    assert appeal.case.address == "一社区南门"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("change", "status", "description"),
    [
        ({"api_key": ""}, 403, "缺少 api_key（api_key is missing）"),
        ({"api_key": "wrong"}, 403, "api_key 无效或已吊销（invalid api_key）"),
        ({"service_code": ""}, 400, "缺少 service_code（service_code is missing）"),
        ({"service_code": "SJ7777"}, 404, "service_code 不存在：SJ7777（service_code not found）"),
        (
            {"lat": "", "long": ""},
            400,
            "缺少位置：请提供 lat 和 long，或 address_string（a location is required: lat & long or address_string）",
        ),
        ({"long": ""}, 400, "lat 和 long 必须同时提供（lat and long must both be sent）"),
        (
            {"lat": "north"},
            400,
            "lat/long 不是有效的 WGS-84 坐标（lat/long is not a valid WGS-84 coordinate）",
        ),
        (
            {"lat": "", "long": "", "address_id": "545483"},
            400,
            "本辖区不提供 address_id 地址库，请提供 lat/long 或 address_string（address_id is not supported）",
        ),
        ({"lat": "39.9", "long": "116.4"}, 400, "位置不在本区范围内"),
        ({"media_url": "ftp://x/y.jpg"}, 400, "media_url 不是有效的 http(s) 地址"),
        ({"phone": "12345"}, 400, "请填写正确的手机号或带区号的固定电话"),
        ({"description": "长" * 4001}, 400, "问题描述不能超过 4000 字"),
        (
            {"jurisdiction_id": "elsewhere.gov"},
            404,
            "jurisdiction_id 不存在：elsewhere.gov（jurisdiction_id not found）",
        ),
    ],
)
def test_post_errors(client, world, fmt, change, status, description):
    response = _post(client, fmt, **_valid(world, **change))
    assert response.status_code == status
    assert errors(response, fmt) == [{"code": status, "description": description}]
    assert Appeal.objects.count() == 0 and Case.objects.count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_revoked_key_is_refused(client, world, fmt):
    revoke_open311_key(Actor.system(), world.client)
    response = _post(client, fmt, **_valid(world))
    assert response.status_code == 403
    assert errors(response, fmt)[0]["code"] == 403


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_checks_attributes_against_the_definition(client, world, fmt):
    ServiceAttribute.objects.create(
        category=world.garbage,
        code="kind",
        description="垃圾类型",
        datatype="singlevaluelist",
        required=True,
        order=1,
        values=[{"key": "1", "name": "生活垃圾"}],
    )
    ServiceAttribute.objects.create(
        category=world.garbage,
        code="tags",
        description="标签",
        datatype="multivaluelist",
        order=2,
        values=[{"key": "a", "name": "甲"}, {"key": "b", "name": "乙"}],
    )
    ServiceAttribute.objects.create(
        category=world.garbage, code="count", description="堆数", datatype="number", order=3
    )
    response = _post(
        client, fmt, **_valid(world, **{"attribute[tags][]": ["a", "z"], "attribute[count]": "many"})
    )
    assert response.status_code == 400
    assert errors(response, fmt) == [
        {"code": 400, "description": "缺少必填属性 attribute[kind]：垃圾类型"},
        {"code": 400, "description": "属性 attribute[tags] 的取值无效：z"},
        {"code": 400, "description": "属性 attribute[count] 应为数字"},
    ]
    data = _valid(world, **{"attribute[kind]": "1", "attribute[tags][]": ["a", "b"], "attribute[count]": "3"})
    assert _post(client, fmt, **data).status_code == 200
    assert Appeal.objects.get().attributes == {"kind": "1", "tags": ["a", "b"], "count": "3"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_put_is_not_allowed(client, world, fmt):
    response = client.put(f"/open311/v2/requests.{fmt}")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert errors(response, fmt)[0]["code"] == 405


# --- GET requests ------------------------------------------------------------------------------


def _appeal(world, description="垃圾", category=None, **kwargs) -> Appeal:
    return submit_appeal(
        Actor(user=None, via="public"),
        channel=Appeal.Channel.WEB,
        category=category or world.garbage,
        description=description,
        phone="13812345678",
        name="王五",
        lat=IN_DISTRICT[0],
        lng=IN_DISTRICT[1],
        address="一社区南门",
        **kwargs,
    )


def _closed(world, appeal: Appeal) -> Case:
    case = loop.accept_case(actor(world.dispatcher), appeal.case)
    case = loop.dispatch_case(actor(world.dispatcher), case, world.dept)
    case = loop.handle_part(actor(world.handler), case, [jpeg("after.jpg")])
    return loop.verify_case(actor(world.dispatcher), case)


def _w3(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_field_by_field_while_open_and_when_closed(client, world, fmt):
    appeal = _appeal(world, photos_uploaded=[jpeg("before.jpg")])
    response = client.get(f"/open311/v2/requests/{appeal.case.number}.{fmt}")
    assert response.status_code == 200
    (body,) = parse(response, fmt, "request")
    assert list(body) == REQUEST_FIELDS
    case = Case.objects.get(pk=appeal.case_id)
    before = case.photos.get()
    text = (lambda v: v) if fmt == "json" else (lambda v: None if v is None else str(v))
    assert body == {
        "service_request_id": case.number,
        "status": "open",
        "status_notes": "已收到，等待受理",
        "service_name": "暴露垃圾",
        "service_code": "SJ0102",
        "description": "垃圾",
        "agency_responsible": None,
        "service_notice": "暴露垃圾：1 个工作日内处置",
        "requested_datetime": _w3(appeal.received_at),
        "updated_datetime": _w3(case.updated_at),
        "expected_datetime": _w3(loop.handle_deadline(case, case.reported_at).at),
        "address": "一社区南门",
        "address_id": None,
        "zipcode": None,
        "lat": text(31.845),
        "long": text(106.73),
        "media_url": f"http://testserver{before.image.url}",
    }
    assert "王五" not in response.content.decode() and "13812345678" not in response.content.decode()

    case = _closed(world, appeal)
    (body,) = parse(client.get(f"/open311/v2/requests/{case.number}.{fmt}"), fmt, "request")
    after = case.photos.get(kind="after")
    assert body["status"] == "closed"
    assert body["status_notes"] == "已办结"
    assert body["agency_responsible"] == "区城管局"
    assert body["updated_datetime"] == _w3(case.closed_at)
    assert body["expected_datetime"] == _w3(case.handle_deadline)
    assert body["media_url"] == f"http://testserver{after.image.url}"
    assert "private" not in body["media_url"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_request_is_404(client, world, fmt):
    response = client.get(f"/open311/v2/requests/2026-999999.{fmt}")
    assert response.status_code == 404
    assert errors(response, fmt) == [
        {"code": 404, "description": "service_request_id 不存在：2026-999999（service request not found）"}
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_refused_and_merged_requests_are_closed_with_the_stage_in_notes(client, world, fmt):
    refused = _appeal(world, "不是城管问题")
    loop.reject_case(actor(world.dispatcher), refused.case, "属于物业管理范围")
    kept = _appeal(world, "第一次反映")
    loop.accept_case(actor(world.dispatcher), kept.case)
    duplicate = _appeal(world, "重复反映")
    loop.merge_case(actor(world.dispatcher), duplicate.case, kept.case)
    kept_case = Case.objects.get(pk=kept.case_id)
    kept_expected = _w3(loop.handle_deadline(kept_case, kept_case.dispatch_deadline).at)
    ids = f"{refused.case.number},{duplicate.case.number}"
    bodies = parse(client.get(f"/open311/v2/requests.{fmt}", {"service_request_id": ids}), fmt, "request")
    notes = {
        b["service_request_id"]: (b["status"], b["status_notes"], b["expected_datetime"]) for b in bodies
    }
    assert notes == {
        refused.case.number: ("closed", "未予受理：属于物业管理范围", None),
        duplicate.case.number: (
            "closed",
            f"已与同一问题的其他反映合并办理：并入案件 {kept.case.number}，当前已受理，正在安排责任单位",
            kept_expected,
        ),
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_filter_by_id_code_status_and_dates(client, world, fmt):
    road = Category.objects.get(kind="event", code="0303")
    old = _appeal(world, "旧的")
    Appeal.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(days=100))
    a = _appeal(world, "垃圾一")
    b = _appeal(world, "道路破损", category=road)
    c = _appeal(world, "垃圾二")
    _closed(world, c)

    def ids(**params):
        response = client.get(f"/open311/v2/requests.{fmt}", params)
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in parse(response, fmt, "request")]

    # The default window is the most recent 90 days, newest first.
    assert ids() == [c.case.number, b.case.number, a.case.number]
    assert ids(service_code="SJ0303") == [b.case.number]
    assert ids(service_code="SJ0303,SJ0102") == [c.case.number, b.case.number, a.case.number]
    assert ids(status="closed") == [c.case.number]
    assert ids(status="open") == [b.case.number, a.case.number]
    assert ids(status="open,closed") == [c.case.number, b.case.number, a.case.number]
    # service_request_id overrides every other argument (the old one is outside the window).
    assert ids(service_request_id=f"{old.case.number},{a.case.number}", status="closed") == [
        a.case.number,
        old.case.number,
    ]
    start = _w3(timezone.now() - dt.timedelta(days=120))
    end = _w3(timezone.now() - dt.timedelta(days=60))
    assert ids(start_date=start, end_date=end) == [old.case.number]
    assert ids(start_date=start) == [old.case.number]
    assert ids(end_date=end) == [old.case.number]
    yesterday = (timezone.now() - dt.timedelta(days=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_date=yesterday) == [
        c.case.number,
        b.case.number,
        a.case.number,
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("params", "description"),
    [
        (
            {"start_date": "yesterday"},
            "start_date 格式错误：应为 w3 日期时间，例如 2026-01-01T00:00:00+08:00（start_date must be a w3 date-time with a time zone）",
        ),
        (
            {"end_date": "2026-11-01T00:00:00"},
            "end_date 格式错误：应为 w3 日期时间，例如 2026-01-01T00:00:00+08:00（end_date must be a w3 date-time with a time zone）",
        ),
        (
            {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},
            "start_date 晚于 end_date（start_date is after end_date）",
        ),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            "查询时间跨度不能超过 90 天（the range may not span more than 90 days）",
        ),
        ({"status": "pending"}, "status 只能是 open 或 closed：pending（status must be open or closed）"),
        ({"service_code": "SJ7777"}, "service_code 不存在：SJ7777（unknown service_code）"),
    ],
)
def test_request_search_errors(client, world, fmt, params, description):
    response = client.get(f"/open311/v2/requests.{fmt}", params)
    assert response.status_code == 400
    assert errors(response, fmt) == [{"code": 400, "description": description}]


def test_requests_stop_at_1000(client, world, monkeypatch):
    from appeals import open311

    monkeypatch.setattr(open311, "MAX_REQUESTS", 2)
    for i in range(3):
        _appeal(world, f"垃圾{i}")
    assert len(json.loads(client.get("/open311/v2/requests.json").content)) == 2
    assert open311.DEFAULT_DAYS == 90


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_from_the_field_are_not_listed(client, world, fmt):
    from cases.tests.factories import CaseFactory

    internal = CaseFactory()
    assert parse(client.get(f"/open311/v2/requests.{fmt}"), fmt, "request") == []
    assert client.get(f"/open311/v2/requests/{internal.number}.{fmt}").status_code == 404


# --- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_tracking_code_is_a_token(client, world, fmt):
    appeal = _appeal(world)
    response = client.get(f"/open311/v2/tokens/{appeal.code.lower()}.{fmt}")
    assert response.status_code == 200
    assert parse(response, fmt, "request") == [
        {"service_request_id": appeal.case.number, "token": appeal.code}
    ]
    response = client.get(f"/open311/v2/tokens/NOSUCHCODE.{fmt}")
    assert response.status_code == 404
    assert errors(response, fmt) == [
        {"code": 404, "description": "token 不存在：NOSUCHCODE（token not found）"}
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_anything_else_under_open311_is_a_404_error_list(client, world, fmt):
    response = client.get(f"/open311/v2/nothing.{fmt}")
    assert response.status_code == 404
    assert errors(response, fmt) == [
        {"code": 404, "description": "没有这个 Open311 资源（no such resource）"}
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_reopened_request_keeps_answering_under_its_first_number(client, world, fmt):
    from appeals.services import rate_appeal, review_unsatisfied

    appeal = _appeal(world)
    first = _closed(world, appeal)
    rate_appeal(Actor(user=None, via="public"), appeal, "unsatisfied", "没清干净", phone="13812345678")
    appeal = review_unsatisfied(actor(world.dispatcher), appeal, reopen=True, note="重新清理")
    (old,) = parse(client.get(f"/open311/v2/requests/{first.number}.{fmt}"), fmt, "request")
    assert old["service_request_id"] == first.number
    assert old["status"] == "closed"
    assert old["status_notes"] == f"已办结：群众不满意，已重新办理（案件 {appeal.case.number}）"
    (new,) = parse(client.get(f"/open311/v2/requests/{appeal.case.number}.{fmt}"), fmt, "request")
    assert (new["status"], new["status_notes"], new["agency_responsible"]) == (
        "open",
        "已交由责任单位办理",
        "区城管局",
    )
    assert new["requested_datetime"] == old["requested_datetime"]
    both = parse(
        client.get(
            f"/open311/v2/requests.{fmt}", {"service_request_id": f"{first.number},{appeal.case.number}"}
        ),
        fmt,
        "request",
    )
    assert {b["service_request_id"] for b in both} == {first.number, appeal.case.number}


def test_listing_requests_takes_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    """Dispatched requests cost no query each (a request not dispatched yet costs one calendar
    look-up for its estimated expected_datetime)."""
    for i in range(15):
        appeal = _appeal(world, f"垃圾{i}", photos_uploaded=[jpeg()])
        loop.dispatch_case(
            actor(world.dispatcher), loop.accept_case(actor(world.dispatcher), appeal.case), world.dept
        )
    with django_assert_max_num_queries(8):
        response = client.get("/open311/v2/requests.json")
    assert len(json.loads(response.content)) == 15
