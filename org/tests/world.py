"""The one builder of the small test district that the apps' tests share (cases, appeals and the
apps that build on the case world: inspections, streets, notices): a district with boundaries
(so points locate), one street with two communities and a grid, the units of the case loop and
their people. Apps add their own records on top in their ``conftest.py``; a world without
boundaries (``factories.region_tree``) serves the apps that never locate a point."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from org.demo import box
from org.models import Role, Unit

from .factories import GridFactory, RegionFactory, UnitFactory, member

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    """A moment in local (Beijing) time: ``at(2026, 3, 2, 9)``."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


def bounded_district() -> SimpleNamespace:
    """District D → street S1 → communities S1C1 (with grid S1C1G1) and S1C2, boundaries as boxes
    around (31.85, 106.74); HQ 创文办, the command centre 指挥中心 with a dispatcher and an inspector, three departments with a handler each, the two community committees with a
    collector each and a street chief in the first."""
    district = RegionFactory(
        code="D",
        name="测试区",
        level="district",
        boundary=box(31.80, 106.70, 0.10, 0.10),
        lat=31.81,
        lng=106.71,
    )
    s1 = RegionFactory(
        code="S1", name="一街道", level="street", parent=district, boundary=box(31.84, 106.72, 0.02, 0.04)
    )
    c1 = RegionFactory(
        code="S1C1", name="一社区", level="community", parent=s1, boundary=box(31.84, 106.72, 0.02, 0.02)
    )
    c2 = RegionFactory(
        code="S1C2", name="二社区", level="community", parent=s1, boundary=box(31.84, 106.74, 0.02, 0.02)
    )
    grid = GridFactory(code="S1C1G1", community=c1, boundary=box(31.84, 106.72, 0.01, 0.02))
    committee = UnitFactory(code="S1C1", name="一社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=c1)
    committee2 = UnitFactory(code="S1C2", name="二社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=c2)
    command = UnitFactory(code="DISPATCH", name="指挥中心", region=district)
    dept = UnitFactory(code="D-1", name="区城管局", region=district)
    dept2 = UnitFactory(code="D-2", name="区住建局", region=district)
    dept3 = UnitFactory(code="D-3", name="区市政局", region=district)
    hq_unit = UnitFactory(code="HQ", name="创文办", kind=Unit.Kind.HQ, region=district)
    collector = member(committee, Role.COLLECTOR, username="collector")
    grid.workers.add(collector)
    return SimpleNamespace(
        district=district,
        s1=s1,
        c1=c1,
        c2=c2,
        grid=grid,
        committee=committee,
        committee2=committee2,
        command=command,
        hq_unit=hq_unit,
        dept=dept,
        dept2=dept2,
        dept3=dept3,
        collector=collector,
        collector2=member(committee2, Role.COLLECTOR, username="collector2"),
        chief=member(committee, Role.STREET_CHIEF, username="chief"),
        inspector=member(command, Role.INSPECTOR, username="inspector"),
        dispatcher=member(command, Role.DISPATCHER, username="dispatcher"),
        hq=member(hq_unit, Role.HQ_ADMIN, username="hq"),
        handler=member(dept, Role.HANDLER, username="handler"),
        handler2=member(dept2, Role.HANDLER, username="handler2"),
        handler3=member(dept3, Role.HANDLER, username="handler3"),
        in_grid=("31.845000", "106.730000"),
        in_c2=("31.850000", "106.750000"),
    )
