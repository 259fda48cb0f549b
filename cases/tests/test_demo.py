"""The demo cases: every state, consistent with the rules of the services, loaded once."""

import pytest
from django.db.models import Count, Sum

from cases import demo
from cases.deadlines import recompute_open_deadlines
from cases.models import Case, CaseEvent, CasePart, MapCell, MapDelta, RoutingRule
from cases.services import verify_case
from org import demo as org_demo
from org.audit import Actor
from org.models import User
from workdays import demo as workdays_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(monkeypatch):
    monkeypatch.setattr(demo, "CASE_COUNT", 500)
    org_demo.load()
    workdays_demo.load()
    demo.load()


def test_demo_cases_cover_every_state_and_follow_the_rules(loaded):
    statuses = dict(Case.objects.values_list("status").annotate(n=Count("pk")).order_by())
    assert sum(statuses.values()) == 500
    assert {"reported", "rejected", "merged", "handling", "handled", "closed"} <= set(statuses)
    assert RoutingRule.objects.filter(region__isnull=False).count() == 16  # one per township
    for case in Case.objects.prefetch_related("parts", "events"):
        events = [e.action for e in case.events.all()]
        assert events[0] == "report"
        assert case.reported_at <= (case.accepted_at or case.reported_at)
        if case.status in Case.TIMED_STATUSES:
            assert case.due_at is not None
        if case.status == "closed":
            assert events[-1] == "close" and case.closed_at is not None
            assert all(p.status in ("handled", "returned") for p in case.parts.all())
        if case.status == "merged":
            assert case.merged_into_id is not None
        if case.status in ("dispatched", "handling", "handled", "closed"):
            assert case.parts.filter(is_lead=True).exclude(status="returned").count() == 1
        assert case.rework_count == events.count("rework")
        assert case.return_count == events.count("return")
    assert CasePart.objects.filter(status="handled", handled_at__isnull=True).count() == 0
    # The map's kept counts hold every demo case already (folded, nothing pending).
    assert not MapDelta.objects.exists()
    assert MapCell.objects.filter(level=12, day=0).aggregate(n=Sum("count"))["n"] == 500


def test_demo_deadlines_are_the_working_hours_clocks(loaded):
    rules = set(CasePart.objects.values_list("deadline_rule", flat=True))
    assert rules <= {"working_hours", "clock_hours"} and "working_hours" in rules
    # Counted again by the services' clock, no open part's deadline changes.
    assert recompute_open_deadlines(Actor.system()) == 0


def test_demo_cases_continue_through_the_services_and_load_once(loaded):
    case = Case.objects.filter(status="handled").first()
    closed = verify_case(Actor(user=User.objects.get(username="dispatcher")), case)
    assert closed.status == "closed"
    events = CaseEvent.objects.count()
    demo.load()
    assert Case.objects.count() == 500 and CaseEvent.objects.count() == events
