"""The case tests' small world (boundaries, units, people, a clock) with an index system, a
market checklist, three sites with contracts and an inspector, for the inspection tests."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from cases.tests import conftest as case_fixtures
from cases.tests.conftest import actor, at, jpeg
from cases.tests.factories import RoutingRuleFactory
from indicators.models import Criterion
from indicators.tests.factories import (
    CriterionFactory,
    IndexItemFactory,
    IndexProjectFactory,
    IndexSystemFactory,
)
from inspections import services
from inspections.models import CheckItem, Round
from org.models import Role, Site, Unit
from org.tests.factories import SiteFactory, UnitFactory, contract, member

__all__ = ["actor", "at", "jpeg"]

# The case tests' fixtures, registered here as well.
world = case_fixtures.world
clock = case_fixtures.clock


@pytest.fixture
def insp(world, clock):
    """An active index system with three 实地考察 criteria (10, 5 and 4 points) and one 材料审核;
    the market checklist: A per occurrence 2 (cap 6, → 暴露垃圾 cases), B fixed 3, C fail-all
    without photo; markets M1 (一社区, contracted by D-1 and a leader) and M2 (二社区), a school."""
    system = IndexSystemFactory(is_active=True, version="2026版")
    project = IndexProjectFactory(system=system, code="P1")
    item = IndexItemFactory(project=project, code="P1-01")
    a = CriterionFactory(item=item, code="A", points=Decimal(10), text="市场内无暴露垃圾")
    b = CriterionFactory(item=item, code="B", points=Decimal(5), text="公益广告醒目")
    c = CriterionFactory(item=item, code="C", points=Decimal(4), text="无活禽宰杀")
    CriterionFactory(item=item, code="M", method=Criterion.Method.MATERIAL)
    checklist = services.build_checklist(actor(world.hq), system, Site.Kind.MARKET, [a, b, c])
    items = {i.code: i for i in checklist.items.all()}
    items["A"].rule, items["A"].unit_deduction, items["A"].cap = CheckItem.Rule.PER_OCCURRENCE, 2, 6
    items["A"].category = world.garbage
    items["B"].rule, items["B"].unit_deduction = CheckItem.Rule.FIXED, 3
    items["C"].rule, items["C"].photo_required = CheckItem.Rule.FAIL_ALL, False
    for i in items.values():
        i.save()
    m1 = SiteFactory(code="M1", name="一号市场", region=world.c1, lat=31.845, lng=106.73, address="一社区1号")
    m2 = SiteFactory(code="M2", name="二号市场", region=world.c2, lat=31.85, lng=106.75)
    school = SiteFactory(
        code="X1", name="一小周边", kind=Site.Kind.SCHOOL, region=world.c1, lat=31.845, lng=106.73
    )
    leader = member(
        UnitFactory(code="LEAD", kind=Unit.Kind.HQ, region=world.district), Role.LEADER, username="leader"
    )
    contract(unit=world.dept, site=m1)
    contract(leader=leader, site=m1)
    RoutingRuleFactory(category=world.garbage, region=world.s1, unit=world.dept)
    return SimpleNamespace(
        system=system, checklist=checklist, items=items, m1=m1, m2=m2, school=school, leader=leader
    )


def plan(world, insp, kind=Round.Kind.SUPERVISION, sites=None, start=dt.date(2026, 3, 2), days=4, **kwargs):
    return services.plan_round(
        actor(world.hq),
        title=f"测试{kind}",
        kind=kind,
        starts_on=start,
        ends_on=start + dt.timedelta(days=days),
        inspectors=[world.inspector],
        sites=sites if sites is not None else [insp.m1, insp.m2],
        **kwargs,
    )


def lines(insp, a="fail", b="pass", c="fail", **overrides):
    """The market checklist marked: A failed twice with a photo, B passed, C failed (no photo)."""
    marked = {
        "A": services.Line(
            insp.items["A"].pk, a, occurrences=2, note="垃圾桶满溢", photos=[jpeg(exif_gps=True)]
        ),
        "B": services.Line(insp.items["B"].pk, b),
        "C": services.Line(insp.items["C"].pk, c),
    }
    for code, line in overrides.items():
        marked[code] = line
    return [line for line in marked.values() if line is not None]
