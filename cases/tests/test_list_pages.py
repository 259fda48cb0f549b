"""The case list's keyset pages, its unit menu and count, and the map endpoint's points and clusters."""

import base64
import datetime as dt
import math
import re
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import keyset
from cases.clusters import MAP_LIMIT, cell_size
from cases.models import Case
from cases.tests.factories import CaseFactory, CasePartFactory

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")
MAP = "/api/v1/cases/map"
DISTRICT_BBOX = "106.70,31.80,106.80,31.90"


def _rows(response) -> list[int]:
    return [c.pk for c in response.context["page"]]


def _walk(client, first_query: dict, key: str) -> tuple[list[list[int]], list[dict]]:
    """Follow the ``key`` ("next_query" or "previous_query") links from a first request."""
    pages, contexts = [], []
    response = client.get(LIST, first_query)
    while True:
        assert response.status_code == 200
        pages.append(_rows(response))
        contexts.append(response.context)
        link = response.context[key]
        if link is None:
            return pages, contexts
        response = client.get(LIST + "?" + link)


@pytest.fixture
def ties(world):
    """47 closed cases of dept reported in threes at the same moment (ties cross the page ends), 10 open ones of
    dept between them, and 5 closed ones of dept2: equal timestamps inside and across pages."""
    base = timezone.now() - dt.timedelta(days=3)
    closed = []
    for i in range(47):
        moment = base - dt.timedelta(minutes=i // 3)
        closed.append(CaseFactory(status=Case.Status.CLOSED, lead_unit=world.dept, reported_at=moment))
        if i % 5 == 0:
            CaseFactory(status=Case.Status.HANDLING, lead_unit=world.dept, reported_at=moment)
    for i in range(5):
        CaseFactory(
            status=Case.Status.CLOSED, lead_unit=world.dept2, reported_at=base - dt.timedelta(minutes=i)
        )
    expected = sorted(closed, key=lambda c: (c.reported_at, c.pk), reverse=True)
    return [c.pk for c in expected]


def test_keyset_pages_walk_the_filtered_cases_once_in_order_both_ways(client, world, ties):
    client.force_login(world.dispatcher)
    query = {"status": "closed", "unit": world.dept.pk, "per_page": 20}
    pages, contexts = _walk(client, query, "next_query")
    assert [len(p) for p in pages] == [20, 20, 7]
    assert [pk for page in pages for pk in page] == ties  # in order, no duplicates, nothing missed
    for ctx in contexts[1:]:  # the filters ride along with the cursor
        carried = parse_qs(ctx["next_query"] or ctx["previous_query"])
        assert carried["status"] == ["closed"] and carried["unit"] == [str(world.dept.pk)]
        assert carried["per_page"] == ["20"]
    assert contexts[0]["previous_query"] is None and contexts[-1]["next_query"] is None
    # Back from the last page to the first, the same pages in reverse.
    last = LIST + "?" + contexts[-2]["next_query"]
    back, response = [], client.get(last)
    while True:
        back.append(_rows(response))
        if response.context["previous_query"] is None:
            break
        response = client.get(LIST + "?" + response.context["previous_query"])
    assert back == pages[::-1]


def test_every_page_size_walks_the_same_cases(client, world, ties):
    client.force_login(world.dispatcher)
    for size in (20, 50):
        pages, _ = _walk(client, {"status": "closed", "unit": world.dept.pk, "per_page": size}, "next_query")
        assert [pk for page in pages for pk in page] == ties


def test_a_cursor_seeks_past_equal_report_times(world):
    moment = timezone.now()
    same = [CaseFactory(reported_at=moment) for _ in range(5)]
    ordered = sorted((c.pk for c in same), reverse=True)
    page = keyset.paginate(
        Case.objects.all(), keyset.encode(keyset.NEXT, Case.objects.get(pk=ordered[1])), 20
    )
    assert [c.pk for c in page] == ordered[2:]
    page = keyset.paginate(
        Case.objects.all(), keyset.encode(keyset.PREVIOUS, Case.objects.get(pk=ordered[3])), 20
    )
    assert [c.pk for c in page] == ordered[:3]


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense!",
        base64.urlsafe_b64encode(b"x.1.2").decode(),
        base64.urlsafe_b64encode(b"n.abc.1").decode(),
        base64.urlsafe_b64encode(b"n.1").decode(),
        base64.urlsafe_b64encode(b"n.99999999999999999999999.1").decode(),
    ],
)
def test_a_bad_cursor_is_a_400_with_a_form_error(client, world, ties, cursor):
    client.force_login(world.dispatcher)
    response = client.get(LIST, {"status": "closed", "cursor": cursor})
    assert response.status_code == 400
    assert keyset.BAD_CURSOR in response.content.decode()
    assert _rows(response) == []


