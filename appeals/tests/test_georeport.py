"""The GeoReport v2 wire format: XML and JSON bodies, errors and w3 date-times."""

import datetime as dt
import json
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from appeals.georeport import Open311Error, parse_w3, render, render_error, to_xml, w3


def test_xml_lists_become_item_elements_and_none_an_empty_element():
    body = to_xml(
        "service_definition",
        {
            "service_code": "SJ0102",
            "attributes": [
                {
                    "variable": True,
                    "code": "A",
                    "datatype_description": None,
                    "values": [{"key": "1", "name": "是"}],
                }
            ],
        },
    )
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<service_definition>')
    root = ET.fromstring(body)
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("variable") == "true"
    assert attribute.find("datatype_description").text is None
    assert attribute.findtext("values/value/name") == "是"


def test_json_and_xml_responses_carry_utf8_content_types():
    data = [{"service_code": "SJ0102", "service_name": "暴露垃圾"}]
    as_json = render(data, "json", "services")
    assert as_json["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(as_json.content) == data
    as_xml = render(data, "xml", "services")
    assert as_xml["Content-Type"] == "text/xml; charset=utf-8"
    assert ET.fromstring(as_xml.content).findtext("service/service_name") == "暴露垃圾"


def test_errors_are_a_list_of_code_and_description():
    error = Open311Error(403, "api_key 无效")
    response = render_error(error, "json")
    assert response.status_code == 403
    assert json.loads(response.content) == [{"code": 403, "description": "api_key 无效"}]
    root = ET.fromstring(render_error(error, "xml").content)
    assert root.tag == "errors"
    assert [(e.findtext("code"), e.findtext("description")) for e in root] == [("403", "api_key 无效")]


def test_w3_datetimes_carry_the_district_offset():
    moment = dt.datetime(2026, 11, 23, 1, 30, tzinfo=dt.UTC)
    assert w3(moment) == "2026-11-23T09:30:00+08:00"
    assert w3(None) is None


def test_parse_w3_accepts_offsets_z_and_plain_dates():
    assert parse_w3("2026-11-23T01:30:00Z", "start_date") == dt.datetime(2026, 11, 23, 1, 30, tzinfo=dt.UTC)
    assert parse_w3("2026-11-23T09:30:00+08:00", "start_date") == dt.datetime(
        2026, 11, 23, 1, 30, tzinfo=dt.UTC
    )
    day = parse_w3("2026-11-23", "end_date")
    assert timezone.localtime(day).isoformat() == "2026-11-23T00:00:00+08:00"


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-23T09:30:00", "20261123"])
def test_parse_w3_refuses_bad_dates_with_a_400(value):
    with pytest.raises(Open311Error) as info:
        parse_w3(value, "start_date")
    assert info.value.status == 400
    assert "start_date" in info.value.descriptions[0]


def test_xml_drops_characters_xml_cannot_carry_and_escapes_markup():
    body = to_xml("service_requests", [{"description": "井盖<丢失>&\x07破损\n第二行"}])
    assert ET.fromstring(body).findtext("request/description") == "井盖<丢失>&破损\n第二行"
