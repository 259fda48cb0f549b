"""The GeoReport v2 wire format (Open311): JSON and XML bodies, the error list, w3 date-times.

XML follows the specification's element names; JSON is the same tree by the Spark convention
(a list becomes an array, an empty element ``null``). Every body is UTF-8.
"""

import datetime as dt
import re
from typing import Any
from xml.etree import ElementTree as ET

import orjson
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The w3 note's forms: a date, or a date-time with a time zone (Z or ±hh:mm).
W3_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}(?P<time>T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")
# Years a date may name (as in the case figures): year 1 or 9999 would overflow in time zone arithmetic.
FIRST_YEAR, LAST_YEAR = 2000, 2099
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'

# The element name of one item in each list of the specification.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


class Open311Error(Exception):
    """One or more errors answered as the specification's list of {code, description}.

    404 for what does not exist, 403 for a missing or invalid api_key, 400 for anything else that
    cannot be fulfilled (and 429 when a client is throttled).
    """

    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions = descriptions

    def body(self) -> list[dict[str, Any]]:
        return [{"code": self.status, "description": d} for d in self.descriptions]


# Characters XML 1.0 cannot carry at all (a pasted description may hold them).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, list):
        for item in value:
            _append(element, ITEM_NAMES[name], item)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """``data`` under ``<root>``: a list becomes one item element per entry, a dict child elements."""
    element = ET.Element(root)
    if isinstance(data, list):
        for item in data:
            _append(element, ITEM_NAMES[root], item)
    else:
        for key, child in data.items():
            _append(element, key, child)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode").encode()


def render(data: Any, fmt: str, root: str, status: int = 200) -> HttpResponse:
    # JSON serialised once, straight to UTF-8 bytes (orjson; non-ASCII text stays as it is).
    body = to_xml(root, data) if fmt == "xml" else orjson.dumps(data, default=str)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def render_error(error: Open311Error, fmt: str) -> HttpResponse:
    return render(error.body(), fmt if fmt in FORMATS else "xml", "errors", status=error.status)


def w3(moment: dt.datetime | None) -> str | None:
    """A w3 date-time with its offset, in the district's time zone (2026-11-23T09:30:00+08:00)."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def parse_w3(value: str, field: str) -> dt.datetime:
    """A w3 date-time (with Z or an offset) or a plain date (midnight in the district's time zone)."""
    text = value.strip()
    match = W3_PATTERN.match(text)
    if match is not None and not FIRST_YEAR <= int(text[:4]) <= LAST_YEAR:
        raise Open311Error(
            400, f"{field} 超出范围：年份须在 {FIRST_YEAR} 到 {LAST_YEAR} 之间（{field} is out of range）"
        )
    try:
        if match is None:
            raise ValueError(text)
        if match.group("time") is None:
            day = parse_date(text)
            assert day is not None
            return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        moment = parse_datetime(text)
        assert moment is not None
        return moment
    except ValueError:
        raise Open311Error(
            400,
            f"{field} 格式错误：应为 w3 日期时间，例如 2026-01-01T00:00:00+08:00"
            f"（{field} must be a w3 date-time with a time zone）",
        ) from None