def test_the_count_is_shown_and_the_export_keeps_the_filters_without_the_cursor(client, world, ties):
    client.force_login(world.dispatcher)
    response = client.get(LIST, {"status": "closed", "unit": world.dept.pk, "per_page": 20})
    assert response.context["page"].count == 47 and "共 47 件" in response.content.decode()
    following = client.get(LIST + "?" + response.context["next_query"])
    body = following.content.decode()
    export = re.search(r'href="(/cases/export\.xlsx\?[^"]*)"', body).group(1).replace("&amp;", "&")
    assert "cursor" not in export
    carried = parse_qs(export.split("?", 1)[1])
    assert carried["status"] == ["closed"] and carried["unit"] == [str(world.dept.pk)]


def test_the_count_stops_at_1000(client, world, many):
    client.force_login(world.dispatcher)
    response = client.get(LIST)
    assert response.context["page"].count == 1001 and "共 1,000+ 件" in response.content.decode()
    assert "共 337 件" in client.get(LIST, {"status": "closed"}).content.decode()


def test_the_unit_menu_holds_only_the_chosen_unit(client, world):
    client.force_login(world.dispatcher)
    menu = re.search(r'<select name="unit".*?</select>', client.get(LIST).content.decode(), re.S).group(0)
    assert menu.count("<option") == 1 and 'data-unit-search="/api/v1/org/units"' in menu
    body = client.get(LIST, {"unit": world.dept2.pk}).content.decode()
    menu = re.search(r'<select name="unit".*?</select>', body, re.S).group(0)
    assert menu.count("<option") == 2 and f'value="{world.dept2.pk}" selected' in menu


def test_a_unit_sees_only_its_cases_on_the_page_and_the_map(client, world, ties):
    joint = CaseFactory(
        status=Case.Status.HANDLING, lead_unit=world.dept, lat=Decimal("31.85"), lng=Decimal("106.75")
    )
    CasePartFactory(case=joint, unit=world.dept2, is_lead=False)
    own = set(Case.objects.filter(lead_unit=world.dept2).values_list("pk", flat=True)) | {joint.pk}
    client.force_login(world.handler2)
    pages, _ = _walk(client, {"per_page": 20}, "next_query")
    assert {pk for page in pages for pk in page} == own
    body = client.get(MAP, {"bbox": DISTRICT_BBOX, "zoom": 13}).json()
    assert body["mode"] == "points" and {p["id"] for p in body["items"]} == own


