"""A circular 通报 reaches the people of each unit it names (the units scored in its run) through
the outbox to the inbox; a unit it does not name gets nothing."""

import datetime as dt

import pytest

from assessment import services
from notices.kinds import Kind
from notices.models import Notice, Receipt
from org.audit import Actor
from org.models import Role
from org.tests.factories import UnitFactory, member

from .helpers import at, scheme

pytestmark = pytest.mark.django_db


def test_a_circular_is_told_to_each_named_units_people(world):
    units, hq = world
    handler, clerk = member(units["D"], Role.HANDLER), member(units["A"], Role.REPORT_CLERK)
    run = services.compute_run(Actor(hq), scheme(hq), dt.date(2026, 11, 5), at=at(30, 23))
    outsider = member(UnitFactory(code="X1"), Role.HANDLER)  # a unit the run did not score
    services.publish_run(Actor(hq), run)
    circular = services.issue_circular(Actor(hq), run, "关于11月考评情况的通报", "现通报如下。")
    named = set(run.scores.values_list("unit_id", flat=True))
    notices = {n.key: n for n in Notice.objects.filter(kind=Kind.CIRCULAR_ISSUED)}
    assert set(notices) == {f"circular:{circular.pk}:u{pk}" for pk in named}
    told = set(Receipt.objects.values_list("user_id", flat=True))
    assert {handler.pk, clerk.pk} <= told and outsider.pk not in told and hq.pk not in told
    notice = notices[f"circular:{circular.pk}:u{units['D'].pk}"]
    assert set(notice.receipts.values_list("user_id", flat=True)) == {handler.pk}
    assert notice.title == f"考评通报 {circular.number}"
    assert "《关于11月考评情况的通报》，D在本期考评中被点名" in notice.body
    assert notice.link == f"/assessment/circulars/{circular.pk}/download/"
