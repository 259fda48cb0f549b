"""Open311 query values out of range are the specification's error list, never a 500 (issue 13)."""

import json
from xml.etree import ElementTree as ET

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "0001-01-01"},
        {"end_date": "0001-01-01T00:00:00Z"},
        {"start_date": "9999-12-31T23:59:59+08:00"},
        {"start_date": "2026-02-30"},
    ],
)
def test_an_out_of_range_date_is_a_400_error_list(client, world, params):
    response = client.get("/open311/v2/requests.json", {"jurisdiction_id": "bazhou.gov.cn", **params})
    assert response.status_code == 400, response.content
    body = json.loads(response.content)
    assert len(body) == 1 and body[0]["code"] == 400
    assert next(iter(params)) in body[0]["description"]


def test_the_xml_error_list_too(client, world):
    response = client.get(
        "/open311/v2/requests.xml", {"jurisdiction_id": "bazhou.gov.cn", "start_date": "0001-01-01"}
    )
    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and root.findtext("error/code") == "400"
