"""Text input of appeals and Open311 (issue 13, item 2): control characters and over-long values
are refused before the database, in each interface's own error form, and nothing is stored."""

import json

import pytest

from appeals.models import Appeal
from cases.models import Case

from .test_open311 import _valid

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "overrides, description",
    [
        ({"description": "垃圾\x00满地"}, "请求参数含有不允许的控制字符"),
        ({"address_string": "文化路\x00"}, "请求参数含有不允许的控制字符"),
        ({"address_string": "路" * 201}, "地址不能超过 200 字"),
        ({"first_name": "三" * 60}, "姓名不能超过 50 字"),
    ],
)
def test_open311_refuses_bad_text_in_its_error_list(client, world, overrides, description):
    response = client.post("/open311/v2/requests.json", _valid(world, **overrides))
    assert response.status_code == 400, response.content
    assert json.loads(response.content) == [{"code": 400, "description": description}]
    assert not Appeal.objects.exists() and not Case.objects.exists()


def test_open311_refuses_a_nul_byte_in_a_query_in_xml_too(client, world):
    response = client.get("/open311/v2/requests.xml", {"jurisdiction_id": "bazhou.gov.cn", "status": "\x00"})
    assert response.status_code == 400
    assert b"<errors><error><code>400</code>" in response.content


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("description", "来信\x00反映", "问题描述含有不允许的控制字符"),
        ("address", "一社区\x00", "地址含有不允许的控制字符"),
        ("address", "路" * 201, "地址不能超过 200 字"),
        ("description", "描" * 4001, "问题描述不能超过 4000 字"),
    ],
)
def test_clerk_entry_through_the_api_refuses_bad_text(client, world, field, value, message):
    client.force_login(world.dispatcher)
    payload = {
        "channel": "mail",
        "category_id": world.garbage.pk,
        "description": "来信反映垃圾",
        "phone": "13812345678",
        "address": "一社区",
    }
    payload[field] = value
    response = client.post("/api/v1/appeals/", json.dumps(payload), content_type="application/json")
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert not Appeal.objects.exists() and not Case.objects.exists()
