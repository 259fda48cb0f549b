"""The leader's view 包保考评: a leader sees the results and history of the units in the areas and
sites they contract, and nothing else; other roles are refused."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from assessment import services
from assessment.tests.helpers import at, task
from org.audit import Actor
from org.models import Role, Unit
from org.tests.factories import SiteFactory, UnitFactory, contract, member, region_tree

pytestmark = pytest.mark.django_db
API = "/api/v1/assessment"


@pytest.fixture
def leaders():
    r = region_tree()
    hq_unit = UnitFactory(kind=Unit.Kind.HQ, code="HQ", region=r["district"])
    hq = member(hq_unit, Role.HQ_ADMIN, username="hq")
    units = {
        "S1": UnitFactory(code="S1", name="一街道办", kind=Unit.Kind.STREET_OFFICE, region=r["s1"]),
        "C1": UnitFactory(code="S1C1", name="一社区", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=r["c1"]),
        "S2": UnitFactory(code="S2", name="二街道办", kind=Unit.Kind.STREET_OFFICE, region=r["s2"]),
        "C2": UnitFactory(code="S2C1", name="二社区", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=r["c2"]),
        "D": UnitFactory(code="D1", name="城管局", region=r["district"]),
        "E": UnitFactory(code="D2", name="住建局", region=r["district"]),
    }
    # tasks due in November: S1 1/1, C1 0/1, S2 1/1, C2 1/2, D 1/1, E 0/1
    for code, closed in (("S1", 9), ("C1", None), ("S2", 9), ("C2", 9), ("D", 9), ("E", None)):
        task(units[code], 10, closed)
    task(units["C2"], 10)
    market = SiteFactory(name="农贸市场", region=r["district"])
    contract(unit=units["D"], site=market)  # 城管局 answers for the market
    contract(unit=units["E"], site=SiteFactory(name="车站", region=r["district"]))
    leader = member(hq_unit, Role.LEADER, username="leader")
    contract(leader=leader, region=r["s1"])
    contract(leader=leader, site=market)
    contract(leader=leader, region=r["s2"], end=dt.date(2026, 6, 30))  # ended: not theirs now
    other_leader = member(hq_unit, Role.LEADER, username="leader2")
    contract(leader=other_leader, region=r["s2"])
    spec = services.SchemeSpec(
        "综合月考评",
        "month",
        [Unit.Kind.STREET_OFFICE, Unit.Kind.COMMUNITY_COMMITTEE, Unit.Kind.DEPARTMENT],
        {"tasks": 100},
    )
    scheme = services.save_scheme(Actor(hq), spec)
    run = services.compute_run(Actor(hq), scheme, dt.date(2026, 11, 5), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    return hq, leader, other_leader, units, run


def test_leader_sees_the_contracted_areas_units_only(client, leaders):
    hq, leader, _other, units, run = leaders
    areas = services.leader_view(leader)
    assert [(a.label, a.kind, [r.unit.name for r in rows]) for a, rows in areas] == [
        ("一街道", "region", ["一街道办", "一社区"]),
        ("农贸市场（点位）", "site", ["城管局"]),
    ]
    # S1, S2, D tie first at 100; C2 50 is fourth; C1 and E 0 tie fifth
    latest = {
        r.unit.name: [(s.total, s.rank, s.movement) for s in r.latest] for _a, rows in areas for r in rows
    }
    assert latest == {
        "一街道办": [(Decimal("100.00"), 1, "")],
        "一社区": [(Decimal("0.00"), 5, "")],
        "城管局": [(Decimal("100.00"), 1, "")],
    }
    client.force_login(leader)
    page = client.get(reverse("assessment:leader"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "一街道办" in html and "城管局" in html and "农贸市场（点位）" in html
    assert "二街道办" not in html and "二社区" not in html and "住建局" not in html
    body = client.get(f"{API}/leader").json()
    assert [(a["area"], [u["unit"] for u in a["units"]]) for a in body] == [
        ("一街道", ["一街道办", "一社区"]),
        ("农贸市场（点位）", ["城管局"]),
    ]
    assert body[0]["units"][1]["latest"][0]["rank"] == 5
    assert body[0]["units"][1]["history"][0]["run_id"] == run.pk
    # history of a contracted unit: yes (without links to the whole run); of another: 403
    own = client.get(reverse("assessment:history", args=[units["C1"].pk]))
    assert own.status_code == 200 and reverse("assessment:run", args=[run.pk]) not in own.content.decode()
    assert client.get(f"{API}/units/{units['D'].pk}/history").json()[0]["rank"] == 1
    for code in ("S2", "C2", "E"):
        assert client.get(reverse("assessment:history", args=[units[code].pk])).status_code == 403
        assert client.get(f"{API}/units/{units[code].pk}/history").status_code == 403
    # nothing else: not the run (every unit's scores), not the runs list, not the schemes
    assert client.get(reverse("assessment:run", args=[run.pk])).status_code == 404
    assert client.get(f"{API}/runs/{run.pk}").status_code == 404
    assert "一街道办" not in client.get(reverse("assessment:runs")).content.decode()
    assert client.get(reverse("assessment:schemes")).status_code == 403


def test_another_leader_sees_their_own_contracts(client, leaders):
    _hq, _leader, other, units, _run = leaders
    client.force_login(other)
    body = client.get(f"{API}/leader").json()
    assert [(a["area"], [u["unit"] for u in a["units"]]) for a in body] == [
        ("二街道", ["二街道办", "二社区"])
    ]
    assert client.get(f"{API}/units/{units['S1'].pk}/history").status_code == 403


@pytest.mark.parametrize("role", [Role.HQ_ADMIN, Role.HANDLER, Role.REPORT_CLERK, Role.INSPECTOR])
def test_other_roles_are_refused_the_leader_view(client, leaders, role):
    _hq, _leader, _other, units, _run = leaders
    client.force_login(member(units["C1"], role, username=f"u-{role}"))
    assert client.get(reverse("assessment:leader")).status_code == 403
    assert client.get(f"{API}/leader").status_code == 403


def test_a_leader_without_active_contracts_sees_nothing(client, leaders):
    hq, _leader, _other, units, _run = leaders
    lonely = member(UnitFactory(code="L9", kind=Unit.Kind.HQ), Role.LEADER, username="lonely")
    assert services.leader_view(lonely) == []
    client.force_login(lonely)
    assert "没有生效的包保关系" in client.get(reverse("assessment:leader")).content.decode()
    assert client.get(f"{API}/units/{units['S1'].pk}/history").status_code == 403


def test_a_superuser_is_offered_the_page_and_sees_their_own_contracts(client, leaders):
    _hq, _leader, _other, _units, _run = leaders
    root = member(
        UnitFactory(code="R9", kind=Unit.Kind.HQ), Role.HQ_ADMIN, username="root", is_superuser=True
    )
    client.force_login(root)
    assert "没有生效的包保关系" in client.get(reverse("assessment:leader")).content.decode()
    assert client.get(f"{API}/leader").json() == []
