"""诉求化解率 on hand-counted examples, with satisfaction counts by unit, area, category and channel."""

import datetime as dt

import pytest
from django.utils import timezone

from appeals.metrics import appeals_behind, resolution
from appeals.models import Appeal
from cases.models import Case
from cases.tests.factories import category
from org.tests.factories import UnitFactory, region_tree

from .factories import AppealFactory

pytestmark = pytest.mark.django_db
START = timezone.make_aware(dt.datetime(2026, 10, 1))
END = timezone.make_aware(dt.datetime(2026, 11, 1))
INSIDE = START + dt.timedelta(days=3)


def _appeal(
    closed: bool, rating: str = "", unit=None, region=None, channel=Appeal.Channel.WEB, received=INSIDE
):
    appeal = AppealFactory(
        received_at=received, channel=channel, rating=rating, rated_at=INSIDE if rating else None
    )
    Case.objects.filter(pk=appeal.case_id).update(
        status=Case.Status.CLOSED if closed else Case.Status.HANDLING,
        closed_at=INSIDE + dt.timedelta(days=1) if closed else None,
        lead_unit=unit,
        region=region,
    )
    return appeal


def test_resolved_is_closed_and_not_rated_unsatisfied_over_received():
    _appeal(True, Appeal.Rating.SATISFIED)
    _appeal(True, Appeal.Rating.BASIC)
    _appeal(True)  # closed, not rated: resolved
    _appeal(True, Appeal.Rating.UNSATISFIED)  # not resolved
    _appeal(False)  # still open
    _appeal(True, Appeal.Rating.SATISFIED, received=END)  # outside P
    total, rows = resolution(Appeal.objects.all(), START, END)
    assert rows == []
    assert (total.received, total.closed, total.resolved) == (5, 4, 3)
    assert (total.satisfied, total.basic, total.unsatisfied, total.unrated) == (1, 1, 1, 1)
    assert total.rate == pytest.approx(0.6)


def test_no_appeals_received_is_no_data_not_zero():
    total, _rows = resolution(Appeal.objects.all(), START, END)
    assert total.received == 0 and total.rate is None


def test_as_of_a_moment_before_closing_nothing_is_resolved():
    _appeal(True, Appeal.Rating.SATISFIED)
    total, _ = resolution(Appeal.objects.all(), START, END, at=INSIDE)
    assert (total.received, total.closed, total.resolved) == (1, 0, 0)


def test_grouped_by_unit_area_and_channel():
    tree = region_tree()
    a, b = UnitFactory(name="城管局"), UnitFactory(name="住建局")
    _appeal(True, Appeal.Rating.SATISFIED, unit=a, region=tree["c1"])
    _appeal(True, Appeal.Rating.UNSATISFIED, unit=a, region=tree["g1"], channel=Appeal.Channel.HOTLINE)
    _appeal(False, unit=b, region=tree["c2"], channel=Appeal.Channel.HOTLINE)
    qs = Appeal.objects.all()

    _, by_unit = resolution(qs, START, END, by="unit")
    assert [(r.label, r.received, r.resolved, r.unsatisfied, r.rate) for r in by_unit] == [
        ("城管局", 2, 1, 1, 0.5),
        ("住建局", 1, 0, 0, 0.0),
    ]
    _, by_area = resolution(qs, START, END, by="area")
    assert [(r.label, r.received, r.resolved) for r in by_area] == [("一街道", 2, 1), ("二街道", 1, 0)]
    _, by_channel = resolution(qs, START, END, by="channel")
    assert [(r.key, r.received, r.resolved) for r in by_channel] == [("hotline", 2, 0), ("web", 1, 1)]
    _, by_category = resolution(qs, START, END, by="category")
    assert [(r.label, r.received) for r in by_category] == [(str(category()), 3)]


def test_every_figure_opens_to_its_appeals():
    resolved = _appeal(True, Appeal.Rating.SATISFIED)
    unhappy = _appeal(True, Appeal.Rating.UNSATISFIED)
    assert list(appeals_behind(Appeal.objects.all(), START, END, "resolved")) == [resolved]
    assert list(appeals_behind(Appeal.objects.all(), START, END, "unsatisfied")) == [unhappy]


def test_every_row_opens_to_its_appeals():
    tree = region_tree()
    unit = UnitFactory(name="城管局")
    in_street = _appeal(True, Appeal.Rating.SATISFIED, unit=unit, region=tree["g1"])
    elsewhere = _appeal(False, region=tree["c2"])
    qs = Appeal.objects.all()
    assert list(appeals_behind(qs, START, END, "received", by="area", key="S1")) == [in_street]
    assert list(appeals_behind(qs, START, END, "received", by="unit", key="")) == [elsewhere]
    assert list(appeals_behind(qs, START, END, "resolved", by="unit", key=str(unit.pk))) == [in_street]
    assert list(appeals_behind(qs, START, END, "resolved", by="channel", key="hotline")) == []
