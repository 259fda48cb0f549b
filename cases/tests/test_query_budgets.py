"""Query budgets: every list, detail, export and dashboard request runs a fixed number of queries,
whatever the number of rows it shows. A lookup per row (N+1) makes the "many" count differ from
the "few" count and fails here long before it slows a district with a million cases down."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseEvent, CasePhoto, ExtensionRequest, FigureSnapshot
from cases.tests.factories import CaseFactory, CasePartFactory

pytestmark = pytest.mark.django_db


def queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content[:300]
        # Streamed responses (the XLSX export) run their queries while being read.
        b"".join(response.streaming_content) if response.streaming else response.content
    return len(ctx.captured_queries)


def add_cases(world, count: int, *, events: int = 3) -> list[Case]:
    """``count`` handled cases of one unit this month, each with a lead and a co-unit part, a
    timeline of ``events`` events, two photos and an extension request."""
    now = timezone.now()
    cases = []
    for i in range(count):
        case = CaseFactory(
            status=Case.Status.HANDLED,
            region=world.c1,
            grid=world.grid,
            lead_unit=world.dept,
            reporter=world.collector,
            reported_at=now - dt.timedelta(hours=i + 1),
            accepted_at=now - dt.timedelta(hours=i + 1),
            dispatched_at=now - dt.timedelta(hours=i + 1),
            handled_at=now - dt.timedelta(minutes=i + 1),
            handle_deadline=now + dt.timedelta(days=1),
        )
        lead = CasePartFactory(case=case, unit=world.dept, is_lead=True, status="handled")
        CasePartFactory(case=case, unit=world.dept2, is_lead=False, status="handled")
        ExtensionRequest.objects.create(part=lead, days=1, reason="施工")
        for k in range(events):
            event = CaseEvent.objects.create(
                case=case,
                part=lead,
                action=CaseEvent.Action.HANDLE,
                actor=world.handler,
                actor_unit=world.dept,
            )
            if k < 2:
                CasePhoto.objects.create(
                    case=case,
                    event=event,
                    kind=CasePhoto.Kind.AFTER,
                    original=f"private/cases/{case.pk}-{k}.jpg",
                    image=f"cases/{case.pk}-{k}.jpg",
                    thumbnail=f"cases/{case.pk}-{k}_t.jpg",
                    sha256=f"{case.pk:032d}{k:032d}",
                    size=1000,
                )
        cases.append(case)
    return cases


def month() -> str:
    return f"{timezone.localdate():%Y-%m}"


def list_urls() -> list[str]:
    m = month()
    return [
        "/api/v1/cases/cases",
        "/api/v1/cases/cases?status=handled",
        f"/api/v1/cases/metrics?month={m}",
        f"/api/v1/cases/metrics/handle_rate/cases?month={m}&side=denominator",
        reverse("cases:list") + "?per_page=200",
        reverse("cases:export"),
        reverse("cases:summary") + f"?month={m}",
        reverse("cases:summary") + f"?month={m}&format=xlsx",
        reverse("cases:metrics") + f"?month={m}",
    ]


def test_lists_exports_and_dashboards_take_the_same_queries_for_2_and_25_cases(client, world):
    client.force_login(world.dispatcher)
    add_cases(world, 2)
    few = {url: queries(client, url) for url in list_urls()}
    add_cases(world, 23)
    # Count the computation of the figures and the rendering again, not a read of the stored ones.
    FigureSnapshot.objects.all().delete()
    cache.clear()
    many = {url: queries(client, url) for url in list_urls()}
    assert many == few


def test_case_detail_takes_the_same_queries_for_a_short_and_a_long_timeline(client, world):
    client.force_login(world.dispatcher)
    short, long_ = add_cases(world, 1, events=1)[0], add_cases(world, 1, events=12)[0]

    def both(case):
        return [
            queries(client, f"/api/v1/cases/cases/{case.pk}"),
            queries(client, reverse("cases:detail", args=[case.pk])),
        ]

    assert both(long_) == both(short)
