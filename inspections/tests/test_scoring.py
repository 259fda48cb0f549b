"""Scores and rates, hand-counted, with the zero denominators that are "no data"."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspections import scoring, services
from inspections.models import CheckItem, Finding, Inspection, ItemResult

from .conftest import actor, at, lines, plan


def test_rule_deductions():
    item = CheckItem(points=Decimal(10), unit_deduction=Decimal(2), cap=Decimal(6), rule="per_occurrence")
    assert [scoring.suggested_deduction(item, n) for n in (1, 2, 3, 4)] == [2, 4, 6, 6]
    item.cap = None
    assert scoring.suggested_deduction(item, 9) == 10
    item.rule = "fixed"
    assert scoring.suggested_deduction(item, 9) == 2
    item.rule = "fail_all"
    assert scoring.suggested_deduction(item, 1) == 10


points = st.decimals(min_value=0, max_value=100, places=2)
results = st.sampled_from(list(ItemResult.Result.values))


@given(st.lists(st.tuples(points, results, points), max_size=12))
def test_a_score_is_full_points_minus_deductions_never_below_zero(lines):
    total = scoring.score(lines)
    applicable = [(p, r, d) for p, r, d in lines if r != ItemResult.Result.NOT_APPLICABLE]
    assert total.full_points == sum((p for p, _, _ in applicable), Decimal(0))
    assert total.score == max(total.full_points - total.deductions, 0)
    assert 0 <= total.score <= total.full_points
    assert total.percent is None if total.full_points == 0 else 0 <= total.percent <= 100


def test_zero_denominators_are_no_data(db):
    none = scoring.figures(Inspection.objects.none(), Finding.objects.none())
    assert (none.sites_inspected, none.average, none.rectification_rate, none.on_time_rate) == (
        0,
        None,
        None,
        None,
    )
    assert scoring.percent(0, 0) is None and scoring.percent(0, 3) == 0
    assert scoring.item_pass_rates(Inspection.objects.none()) == []


@pytest.fixture
def counted(world, insp, clock):
    """Two sites: M1 scores 11 of 19 (A and C fail), M2 passes everything (19 of 19); then A at
    M1 is rectified on time by a 复查 and C late by another."""
    round_ = plan(world, insp)
    m1, _ = services.submit_inspection(
        actor(world.inspector), round_, insp.m1, uid=uuid.uuid4(), lines=lines(insp)
    )
    clean = lines(insp, a="pass", c="pass")
    m2, _ = services.submit_inspection(actor(world.inspector), round_, insp.m2, uid=uuid.uuid4(), lines=clean)
    a, c = (m1.findings.get(item__code=code) for code in "AC")
    clock.set(at(2026, 3, 5, 10))
    recheck = plan(world, insp, kind="reinspection", sites=[insp.m1], start=dt.date(2026, 3, 5))
    services.submit_inspection(
        actor(world.inspector), recheck, insp.m1, uid=uuid.uuid4(), rechecks={a.pk: True, c.pk: False}
    )
    clock.set(at(2026, 3, 10, 10))  # after the deadline (end of 6 March)
    late = plan(world, insp, kind="reinspection", sites=[insp.m1], start=dt.date(2026, 3, 10))
    services.submit_inspection(actor(world.inspector), late, insp.m1, uid=uuid.uuid4(), rechecks={c.pk: True})
    return round_


def test_round_figures_hand_counted(world, insp, counted):
    inspections = Inspection.objects.filter(round=counted)
    figures = scoring.figures(inspections, Finding.objects.filter(inspection__round=counted))
    assert (figures.sites_inspected, figures.inspections, figures.findings) == (2, 2, 2)
    # (11/19 + 19/19) / 2 = 0.78947… → 78.95%
    assert figures.average == Decimal("78.95")
    assert (figures.rectified, figures.rectified_on_time, figures.overdue) == (2, 1, 0)
    assert (figures.rectification_rate, figures.on_time_rate) == (Decimal("100.00"), Decimal("50.00"))
    rates = {r.code: (r.applicable, r.passed, r.rate) for r in scoring.item_pass_rates(inspections)}
    assert rates == {
        "A": (2, 1, Decimal("50.00")),
        "B": (2, 2, Decimal("100.00")),
        "C": (2, 1, Decimal("50.00")),
    }


def test_rollups_by_street_unit_and_week(world, insp, counted):
    inspections = Inspection.objects.filter(round=counted)
    by_community = {r.label: (r.inspections, r.average) for r in scoring.rollup(inspections, "community")}
    assert by_community == {"一社区": (1, Decimal("57.89")), "二社区": (1, Decimal("100.00"))}
    by_street = scoring.rollup(inspections, "street")
    assert [(r.label, r.inspections, r.sites) for r in by_street] == [("一街道", 2, 2)]
    by_unit = {r.label: r.inspections for r in scoring.rollup(inspections, "unit")}
    assert by_unit == {"（未指定）": 1, str(world.dept): 1}  # M2 has no contracting unit
    assert [r.key for r in scoring.rollup(Inspection.objects.all(), "week")] == ["2026-W10", "2026-W11"]


def test_overdue_counts_open_findings_past_their_deadline(world, insp, clock):
    round_ = plan(world, insp)
    services.submit_inspection(actor(world.inspector), round_, insp.m1, uid=uuid.uuid4(), lines=lines(insp))
    findings = Finding.objects.all()
    # Due Monday 9 March 09:00 (five working days on the working-hours clock from Monday 09:00).
    assert scoring.figures(Inspection.objects.all(), findings, at=at(2026, 3, 9, 8, 59)).overdue == 0
    late = scoring.figures(Inspection.objects.all(), findings, at=at(2026, 3, 9, 9, 1))
    assert (late.overdue, late.open, late.rectification_rate) == (2, 2, Decimal("0.00"))