@pytest.fixture
def many(world):
    """1,010 cases on a 101 x 10 lattice over the district box, every third one closed."""
    now = timezone.now()
    cases = [
        Case(
            number=f"M-{i:05d}",
            category=world.garbage,
            description="堆放垃圾",
            lat=Decimal("31.8050") + Decimal(i % 10) * Decimal("0.0090"),
            lng=Decimal("106.7050") + Decimal(i // 10) * Decimal("0.0009"),
            status=Case.Status.CLOSED if i % 3 == 0 else Case.Status.HANDLING,
            lead_unit=world.dept,
            region=world.c1,
            reported_at=now - dt.timedelta(minutes=i),
        )
        for i in range(1010)
    ]
    return Case.objects.bulk_create(cases)


@pytest.mark.parametrize(
    "bbox,zoom",
    [
        (DISTRICT_BBOX, "13"),
        (DISTRICT_BBOX, "22"),
        ("-180,-90,180,90", "0"),
        ("106.70,31.80,106.75,31.90", "15"),
    ],
)
def test_the_map_returns_at_most_500_clusters_that_add_up_to_the_matching_cases(
    client, world, many, bbox, zoom
):
    client.force_login(world.dispatcher)
    # Clusters count whole cells of the global grid: the view widened to the cells it touches.
    view = tuple(float(v) for v in bbox.split(","))
    cell = cell_size(view, int(zoom))  # type: ignore[arg-type]
    west, south = (Decimal(str(math.floor(v / cell) * cell)) for v in view[:2])
    east, north = (Decimal(str((math.floor(v / cell) + 1) * cell)) for v in view[2:])
    inside = Case.objects.filter(lng__gte=west, lng__lt=east, lat__gte=south, lat__lt=north)
    response = client.get(MAP, {"bbox": bbox, "zoom": zoom})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "clusters" and len(body["items"]) <= MAP_LIMIT
    assert sum(c["count"] for c in body["items"]) == body["total"] == inside.count()
    for cluster in body["items"]:  # each centroid lies within the cells
        assert south <= Decimal(str(cluster["lat"])) <= north and west <= Decimal(str(cluster["lng"])) <= east


def test_the_map_applies_the_list_filters_and_shows_points_when_few(client, world, many):
    client.force_login(world.dispatcher)
    body = client.get(MAP, {"bbox": DISTRICT_BBOX, "zoom": 13, "status": "closed"}).json()
    assert body["total"] == Case.objects.filter(status=Case.Status.CLOSED).count() == 337
    assert body["mode"] == "points" and len(body["items"]) == 337
    point = body["items"][0]
    assert point["url"] == reverse("cases:detail", args=[point["id"]]) and point["label"].startswith("M-")
    # A small view with few cases in it: each case.
    body = client.get(MAP, {"bbox": "106.7045,31.8040,106.7055,31.8060", "zoom": 18}).json()
    assert body["mode"] == "points" and [p["number"] for p in body["items"]] == ["M-00000"]


@pytest.mark.parametrize(
    "params,message",
    [
        ({"zoom": 13}, "bbox"),
        ({"bbox": "1,2,3", "zoom": 13}, "bbox"),
        ({"bbox": "106.8,31.8,106.7,31.9", "zoom": 13}, "bbox"),
        ({"bbox": "a,b,c,d", "zoom": 13}, "bbox"),
        ({"bbox": "106.7,31.8,106.8,95", "zoom": 13}, "bbox"),
        ({"bbox": DISTRICT_BBOX}, "zoom"),
        ({"bbox": DISTRICT_BBOX, "zoom": "x"}, "zoom"),
        ({"bbox": DISTRICT_BBOX, "zoom": 23}, "zoom"),
        ({"bbox": DISTRICT_BBOX, "zoom": 13, "status": "nope"}, "状态"),
    ],
)
def test_a_bad_view_is_a_400_in_chinese(client, world, params, message):
    client.force_login(world.dispatcher)
    response = client.get(MAP, params)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert message in detail and re.search(r"[\u4e00-\u9fff]", detail)


def _count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_map_take_fixed_queries_whatever_the_page_size_or_view(client, world, many):
    client.force_login(world.dispatcher)
    small = _count(client, LIST, {"per_page": 20})
    assert _count(client, LIST, {"per_page": 200}) == small
    cursor = client.get(LIST, {"per_page": 20}).context["next_query"]
    assert _count(client, LIST + "?" + cursor, {}) == small
    # Points and the kept per-cell counts (cases.mapcells): the same whatever the view.
    points = _count(client, MAP, {"bbox": "106.7045,31.8040,106.7055,31.8060", "zoom": 16})
    more_points = _count(client, MAP, {"bbox": DISTRICT_BBOX, "zoom": 13, "status": "closed"})
    kept = _count(client, MAP, {"bbox": DISTRICT_BBOX, "zoom": 13})
    assert points == more_points and kept == _count(client, MAP, {"bbox": DISTRICT_BBOX, "zoom": 14})
    assert kept == points - 1  # the cells' sums instead of the cases' LIMIT 501
    # Counted from the cases (a filter the counts do not keep), then cached.
    cold = _count(client, MAP, {"bbox": DISTRICT_BBOX, "zoom": 13, "category": world.garbage.pk})
    other_cold = _count(client, MAP, {"bbox": DISTRICT_BBOX, "zoom": 14, "category": world.garbage.pk})
    warm = _count(client, MAP, {"bbox": DISTRICT_BBOX, "zoom": 13, "category": world.garbage.pk})
    assert cold == other_cold and warm < cold
