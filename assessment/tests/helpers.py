"""Shared pieces of the assessment tests: a small world of six departments with hand-countable
tasks and cases (the ``world`` fixture in conftest.py), and helpers."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from assessment import services
from assessment.models import Run, Scheme
from cases.models import Case
from cases.tests.factories import CaseFactory
from indicators.models import Task
from indicators.tests.factories import TaskFactory
from org.audit import Actor
from org.models import Role, Unit
from org.tests.factories import UnitFactory, member

TZ = timezone.get_current_timezone()


def at(day: int, hour: int = 10, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=TZ)


def task(unit: Unit, deadline: int, closed: int | None = None) -> Task:
    return TaskFactory(
        lead_unit=unit,
        deadline=dt.date(2026, 11, deadline),
        state=Task.State.CLOSED if closed else Task.State.IN_PROGRESS,
        closed_at=at(closed) if closed else None,
    )


def handled_case(unit: Unit, handled: int) -> Case:
    """A case accepted on 11-10 with its part due 11-15, handled on ``handled``."""
    return CaseFactory(
        lead_unit=unit,
        status=Case.Status.HANDLED,
        reported_at=at(10),
        accepted_at=at(10),
        dispatched_at=at(10),
        handle_deadline=at(15),
        handled_at=at(handled),
    )


def scheme(hq, no_data=Scheme.NoData.REWEIGHT, weights=None) -> Scheme:
    spec = services.SchemeSpec(
        name="部门月考评",
        period_kind="month",
        unit_kinds=[Unit.Kind.DEPARTMENT],
        weights=weights or {"tasks": 60, "cases": 40},
        no_data=no_data,
        list_size=2,
    )
    return services.save_scheme(Actor(hq), spec)


def table(run: Run) -> dict[str, tuple[Decimal | None, int | None]]:
    return {s.unit.name: (s.total, s.rank) for s in run.scores.select_related("unit")}


def make_world():
    units = {name: UnitFactory(name=name, code=f"T{name}") for name in "ABCDEF"}
    hq = member(UnitFactory(kind=Unit.Kind.HQ, code="HQ"), Role.HQ_ADMIN, username="hq")
    # tasks 任务按期销号率: A 2/2, B 1/2, C 1/2, D 0/1, F 1/2, E none
    task(units["A"], 10, 9), task(units["A"], 20, 20)
    task(units["B"], 10, 9), task(units["B"], 20, 25)
    task(units["C"], 10, 9), task(units["C"], 20)
    task(units["D"], 10)
    task(units["F"], 12, 12), task(units["F"], 28)
    # cases: A handled on time → 30+20+20+20+10 = 100; C handled late → 30+0+20+20+10 = 80
    handled_case(units["A"], 11)
    handled_case(units["C"], 20)
    return units, hq
