"""Red and yellow cards on hand-worked months (default policy: pass line 60%, yellow for a missing
or failing submission, red for a returned one not resubmitted, red for the second yellow of a
quarter)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from materials import services
from materials.models import Card, CardPolicy, Submission
from org.audit import Actor
from org.errors import ActionRefused

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
S = Submission.State


def _set(req, unit, state, score=None, **extra):
    Submission.objects.filter(requirement=req, unit=unit).update(state=state, score=score, **extra)
    return Submission.objects.get(requirement=req, unit=unit)


@pytest.fixture
def october(world):
    units = [world.c1, world.c2, world.dept, world.street]
    a = world.requirement(month=OCT, title="A 理论学习记录", points=Decimal(10), units=units)
    b = world.requirement(month=OCT, title="B 志愿服务台账", points=Decimal(5), units=units)
    _set(a, world.c1, S.ACCEPTED, Decimal(9), version=1)
    _set(b, world.c1, S.ACCEPTED, Decimal(3), version=1)  # exactly 60%: passes
    _set(b, world.c2, S.ACCEPTED, Decimal(2), version=1)  # 40%: fails; A stays a draft (missing)
    _set(a, world.dept, S.RETURNED, version=1, return_count=1)  # returned, never resubmitted
    _set(b, world.dept, S.SUBMITTED, version=1)  # waiting for review: no card
    _set(a, world.street, S.ACCEPTED, Decimal("5.99"), version=1)  # 59.9%: fails
    _set(b, world.street, S.ACCEPTED, Decimal(5), version=1, is_late=True)  # late: off by default
    return a, b


def _cards(month):
    return {(c.unit.code, c.color): c for c in Card.objects.filter(month=month).select_related("unit")}


def test_findings_of_a_hand_worked_month(world, october):
    a, b = october
    found = services.findings(OCT, dt.date(2026, 11, 10))
    assert set(found) == {world.c2.pk, world.dept.pk, world.street.pk}
    c2 = found[world.c2.pk]
    assert c2.yellow == ["missing", "failing"] and c2.red == []
    assert {s.requirement for s in c2.yellow_submissions} == {a, b}
    assert found[world.dept.pk].red == ["missing_after_return"] and found[world.dept.pk].yellow == []
    assert found[world.street.pk].yellow == ["failing"]


def test_monthly_issue_then_second_yellow_in_the_quarter_brings_red(world, october, clock):
    hq = world.actor(world.hq)
    issued = services.issue_monthly_cards(hq, OCT)
    assert {(c.unit.code, c.color) for c in issued} == {
        ("S2C1", "yellow"),
        ("D1", "red"),
        ("S1", "yellow"),
    }
    card = _cards(OCT)[("S2C1", "yellow")]
    assert card.is_automatic and card.issued_by == world.hq and "未报送、审核不合格" in card.reason
    assert card.submissions.count() == 2
    # Running again issues nothing.
    assert services.issue_monthly_cards(hq, OCT) == []
    # HQ revokes the street's October yellow; it no longer counts toward a red.
    services.revoke_card(hq, _cards(OCT)[("S1", "yellow")], "材料已补正，经复核合格")

    world.requirement(month=NOV, title="C 新时代文明实践", units=[world.c2, world.street])
    clock.set(dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC))
    issued = services.issue_monthly_cards(Actor.system(), NOV)  # the command's actor
    assert {(x.unit.code, x.color) for x in issued} == {("S2C1", "yellow"), ("S2C1", "red"), ("S1", "yellow")}
    red = _cards(NOV)[("S2C1", "red")]
    assert red.rules == ["repeated_yellow"] and red.issued_by is None
    assert list(red.submissions.values_list("requirement__title", flat=True)) == ["C 新时代文明实践"]
    # A revoked card is not issued again by a later run.
    services.revoke_card(hq, red, "核实有误")
    assert services.issue_monthly_cards(hq, NOV) == []
    assert Card.objects.get(pk=red.pk).revoke_reason == "核实有误"


def test_policy_changes_the_outcome(world, october):
    CardPolicy.objects.create(
        effective_from=OCT, pass_percent=50, yellow_for_late=True, red_for_missing_after_return=False
    )
    found = services.findings(OCT, dt.date(2026, 11, 10))
    assert found[world.street.pk].yellow == ["late"]  # 59.9% passes at 50%, but B was late
    assert found[world.dept.pk].yellow == ["missing"] and found[world.dept.pk].red == []
    assert found[world.c2.pk].yellow == ["missing", "failing"]  # 40% still fails


def test_cards_refusals(world, october):
    with pytest.raises(ActionRefused):  # November is not over on the 10th
        services.issue_monthly_cards(world.actor(world.hq), NOV)
    with pytest.raises(PermissionDenied):
        services.issue_monthly_cards(world.actor(world.inspector), OCT)
    with pytest.raises(PermissionDenied):
        services.issue_card(world.actor(world.clerk), world.c1, OCT, "yellow", "x")
    with pytest.raises(ValidationError):
        services.issue_card(world.actor(world.hq), world.c1, OCT, "yellow", "  ")
    with pytest.raises(ValidationError):
        services.issue_card(world.actor(world.hq), world.c1, OCT, "green", "原因")
    other = Submission.objects.get(requirement=october[0], unit=world.c2)
    with pytest.raises(ValidationError):
        services.issue_card(world.actor(world.hq), world.c1, OCT, "yellow", "原因", [other])
    assert not Card.objects.exists()
    card = services.issue_card(world.actor(world.hq), world.c1, OCT, "yellow", "台账造假")
    assert card.rules == ["manual"] and not card.is_automatic
    with pytest.raises(ValidationError):
        services.revoke_card(world.actor(world.hq), card, "")
    services.revoke_card(world.actor(world.hq), card, "误判")
    with pytest.raises(ActionRefused):
        services.revoke_card(world.actor(world.hq), card, "再撤")


def test_manual_yellow_counts_toward_the_quarter(world, october):
    services.issue_card(world.actor(world.hq), world.c2, OCT, "yellow", "会议记录缺失")
    found = services.findings(OCT, dt.date(2026, 11, 10))
    assert found[world.c2.pk].red == ["repeated_yellow"]


def test_command_issues_last_month_once(world, october, clock):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("issue_cards", month="2026-10", stdout=out)
    assert "新认定 3 张" in out.getvalue()
    call_command("issue_cards", stdout=out)  # default: last month (October, seen from 10 November)
    assert out.getvalue().endswith("2026-10：新认定 0 张红黄牌\n")
    with pytest.raises(CommandError):
        call_command("issue_cards", month="2026-11")
    with pytest.raises(CommandError):
        call_command("issue_cards", month="2026/10")
    assert Card.objects.count() == 3


def test_the_worker_issues_last_months_cards_on_the_first_days_of_a_month(world, october):
    assert (
        services.monthly_cards_job(dt.datetime(2026, 11, 10, 1, tzinfo=dt.UTC))
        == "每月 1–3 日认定上月红黄牌，今日不执行"
    )
    assert not Card.objects.exists()
    assert (
        services.monthly_cards_job(dt.datetime(2026, 11, 2, 1, tzinfo=dt.UTC)) == "2026-10：新认定 3 张红黄牌"
    )
    assert {(c.unit.code, c.color) for c in Card.objects.all()} == {
        ("S2C1", "yellow"),
        ("D1", "red"),
        ("S1", "yellow"),
    }
    assert (
        services.monthly_cards_job(dt.datetime(2026, 11, 3, 1, tzinfo=dt.UTC)) == "2026-10：新认定 0 张红黄牌"
    )
