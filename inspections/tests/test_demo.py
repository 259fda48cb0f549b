"""The demo inspections: ~80 more sites, eight weeks of rounds, findings in every state, work
for the ``inspector`` login today, an unpublished 暗访 hidden from the inspected; loaded twice
it changes nothing."""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from cases import demo as cases_demo
from indicators import demo as indicators_demo
from inspections import demo, scoring, services
from inspections.models import Finding, Inspection, Round
from org import demo as org_demo
from org.models import Site, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    org_demo.load()
    indicators_demo.load()
    cases_demo.load_rules()
    demo.load()


def test_demo_inspections(loaded):
    streets_with_sites = Site.objects.filter(code__startswith="Q").values("region__parent").distinct().count()
    assert Site.objects.filter(code__startswith="Q").count() == 84 and streets_with_sites == 6
    kinds = dict(Round.objects.values_list("kind").annotate(n=Count("pk")).order_by())
    assert (
        kinds["supervision"] == kinds["unannounced"] == 8
        and kinds["morning"] == 16
        and kinds["reinspection"] >= 6
    )
    first = Round.objects.order_by("starts_on").first()
    assert first is not None and (timezone.localdate() - first.starts_on) >= dt.timedelta(weeks=7)
    statuses = set(Finding.objects.values_list("status", flat=True))
    assert statuses == {"open", "in_case", "rectified"}
    assert Finding.objects.overdue().exists() and Finding.objects.filter(recheck_failures__gt=0).exists()
    on_time = Finding.objects.filter(scoring.rectified_on_time_q())
    assert on_time.exists() and Finding.objects.filter(status="rectified").exclude(pk__in=on_time).exists()
    case_states = set(Finding.objects.filter(case__isnull=False).values_list("case__status", flat=True))
    assert {"dispatched", "handled", "closed"} <= case_states
    inspector = User.objects.get(username="inspector")
    assert services.pending_sites(inspector).exists()
    hidden = Round.objects.get(kind="unannounced", published_at__isnull=True)
    handler = User.objects.get(username="handler")
    assert not Round.objects.visible_to(handler).filter(pk=hidden.pk).exists()
    assert Inspection.objects.filter(far_from_site=True).exists()

    counts = (
        Round.objects.count(),
        Inspection.objects.count(),
        Finding.objects.count(),
        Site.objects.count(),
    )
    demo.load()
    assert (
        Round.objects.count(),
        Inspection.objects.count(),
        Finding.objects.count(),
        Site.objects.count(),
    ) == counts
