"""The monthly summary and the metrics page on hand-counted data; every figure opens its cases."""

import datetime as dt
import html
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from cases import metrics, monthly_summary
from cases.models import Case, CaseEvent, FigureSnapshot
from cases.tests.factories import CaseFactory, CasePartFactory, CategoryFactory
from org.models import Role
from org.tests.factories import contract, member

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")


def day(month: int, d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, d, hour, tzinfo=BEIJING)


@pytest.fixture
def march(world):
    """Seven cases around March 2026 (the comments give the figures each one adds to March):

    A garbage c1 dept        accepted 3-3, handled 3-4, closed 3-6     received, handled
    B garbage c1 dept        accepted 3-10, due 3-12, unhandled        received, pending, overdue
    C road    c2 dept2       accepted 3-20, handled 3-24, rework 3-26  received, handled, pending, reworked
    D road    c2 dept2       accepted 2-20, due 3-2, unhandled         pending, overdue
    E garbage c1             reported 3-15, rejected                   —
    F garbage c2 dept+dept2  accepted 3-5, dept handled, dept2 not     received, pending, overdue (dept2)
    G garbage c1 dept        accepted 4-2                              —
    """
    w = world

    def case(name, category, region, accepted, status, **kw):
        reported = (accepted or day(3, 15)) - dt.timedelta(hours=2)
        return CaseFactory(
            number=f"X-{name}",
            category=category,
            region=region,
            reported_at=reported,
            accepted_at=accepted,
            dispatched_at=accepted + dt.timedelta(hours=1) if accepted else None,
            status=status,
            **kw,
        )

    def part(c, unit, deadline, handled=None, lead=True):
        return CasePartFactory(
            case=c,
            unit=unit,
            is_lead=lead,
            dispatched_at=c.dispatched_at,
            deadline=deadline,
            handled_at=handled,
        )

    a = case("A", w.garbage, w.c1, day(3, 3), Case.Status.CLOSED, handled_at=day(3, 4), closed_at=day(3, 6))
    part(a, w.dept, day(3, 5), day(3, 4))
    b = case("B", w.garbage, w.c1, day(3, 10), Case.Status.DISPATCHED)
    part(b, w.dept, day(3, 12))
    c = case("C", w.road, w.c2, day(3, 20), Case.Status.HANDLING, handled_at=day(3, 24), rework_count=1)
    part(c, w.dept2, day(4, 3))
    CaseEvent.objects.create(case=c, action=CaseEvent.Action.REWORK, at=day(3, 26))
    d = case("D", w.road, w.c2, day(2, 20), Case.Status.DISPATCHED)
    part(d, w.dept2, day(3, 2))
    case("E", w.garbage, w.c1, None, Case.Status.REJECTED, ended_at=day(3, 15, 12))
    f = case("F", w.garbage, w.c2, day(3, 5), Case.Status.HANDLING)
    part(f, w.dept, day(3, 9), day(3, 8))
    part(f, w.dept2, day(3, 9), lead=False)
    g = case("G", w.garbage, w.c1, day(4, 2), Case.Status.DISPATCHED)
    part(g, w.dept, day(4, 9))
    return w


def march_summary() -> monthly_summary.Summary:
    start, end = metrics.month(2026, 3)
    return monthly_summary.build(metrics.select(start, end, at=end))


def by_name(rows) -> dict[str, dict[str, int]]:
    return {row.obj.name: row.counts for row in rows}


def test_summary_figures_are_the_hand_counted_ones(march):
    result = march_summary()
    assert result.totals == {"received": 4, "handled": 2, "pending": 4, "overdue": 3, "reworked": 1}
    units = by_name(result.units)
    assert units[march.dept.name] == {"received": 3, "handled": 1, "pending": 2, "overdue": 1, "reworked": 0}
    assert units[march.dept2.name] == {"received": 2, "handled": 1, "pending": 3, "overdue": 2, "reworked": 1}
    cats = by_name(result.categories)
    assert cats[march.garbage.name] == {
        "received": 3,
        "handled": 1,
        "pending": 2,
        "overdue": 2,
        "reworked": 0,
    }
    assert cats[march.road.name] == {"received": 1, "handled": 1, "pending": 2, "overdue": 1, "reworked": 1}
    assert by_name(result.regions) == {march.s1.name: result.totals}
    assert [r.obj for r in result.worst_areas] == [march.c2, march.c1]
    assert by_name(result.worst_areas)[march.c1.name] == {
        "received": 2,
        "handled": 1,
        "pending": 1,
        "overdue": 1,
        "reworked": 0,
    }
    assert [r.obj for r in result.worst_categories] == [march.garbage, march.road]


def test_a_month_without_cases_is_empty(march):
    start, end = metrics.month(2025, 6)
    result = monthly_summary.build(metrics.select(start, end, at=end))
    assert result.totals == dict.fromkeys(monthly_summary.FIGURES, 0)
    assert result.units == result.regions == result.categories == result.worst_areas == []


def _links(body: str, marker: str) -> list[tuple[str, int]]:
    found = re.findall(r'<a class="(?:figure|stat)" href="([^"]+)">(?:<span>[^<]*</span><b>)?(\d+)<', body)
    return [(html.unescape(href), int(n)) for href, n in found if marker in href]


