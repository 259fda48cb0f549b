"""Monthly figures of report materials: score, on-time rate, return rate and cards per unit or per
street/township, ranked with ties (competition ranking: 1, 2, 2, 4), and the trend over months.

- score rate 得分率 = Σ scores of accepted submissions ÷ Σ points of every submission assigned in
  the month (a submission not accepted scores 0); a unit with nothing assigned is not ranked;
- on-time rate 按时报送率 = submissions first submitted by their due date ÷ assigned;
- return rate 退回率 = submissions returned at least once ÷ submissions submitted at least once
  (no data when nothing was submitted);
- cards 红黄牌 = the unrevoked cards of the month.
Equal score rates (compared exactly, as fractions) share a rank; the next rank skips.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db.models import Q, QuerySet
from django.utils import timezone

from org.models import Region, Unit

from .models import Card, Submission

LEVELS = {"unit": "单位", "street": "街道/乡镇"}


@dataclass
class Row:
    """One ranked unit or street for one month."""

    key: int
    name: str
    assigned: int = 0
    points: Decimal = Decimal(0)
    score: Decimal = Decimal(0)
    submitted: int = 0
    on_time: int = 0
    returned: int = 0
    yellow: int = 0
    red: int = 0
    rank: int = 0

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.score) / Fraction(self.points) if self.points else None

    @property
    def percent(self) -> Decimal | None:
        rate = self.rate
        if rate is None:
            return None
        return (Decimal(rate.numerator) * 100 / Decimal(rate.denominator)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )

    @property
    def on_time_percent(self) -> Decimal | None:
        return _percent(self.on_time, self.assigned)

    @property
    def return_percent(self) -> Decimal | None:
        return _percent(self.returned, self.submitted)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01"), ROUND_HALF_UP)


def competition_rank(rows: list[Row]) -> list[Row]:
    """Sort by score rate (highest first) and rank 1, 2, 2, 4: equal rates share a rank."""
    ranked = sorted((r for r in rows if r.rate is not None), key=lambda r: (-r.rate, r.name))  # type: ignore[operator]
    previous: Fraction | None = None
    for position, row in enumerate(ranked, start=1):
        if row.rate != previous:
            row.rank, previous = position, row.rate
        else:
            row.rank = ranked[position - 2].rank
    return ranked


def _on_time(sub: Submission) -> bool:
    first = sub.first_submitted_at
    return first is not None and timezone.localtime(first).date() <= sub.requirement.due_date


def _streets() -> list[Region]:
    return list(Region.objects.filter(level__in=[Region.Level.STREET, Region.Level.TOWNSHIP]))


def monthly(month: dt.date, level: str = "unit", units: QuerySet[Unit] | None = None) -> list[Row]:
    """The ranked rows of ``month`` at ``level`` ("unit" or "street"), limited to ``units``."""
    subs = Submission.objects.filter(requirement__month=month).select_related("requirement", "unit__region")
    cards = Card.objects.filter(month=month, revoked_at__isnull=True).select_related("unit__region")
    if units is not None:
        subs, cards = subs.filter(unit__in=units), cards.filter(unit__in=units)
    rows: dict[int, Row] = {}
    if level == "street":
        streets = sorted(_streets(), key=lambda r: len(r.path), reverse=True)

        def keys(unit: Unit) -> Iterable[tuple[int, str]]:
            return [(s.pk, s.name) for s in streets if unit.region.path.startswith(s.path)][:1]
    else:

        def keys(unit: Unit) -> Iterable[tuple[int, str]]:
            return [(unit.pk, unit.name)]

    for sub in subs:
        for key, name in keys(sub.unit):
            row = rows.setdefault(key, Row(key, name))
            row.assigned += 1
            row.points += sub.requirement.points
            if sub.state == Submission.State.ACCEPTED and sub.score is not None:
                row.score += sub.score
            if sub.version:
                row.submitted += 1
            if _on_time(sub):
                row.on_time += 1
            if sub.return_count:
                row.returned += 1
    for card in cards:
        for key, _name in keys(card.unit):
            if key in rows:
                if card.color == Card.Color.RED:
                    rows[key].red += 1
                else:
                    rows[key].yellow += 1
    return competition_rank(list(rows.values()))


def months_back(last: dt.date, count: int) -> list[dt.date]:
    """``count`` months ending with ``last``, oldest first."""
    months = [last.replace(day=1)]
    while len(months) < count:
        months.insert(0, (months[0] - dt.timedelta(days=1)).replace(day=1))
    return months


def trend(months: list[dt.date], level: str = "unit", units: QuerySet[Unit] | None = None):
    """Per unit or street, its (rank, percent) in each month (None where it had nothing)."""
    table: dict[int, dict] = {}
    for index, month in enumerate(months):
        for row in monthly(month, level, units):
            line = table.setdefault(
                row.key, {"key": row.key, "name": row.name, "cells": [None] * len(months)}
            )
            line["cells"][index] = row
    return sorted(table.values(), key=lambda line: line["name"])


@dataclass
class UnitCards:
    """A unit's cards over some months as of a moment: the submissions it was assigned (so it took
    part in 网报) and the ids of the yellow and red cards in force then."""

    submissions: list[int] = field(default_factory=list)
    yellow: list[int] = field(default_factory=list)
    red: list[int] = field(default_factory=list)


def cards_as_of(months: list[dt.date], unit_ids: Iterable[int], at: dt.datetime) -> dict[int, UnitCards]:
    """For the units that were assigned materials in ``months`` or got a card for one of them: the
    submissions assigned and the cards issued by ``at`` and not revoked by then (a card revoked
    later still counted at ``at``). Units with neither are left out (no data)."""
    ids = list(unit_ids)
    out: dict[int, UnitCards] = {}
    subs = Submission.objects.filter(requirement__month__in=months, unit_id__in=ids)
    for pk, unit_id in subs.order_by("pk").values_list("pk", "unit_id"):
        out.setdefault(unit_id, UnitCards()).submissions.append(pk)
    cards = (
        Card.objects.filter(month__in=months, unit_id__in=ids, issued_at__lte=at)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
        .order_by("pk")
    )
    for pk, unit_id, color in cards.values_list("pk", "unit_id", "color"):
        mine = out.setdefault(unit_id, UnitCards())
        (mine.red if color == Card.Color.RED else mine.yellow).append(pk)
    return out
