"""Each rule of the case loop lives in its service and refuses the same way through every adapter:
once at the service layer, then once through the page and once through the API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from cases import services
from cases.models import Case
from cases.tests.conftest import actor, jpeg
from cases.tests.factories import CaseFactory
from org.models import Unit

pytestmark = pytest.mark.django_db

API = "/api/v1/cases"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def accepted(w) -> Case:
    case = services.report_case(
        actor(w.collector),
        category=w.road,
        description="井盖缺失",
        lat=w.in_grid[0],
        lng=w.in_grid[1],
        photos_uploaded=[jpeg()],
    )
    return services.accept_case(actor(w.dispatcher), case)


# --- dispatch never goes to the campaign office itself ------------------------------------------


def test_service_refuses_to_dispatch_to_hq(world):
    case = accepted(world)
    hq_unit = Unit.objects.get(kind=Unit.Kind.HQ)
    with pytest.raises(ValidationError, match="创文办"):
        services.dispatch_case(actor(world.dispatcher), case, hq_unit)
    with pytest.raises(ValidationError, match="创文办"):
        services.dispatch_case(actor(world.dispatcher), case, world.dept, [hq_unit])
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED and not case.parts.exists()


def test_api_and_page_refuse_dispatch_to_hq_alike(world):
    case = accepted(world)
    hq_unit = Unit.objects.get(kind=Unit.Kind.HQ)
    r = client_for(world.dispatcher).post(
        f"{API}/cases/{case.pk}/dispatch", {"lead_unit_id": hq_unit.pk}, content_type="application/json"
    )
    assert r.status_code == 400 and "创文办" in r.json()["detail"]
    r = client_for(world.dispatcher).post(
        f"/cases/{case.pk}/dispatch/", {"lead_unit": hq_unit.pk}, follow=True
    )
    assert r.status_code == 200
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED and not case.parts.exists()


# --- who may read the figures -------------------------------------------------------------------


def test_service_gates_the_figures_by_role(world):
    services.check_view_figures(world.hq)
    services.check_view_figures(world.dispatcher)
    with pytest.raises(PermissionDenied):
        services.check_view_figures(world.handler)
    with pytest.raises(PermissionDenied):
        services.check_view_figures(world.collector)


@pytest.mark.parametrize("path", ["/cases/metrics/", "/cases/summary/"])
def test_pages_refuse_the_figures_to_a_handler(world, path):
    assert client_for(world.handler).get(path).status_code == 403
    assert client_for(world.hq).get(path).status_code == 200


def test_api_refuses_the_figures_to_a_handler_as_the_page_does(world):
    assert client_for(world.handler).get(f"{API}/metrics").status_code == 403
    assert client_for(world.handler).get(f"{API}/metrics/close_rate/cases").status_code == 403
    assert client_for(world.hq).get(f"{API}/metrics").status_code == 200


# --- merging into a case the person may see -----------------------------------------------------


def test_service_checks_the_merge_target(world):
    case = services.report_case(
        actor(world.collector),
        category=world.road,
        description="井盖缺失",
        lat=world.in_grid[0],
        lng=world.in_grid[1],
        photos_uploaded=[jpeg()],
    )
    with pytest.raises(ValidationError):
        services.merge_case(actor(world.dispatcher), case, case)
    closed = CaseFactory(status=Case.Status.CLOSED, region=world.c1)
    with pytest.raises(Exception, match="结案"):
        services.merge_case(actor(world.dispatcher), case, closed)
    case.refresh_from_db()
    assert case.status == Case.Status.REPORTED


def test_page_and_api_refuse_an_unknown_merge_target_alike(world):
    case = services.report_case(
        actor(world.collector),
        category=world.road,
        description="井盖缺失",
        lat=world.in_grid[0],
        lng=world.in_grid[1],
        photos_uploaded=[jpeg()],
    )
    r = client_for(world.dispatcher).post(
        f"{API}/cases/{case.pk}/merge", {"into_id": 999999}, content_type="application/json"
    )
    assert r.status_code == 400 and "目标案件" in r.json()["detail"]
    r = client_for(world.dispatcher).post(f"/cases/{case.pk}/merge/", {"into": "2099-999999"}, follow=True)
    assert "目标案件" in r.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.REPORTED


# --- duplicate suggestions never name a case outside the person's scope -------------------------


def _hidden_neighbour(w) -> Case:
    """An open case of the same category a few metres from the collector's point, in the other
    community and reported by someone else: outside the collector's scope (their grid)."""
    return CaseFactory(
        status=Case.Status.ACCEPTED,
        category=w.road,
        region=w.c2,
        grid=None,
        lat=w.in_grid[0],
        lng=w.in_grid[1],
        number="2026-900001",
    )


def test_service_suggests_only_visible_duplicates(world):
    hidden = _hidden_neighbour(world)
    near = services.duplicate_suggestions(world.collector, world.road, *world.in_grid)
    assert hidden not in near
    assert hidden in services.duplicate_suggestions(world.dispatcher, world.road, *world.in_grid)


def test_report_page_live_check_and_message_hide_cases_outside_scope(world):
    _hidden_neighbour(world)
    client = client_for(world.collector)
    r = client.get(
        "/cases/duplicates/", {"category": world.road.pk, "lat": world.in_grid[0], "lng": world.in_grid[1]}
    )
    assert r.status_code == 200 and r.json()["results"] == []
    r = client.post(
        "/cases/report/",
        {
            "category": world.road.pk,
            "description": "井盖缺失",
            "lat": world.in_grid[0],
            "lng": world.in_grid[1],
            "address": "",
            "photos": [jpeg()],
        },
        follow=True,
    )
    assert r.status_code == 200
    assert "2026-900001" not in r.content.decode()


def test_api_report_answer_hides_duplicates_outside_scope(world):
    _hidden_neighbour(world)
    r = client_for(world.collector).post(
        f"{API}/cases",
        {
            "category_id": world.road.pk,
            "description": "井盖缺失",
            "lat": world.in_grid[0],
            "lng": world.in_grid[1],
            "photos": [jpeg()],
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["duplicates"] == []
