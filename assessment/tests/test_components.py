"""诉求化解率 and 红黄牌扣分 as components: hand-counted values, provenance, T, and the scheme rules."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from appeals.models import Appeal
from appeals.tests.factories import AppealFactory
from assessment import services
from assessment.models import Component, Figure, Scheme
from assessment.tests.helpers import at, scheme, table
from cases.models import Case
from cases.tests.factories import CaseFactory
from indicators.tests.factories import CriterionFactory
from materials.models import Card, Requirement, Submission
from org.audit import Actor
from org.models import Unit

pytestmark = pytest.mark.django_db

NOV, OCT = dt.date(2026, 11, 1), dt.date(2026, 10, 1)
T = at(1, month=12)  # 2026-12-01 10:00


def appeal(unit, received, closed=None, rating="", rated=None):
    case = CaseFactory(
        lead_unit=unit,
        source="appeal",
        status=Case.Status.CLOSED if closed else Case.Status.DISPATCHED,
        reported_at=received,
        closed_at=closed,
    )
    return AppealFactory(case=case, received_at=received, rating=rating, rated_at=rated)


def card(unit, color, issued, month=NOV, revoked=None):
    return Card.objects.create(
        unit=unit, month=month, color=color, reason="测试", issued_at=issued, revoked_at=revoked
    )


def assigned(unit, hq, month=NOV):
    req = Requirement.objects.create(
        month=month,
        criterion=CriterionFactory(),
        title="台账",
        points=Decimal(5),
        due_date=month + dt.timedelta(days=25),
        reviewer=hq,
    )
    return Submission.objects.create(requirement=req, unit=unit)


@pytest.fixture
def counted(world):
    units, hq = world
    a, b, c, e = units["A"], units["B"], units["C"], units["E"]
    # 诉求化解率 A: received in November 4 (one more in October, not counted); resolved by T 1:
    # closed and satisfied; closed but rated 不满意 before T; still open; closed only after T.
    ok = appeal(a, at(3), closed=at(12), rating=Appeal.Rating.SATISFIED, rated=at(13))
    appeal(a, at(4), closed=at(20), rating=Appeal.Rating.UNSATISFIED, rated=at(21))
    appeal(a, at(5))
    appeal(a, at(28), closed=at(5, month=12))
    appeal(a, at(20, month=10), closed=at(21, month=10))
    # B: 2 received, both closed by T; the 不满意 comes after T, so both count as resolved → 100
    appeal(b, at(6), closed=at(9))
    appeal(b, at(7), closed=at(9), rating=Appeal.Rating.UNSATISFIED, rated=at(3, month=12))
    # 红黄牌扣分 A: a yellow and a red for November → 100 − 10 − 20 = 70
    y, r = card(a, Card.Color.YELLOW, at(30)), card(a, Card.Color.RED, at(30))
    # B: assigned materials; a yellow revoked before T and one issued after T do not count → 100
    assigned(b, hq)
    card(b, Card.Color.YELLOW, at(30), revoked=at(30, 12))
    card(b, Card.Color.YELLOW, at(2, month=12))
    # C: assigned materials, no card → 100
    sub_c = assigned(c, hq)
    # E: October's card is another month; November's yellow revoked after T still counts → 90
    card(e, Card.Color.YELLOW, at(30, month=10), month=OCT)
    card(e, Card.Color.YELLOW, at(30), revoked=at(5, month=12))
    return units, hq, {"ok": ok, "yellow": y, "red": r, "sub_c": sub_c}


def test_appeal_and_card_components_hand_counted(counted):
    units, hq, made = counted
    s = scheme(hq, weights={"appeals": 50, "cards": 50})
    run = services.compute_run(Actor(hq), s, dt.date(2026, 11, 15), at=T)
    fig = {(f.unit.name, f.kind): f for f in Figure.objects.filter(run=run).select_related("unit")}
    a_appeals = fig[("A", "appeals")]
    assert (a_appeals.value, a_appeals.numerator, a_appeals.denominator) == (
        Decimal("25.00"),
        1,
        4,
    )
    assert a_appeals.source["resolved"] == [made["ok"].pk]
    assert len(a_appeals.source["received"]) == 4
    assert fig[("B", "appeals")].value == Decimal("100.00")
    assert fig[("C", "appeals")].value is None  # no appeals: no data, not 0 or 100
    a_cards = fig[("A", "cards")]
    assert (a_cards.value, a_cards.numerator) == (Decimal("70.00"), 30)
    assert a_cards.source["yellow"] == [made["yellow"].pk]
    assert a_cards.source["red"] == [made["red"].pk]
    assert fig[("B", "cards")].value == Decimal("100.00")
    assert fig[("B", "cards")].source["yellow"] == []
    assert fig[("C", "cards")].source["submissions"] == [made["sub_c"].pk]
    assert fig[("E", "cards")].value == Decimal("90.00")
    assert fig[("D", "cards")].value is None  # nothing assigned and no card: no data
    # totals: A (25 + 70) / 2; B 100; C and E re-weighted on the cards alone; D, F no data
    assert table(run) == {
        "A": (Decimal("47.50"), 4),
        "B": (Decimal("100.00"), 1),
        "C": (Decimal("100.00"), 1),
        "D": (None, None),
        "E": (Decimal("90.00"), 3),
        "F": (None, None),
    }
    assert run.scores.get(unit__name="C").note == "缺少诉求化解率，按其余部分重新计权"


def test_exclude_rule_and_weekly_schemes(counted):
    units, hq, _made = counted
    s = scheme(hq, no_data=Scheme.NoData.EXCLUDE, weights={"appeals": 40, "cards": 60})
    run = services.compute_run(Actor(hq), s, dt.date(2026, 11, 15), at=T)
    # only A and B have both components: A 25×0.4 + 70×0.6 = 52
    assert {k: v for k, v in table(run).items() if v[1]} == {
        "A": (Decimal("52.00"), 2),
        "B": (Decimal("100.00"), 1),
    }
    weekly = services.SchemeSpec("周督查", "week", [Unit.Kind.DEPARTMENT], {"appeals": 50, "cards": 50})
    with pytest.raises(ValidationError, match="红黄牌按月认定"):
        services.save_scheme(Actor(hq), weekly)
    weekly.weights = {"appeals": 50, "cases": 40}
    with pytest.raises(ValidationError, match="之和须为 100"):
        services.save_scheme(Actor(hq), weekly)
    weekly.weights = {"appeals": 60, "cases": 40}
    assert services.save_scheme(Actor(hq), weekly).components.get(kind="appeals").weight == 60


def test_scheme_editor_offers_the_new_components(client, world):
    _units, hq = world
    client.force_login(hq)
    page = client.get(reverse("assessment:scheme_new"))
    assert "诉求化解率 权重" in page.content.decode() and "红黄牌扣分 权重" in page.content.decode()
    data = {
        "name": "部门月考评",
        "period_kind": "month",
        "unit_kinds": [Unit.Kind.DEPARTMENT],
        "no_data": "reweight",
        "list_size": "2",
        "w_appeals": "30",
        "w_cards": "70",
    }
    assert client.post(reverse("assessment:scheme_new"), data).status_code == 302
    saved = Scheme.objects.get(name="部门月考评")
    assert dict(saved.components.values_list("kind", "weight")) == {
        Component.Kind.APPEALS: 30,
        Component.Kind.CARDS: 70,
    }


def joint(organiser, units_signed: dict, day: dt.date):
    """A joint enforcement action on ``day`` summoning the units given, each signed in at the
    moment given (None: no sign-in)."""
    from streets.models import JointAction, JointSummons

    action = JointAction.objects.create(
        organiser=organiser,
        title="集中整治",
        day=day,
        start_time=dt.time(9),
        place="广场",
        lat=Decimal("31.85"),
        lng=Decimal("106.74"),
        lead_unit=next(iter(units_signed)),
        created_at=at(1),
    )
    for unit, signed in units_signed.items():
        JointSummons.objects.create(action=action, unit=unit, signed_in_at=signed)
    return action


def test_joint_enforcement_attendance_component_hand_counted(world):
    """联合执法报到率 (issue 17: attendance and no-shows feed the assessment), as of T."""
    units, hq = world
    a, b, c, d = units["A"], units["B"], units["C"], units["D"]
    joint(a, {a: at(3, 9), b: None, c: at(3, 9)}, NOV + dt.timedelta(days=2))  # 3 Nov
    joint(a, {a: None, b: None}, NOV + dt.timedelta(days=19))  # 20 Nov: A and B did not come
    joint(a, {a: at(28, 9)}, dt.date(2026, 11, 28))
    joint(a, {c: None}, dt.date(2026, 12, 1))  # the next period: not counted
    joint(a, {d: at(20, 9, month=10)}, dt.date(2026, 10, 20))  # the period before
    s = scheme(hq, no_data=Scheme.NoData.REWEIGHT, weights={"joint": 100})
    run = services.compute_run(Actor(hq), s, dt.date(2026, 11, 15), at=T)
    key = {unit.pk: name for name, unit in units.items()}
    figures = {key[f.unit_id]: f for f in Figure.objects.filter(run=run, kind=Component.Kind.JOINT)}
    # A: signed in 2 of 3 (3 Nov, 28 Nov; not 20 Nov) → 66.67; B: 0 of 2 → 0; C: 1 of 1 → 100;
    # D and the rest: never summoned in November → no data.
    assert {
        code: (f.value, f.numerator, f.denominator) for code, f in figures.items() if f.value is not None
    } == {
        "A": (Decimal("66.67"), 2, 3),
        "B": (Decimal("0.00"), 0, 2),
        "C": (Decimal("100.00"), 1, 1),
    }
    assert len(figures["A"].source["decided"]) == 3 and len(figures["A"].source["attended"]) == 2
    # As of 21 Nov 08:00: 3 Nov attended, 20 Nov a no-show (its day is over), 28 Nov still to come.
    early = services.compute_run(Actor(hq), s, dt.date(2026, 11, 15), at=at(21, 8))
    a_early = Figure.objects.get(run=early, unit=a, kind=Component.Kind.JOINT)
    assert (a_early.numerator, a_early.denominator) == (1, 2)
