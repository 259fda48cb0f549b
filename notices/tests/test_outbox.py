"""The outbox: one notice per key, written in the caller's transaction, with receipts and the
deliveries each person and unit asked for; no citizen's phone in any text."""

import datetime as dt

import pytest
from django.db import transaction

from notices.kinds import Kind
from notices.models import Delivery, Notice, Preference, Receipt, Robot, UnitPreference
from notices.outbox import MASK, after_quiet_hours, notify
from notices.tests.conftest import at, run_concurrently
from org.models import Role
from org.tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db

CONTEXT = {
    "number": "202600001",
    "category": "暴露垃圾",
    "place": "一社区",
    "unit": "城管局",
    "deadline": "03月03日 17:30",
}


@pytest.fixture
def unit():
    return UnitFactory(code="D-1", short_name="城管局")


def robot(unit, **kwargs):
    defaults = {
        "channel": "wecom",
        "name": "城管群",
        "webhook": "http://127.0.0.1:1/cgi-bin/webhook/send?key=k",
    }
    return Robot.objects.create(unit=unit, **{**defaults, **kwargs})


def test_a_notice_goes_to_each_inbox_and_the_units_robots_once_per_key(unit, clock):
    a, b = member(unit, Role.HANDLER), member(unit, Role.HANDLER)
    robot(unit)
    robot(unit, name="只要超期", kinds=[Kind.CASE_OVERDUE])
    first = notify(Kind.CASE_DISPATCHED, [a, b, a], CONTEXT, "/cases/1/", "k1", units=[unit])
    again = notify(Kind.CASE_DISPATCHED, [a, b], CONTEXT, "/cases/1/", "k1", units=[unit])
    assert first is not None and again is None
    assert first.title == "新派案件 202600001"
    assert "03月03日 17:30" in first.body
    assert sorted(Receipt.objects.values_list("user_id", flat=True)) == sorted([a.pk, b.pk])
    assert list(Delivery.objects.values_list("channel", "robot__name")) == [("wecom", "城管群")]


def test_the_notice_rolls_back_with_the_step_that_caused_it(unit, clock):
    a = member(unit, Role.HANDLER)
    robot(unit)
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(Kind.CASE_DISPATCHED, [a], CONTEXT, "/cases/1/", "k1", units=[unit])
        raise RuntimeError("the step failed")
    assert not Notice.objects.exists() and not Receipt.objects.exists() and not Delivery.objects.exists()


def test_email_and_sms_follow_each_persons_choice_and_mutes(unit, clock):
    both = member(unit, Role.HANDLER, email="a@example.cn", phone="13800000001")
    muted = member(unit, Role.HANDLER, email="b@example.cn")
    nothing = member(unit, Role.HANDLER, email="c@example.cn")
    Preference.objects.create(user=both, email=True, sms=True)
    Preference.objects.create(user=muted, email=True, muted=[Kind.CASE_DISPATCHED])
    notify(Kind.CASE_DISPATCHED, [both, muted, nothing], CONTEXT, "/cases/1/", "k1")
    assert sorted(Delivery.objects.values_list("channel", "user_id")) == [
        ("email", both.pk),
        ("sms", both.pk),
    ]
    assert Receipt.objects.count() == 3  # the inbox always has it


def test_quiet_hours_hold_a_message_until_they_end_but_not_an_urgent_one(unit, clock):
    person = member(unit, Role.HANDLER, email="a@example.cn")
    Preference.objects.create(user=person, email=True, quiet_start=dt.time(22), quiet_end=dt.time(7))
    UnitPreference.objects.create(unit=unit, quiet_start=dt.time(22), quiet_end=dt.time(7))
    robot(unit)
    clock.set(at(2026, 3, 2, 23, 10))
    notify(Kind.CASE_DISPATCHED, [person], CONTEXT, "/cases/1/", "k1", units=[unit])
    notify(Kind.CASE_ESCALATED, [person], CONTEXT, "/cases/1/", "k2", units=[unit])
    held = Delivery.objects.filter(notice__key="k1")
    assert {d.next_attempt_at for d in held} == {at(2026, 3, 3, 7)}
    assert {d.next_attempt_at for d in Delivery.objects.filter(notice__key="k2")} == {at(2026, 3, 2, 23, 10)}


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(2026, 3, 2, 21, 59), at(2026, 3, 2, 21, 59)),
        (at(2026, 3, 2, 22, 0), at(2026, 3, 3, 7)),
        (at(2026, 3, 3, 6, 30), at(2026, 3, 3, 7)),
        (at(2026, 3, 3, 7, 0), at(2026, 3, 3, 7, 0)),
    ],
)
def test_overnight_quiet_hours(moment, expected):
    assert after_quiet_hours(moment, dt.time(22), dt.time(7)) == expected
    assert after_quiet_hours(moment, None, None) == moment


def test_no_mobile_number_survives_in_a_notice(unit, clock):
    person = member(unit, Role.HANDLER)
    context = {**CONTEXT, "reason": "市民13912345678反映，联系+86 139-1234-5678"}
    notice = notify(Kind.CASE_RETURNED, [person], context, "/cases/1/", "k1")
    assert "13912345678" not in notice.body and "1234-5678" not in notice.body
    assert notice.body.count(MASK) == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_telling_the_same_event_at_once_write_one_notice():
    unit = UnitFactory(code="D-7")
    person = member(unit, Role.HANDLER)
    robot(unit)
    results = run_concurrently(
        lambda: notify(Kind.CASE_OVERDUE, [person], CONTEXT, "/cases/1/", "same-key", units=[unit])
    )
    assert len([r for r in results if r is not None]) == 1
    assert (Notice.objects.count(), Receipt.objects.count(), Delivery.objects.count()) == (1, 1, 1)
