"""Ranking with ties and the rates, on a hand-worked month."""

import datetime as dt
from decimal import Decimal

from materials import figures
from materials.figures import Row, competition_rank
from materials.models import Card, Submission

OCT = dt.date(2026, 10, 1)
S = Submission.State
EARLY = dt.datetime(2026, 10, 20, 2, 0, tzinfo=dt.UTC)
LATE = dt.datetime(2026, 11, 3, 2, 0, tzinfo=dt.UTC)


def test_competition_ranking_shares_ranks_and_skips():
    rows = [Row(1, "甲", points=Decimal(10), score=Decimal(9))]
    rows += [
        Row(2, "乙", points=Decimal(15), score=Decimal(12)),
        Row(3, "丙", points=Decimal(10), score=Decimal(8)),
    ]
    rows += [Row(4, "丁", points=Decimal(10), score=Decimal(6)), Row(5, "戊")]  # 戊: nothing assigned
    ranked = competition_rank(rows)
    assert [(r.name, r.rank) for r in ranked] == [("甲", 1), ("丙", 2), ("乙", 2), ("丁", 4)]
    assert ranked[1].percent == Decimal("80.00")


def test_exact_ties_not_rounding_ties():
    # 2/3 and 6667/10000 both print as 66.67% but are not equal.
    rows = [
        Row(1, "甲", points=Decimal(3), score=Decimal(2)),
        Row(2, "乙", points=Decimal(100), score=Decimal("66.67")),
    ]
    assert [(r.name, r.rank) for r in competition_rank(rows)] == [("乙", 1), ("甲", 2)]


def _set(req, unit, state, score=None, **extra):
    Submission.objects.filter(requirement=req, unit=unit).update(state=state, score=score, **extra)


def test_monthly_units_and_streets(world):
    units = [world.c1, world.c2, world.dept, world.street]
    a = world.requirement(month=OCT, title="A", points=Decimal(10), units=units)
    b = world.requirement(month=OCT, title="B", points=Decimal(5), units=[world.c1])
    # c1: (9 + 3) / 15 = 80%; c2: 8 / 10 = 80%; dept 9 / 10 = 90%; street 6 / 10 = 60%.
    _set(a, world.c1, S.ACCEPTED, Decimal(9), version=1, first_submitted_at=EARLY)
    _set(b, world.c1, S.ACCEPTED, Decimal(3), version=2, first_submitted_at=LATE, return_count=1)
    _set(a, world.c2, S.ACCEPTED, Decimal(8), version=1, first_submitted_at=EARLY)
    _set(a, world.dept, S.ACCEPTED, Decimal(9), version=1, first_submitted_at=EARLY)
    _set(a, world.street, S.ACCEPTED, Decimal(6), version=1, first_submitted_at=EARLY)
    Card.objects.create(unit=world.street, month=OCT, color="yellow", reason="x")
    Card.objects.create(unit=world.c1, month=OCT, color="red", reason="x", revoked_at=EARLY)

    rows = {r.name: r for r in figures.monthly(OCT)}
    assert [(r.name, r.rank) for r in figures.monthly(OCT)] == [
        ("城管局", 1),
        ("一社区居委会", 2),
        ("二社区居委会", 2),
        ("一街道办", 4),
    ]
    c1 = rows["一社区居委会"]
    assert (c1.assigned, c1.submitted, c1.on_time, c1.returned) == (2, 2, 1, 1)
    assert c1.on_time_percent == Decimal("50.00") and c1.return_percent == Decimal("50.00")
    assert c1.red == 0  # revoked cards do not count
    assert rows["一街道办"].yellow == 1

    streets = figures.monthly(OCT, "street")
    # 一街道: street office and 一社区: (6 + 12) / (10 + 15) = 72%; 二街道: 80%. The department
    # sits in no street.
    assert [(r.name, r.percent, r.rank) for r in streets] == [
        ("二街道", Decimal("80.00"), 1),
        ("一街道", Decimal("72.00"), 2),
    ]
    assert streets[1].yellow == 1


def test_trend_over_months(world):
    a = world.requirement(month=OCT, title="A", points=Decimal(10), units=[world.c1])
    _set(a, world.c1, S.ACCEPTED, Decimal(5), version=1)
    nov = world.requirement(month=dt.date(2026, 11, 1), title="A", points=Decimal(10), units=[world.c1])
    _set(nov, world.c1, S.ACCEPTED, Decimal(7), version=1)
    months = figures.months_back(dt.date(2026, 11, 1), 3)
    assert months == [dt.date(2026, 9, 1), OCT, dt.date(2026, 11, 1)]
    [line] = figures.trend(months)
    assert line["cells"][0] is None
    assert [c.percent for c in line["cells"][1:]] == [Decimal("50.00"), Decimal("70.00")]