def test_every_summary_figure_opens_the_cases_it_counts(client, march):
    client.force_login(march.dispatcher)
    response = client.get(reverse("cases:summary"), {"month": "2026-03"})
    body = response.content.decode()
    assert "按责任单位" in body and "问题最突出的类别" in body
    links = _links(body, "summary=")
    assert len(links) >= 5 + 5 * (2 + 1 + 2 + 2 + 2)
    for href, shown in links:
        listed = client.get(href).context["page"].count
        assert listed == shown, href
    pending_b = client.get(f"{reverse('cases:list')}?month=2026-03&summary=pending&unit={march.dept.pk}")
    assert {c.number for c in pending_b.context["page"]} == {"X-B", "X-F"}
    assert "2026年03月待办数" in pending_b.content.decode()


def test_summary_xlsx_holds_the_same_figures(client, march):
    client.force_login(march.hq)
    response = client.get(reverse("cases:summary"), {"month": "2026-03", "format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert list(book["合计"].iter_rows(values_only=True))[1][1:] == (4, 2, 4, 3, 1)
    units = {r[0]: r[1:] for r in list(book["按责任单位"].iter_rows(values_only=True))[1:]}
    assert units[march.dept2.name] == (2, 1, 3, 2, 1)
    cats = [r[0] for r in list(book["最差类别"].iter_rows(values_only=True))[1:]]
    assert cats == [
        f"{march.garbage.major_name} / {march.garbage.name}",
        f"{march.road.major_name} / {march.road.name}",
    ]


def test_summary_is_limited_to_the_scope_and_role(client, march):
    client.force_login(march.handler)
    assert client.get(reverse("cases:summary")).status_code == 403
    assert client.get(reverse("cases:metrics")).status_code == 403


def test_metrics_page_shows_no_data_never_zero_percent(client, march):
    client.force_login(march.dispatcher)
    empty = client.get(reverse("cases:metrics"), {"month": "2025-06"}).content.decode()
    assert empty.count("无数据") == 11 + 1  # every metric, and the explanation line
    assert "0.00%" not in empty and "100.00%" not in empty

    body = client.get(reverse("cases:metrics"), {"month": "2026-03"}).content.decode()
    figures = {
        f.key: f for f in client.get(reverse("cases:metrics"), {"month": "2026-03"}).context["figures"]
    }
    assert (figures["close_rate"].numerator, figures["close_rate"].denominator) == (1, 4)
    assert "25.00%" in body
    for href, shown in _links(body, "metric="):
        listed = client.get(href)
        if metrics.METRICS[re.search(r"metric=(\w+)", href).group(1)].cohort == "due":
            # Part metrics count each unit's share of a joint case; the list names the count.
            assert f"按责任单位计 {shown} 件" in listed.content.decode(), href
        else:
            assert listed.context["page"].count == shown, href
    closed = client.get(f"{reverse('cases:list')}?month=2026-03&metric=close_rate&side=numerator")
    assert [c.number for c in closed.context["page"]] == ["X-A"]


def test_metrics_page_filters_by_unit(client, march):
    client.force_login(march.dispatcher)
    response = client.get(reverse("cases:metrics"), {"month": "2026-03", "unit": march.dept2.pk})
    figures = {f.key: f for f in response.context["figures"]}
    # dept2's parts due in March: D (3-2) and F (3-9), neither handled.
    assert (figures["handle_rate"].numerator, figures["handle_rate"].denominator) == (0, 2)
    assert f"unit={march.dept2.pk}" in response.content.decode()


def test_a_leader_sums_up_only_the_areas_they_contract(client, march):
    leader = member(march.hq.memberships.get().unit, Role.LEADER, username="leader")
    contract(leader=leader, region=march.c1)
    client.force_login(leader)
    result = client.get(reverse("cases:summary"), {"month": "2026-03"}).context["result"]
    # c1 holds A (received, handled) and B (received, pending, overdue); E was rejected.
    assert result.totals == {"received": 2, "handled": 1, "pending": 1, "overdue": 1, "reworked": 0}
    assert [r.obj for r in result.worst_areas] == [march.c1]
    # Every figure opens its cases, also for units outside the leader's own menu (dept).
    body = client.get(reverse("cases:summary"), {"month": "2026-03"}).content.decode()
    assert f"unit={march.dept.pk}" in body
    for href, shown in _links(body, "summary="):
        assert client.get(href).context["page"].count == shown, href
    menu = re.search(
        r'<select name="unit".*?</select>', client.get(reverse("cases:list")).content.decode(), re.S
    )
    assert march.dept.name not in menu.group(0)


def test_summary_takes_the_same_queries_however_many_units_and_categories(client, march):
    client.force_login(march.dispatcher)
    url = reverse("cases:summary") + "?month=2026-03"
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for i, unit in enumerate((march.dept3, march.committee, march.committee2)):
        c = CaseFactory(
            category=CategoryFactory(),
            region=march.c2,
            accepted_at=day(3, 4 + i),
            status=Case.Status.ACCEPTED,
        )
        CasePartFactory(case=c, unit=unit, dispatched_at=day(3, 5 + i), deadline=day(3, 9 + i))
    FigureSnapshot.objects.all().delete()  # March is stored once computed: count a computation again
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert response.context["result"].totals["received"] == 7
    assert len(after.captured_queries) == len(before.captured_queries)
