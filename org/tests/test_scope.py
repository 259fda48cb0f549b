"""Each scope rule, through Scope.filter, the pages and the API: nobody sees a region's or a
unit's data outside their scope."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from org.models import Grid, Region, Role, Site, StreetSegment, Unit
from org.scope import scope_for
from org.tests.factories import (
    GridFactory,
    RegionFactory,
    SiteFactory,
    UnitFactory,
    UserFactory,
    contract,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two streets with a community each, units at every level, grids, sites and people."""
    r = {}
    r["district"] = RegionFactory(code="D", name="测试区", level=Region.Level.DISTRICT)
    r["s1"] = RegionFactory(code="S1", name="甲街道", level=Region.Level.STREET, parent=r["district"])
    r["s2"] = RegionFactory(code="S2", name="乙街道", level=Region.Level.STREET, parent=r["district"])
    # "S10" starts with "S1": a subtree must be a path prefix, never a code prefix.
    r["s10"] = RegionFactory(code="S10", name="丙街道", level=Region.Level.STREET, parent=r["district"])
    r["c1"] = RegionFactory(code="S1C1", name="甲社区", level=Region.Level.COMMUNITY, parent=r["s1"])
    r["c2"] = RegionFactory(code="S2C1", name="乙社区", level=Region.Level.COMMUNITY, parent=r["s2"])
    r["g1"] = RegionFactory(code="S1C1G1", name="甲一小组", level=Region.Level.GROUP, parent=r["c1"])
    r["g2"] = RegionFactory(code="S2C1G1", name="乙一小组", level=Region.Level.GROUP, parent=r["c2"])
    u = {
        "hq": UnitFactory(code="HQ", name="创文办", kind=Unit.Kind.HQ, region=r["district"]),
        "dept": UnitFactory(code="DEPT", name="城管局", kind=Unit.Kind.DEPARTMENT, region=r["district"]),
        "dept2": UnitFactory(code="DEPT2", name="住建局", kind=Unit.Kind.DEPARTMENT, region=r["district"]),
        "office1": UnitFactory(code="O1", name="甲街道办", kind=Unit.Kind.STREET_OFFICE, region=r["s1"]),
        "office2": UnitFactory(code="O2", name="乙街道办", kind=Unit.Kind.STREET_OFFICE, region=r["s2"]),
        "office10": UnitFactory(code="O10", name="丙街道办", kind=Unit.Kind.STREET_OFFICE, region=r["s10"]),
        "com1": UnitFactory(
            code="C1", name="甲社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=r["c1"]
        ),
        "com2": UnitFactory(
            code="C2", name="乙社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=r["c2"]
        ),
    }
    grids = {
        "c1a": GridFactory(code="GA", name="甲社区第1网格", community=r["c1"]),
        "c1b": GridFactory(code="GB", name="甲社区第2网格", community=r["c1"]),
        "c2a": GridFactory(code="GC", name="乙社区第1网格", community=r["c2"]),
    }
    sites = {
        "m1": SiteFactory(code="M1", name="甲市场", region=r["c1"]),
        "m2": SiteFactory(code="M2", name="乙市场", region=r["c2"]),
        "m10": SiteFactory(code="M10", name="丙市场", region=r["s10"]),
    }
    p = {
        "hq": member(u["hq"], Role.HQ_ADMIN, username="hq"),
        "dispatcher": member(u["hq"], Role.DISPATCHER, username="dispatcher"),
        "inspector": member(u["hq"], Role.INSPECTOR, username="inspector"),
        "dept": member(u["dept"], Role.HANDLER, username="dept"),
        "street": member(u["office1"], Role.HANDLER, username="street"),
        "community": member(u["com1"], Role.HANDLER, username="community"),
        "clerk": member(u["com2"], Role.REPORT_CLERK, username="clerk"),
        "collector": member(u["com1"], Role.COLLECTOR, username="collector"),
        "chief": member(u["com1"], Role.STREET_CHIEF, username="chief"),
        "volunteer": member(u["com1"], Role.VOLUNTEER, username="volunteer"),
        "leader": member(u["hq"], Role.LEADER, username="leader"),
        "retired": member(u["hq"], Role.LEADER, username="retired"),
        "nobody": UserFactory(username="nobody"),
    }
    grids["c1a"].workers.add(p["collector"])
    segments = {
        "l1": StreetSegment.objects.create(code="L1", name="甲路", region=r["c1"], chief=p["chief"]),
        "l2": StreetSegment.objects.create(code="L2", name="甲巷", region=r["c1"]),
    }
    # The leader answers for street 乙 and market 甲; the department for resident group 乙一.
    contract(leader=p["leader"], region=r["s2"])
    contract(leader=p["leader"], site=sites["m1"])
    contract(unit=u["dept"], region=r["g2"])
    # A contract that ended and one not yet started give nothing.
    contract(leader=p["retired"], region=r["s1"], start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31))
    contract(leader=p["retired"], region=r["s2"], start=dt.date(2999, 1, 1))
    return {"regions": r, "units": u, "grids": grids, "sites": sites, "people": p, "segments": segments}


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def region_codes(user) -> set[str]:
    return codes(scope_for(user).regions())


def unit_codes(user) -> set[str]:
    return codes(scope_for(user).units())


def site_codes(user) -> set[str]:
    return codes(scope_for(user).filter(Site.objects.all(), unit=None, region="region", site="pk"))


def grid_codes(user) -> set[str]:
    return codes(scope_for(user).filter(Grid.objects.all(), unit=None, region="community", grid="pk"))


def segment_codes(user) -> set[str]:
    return codes(scope_for(user).filter(StreetSegment.objects.all(), unit=None, segment="pk"))


ALL_REGIONS = {"D", "S1", "S2", "S10", "S1C1", "S2C1", "S1C1G1", "S2C1G1"}
ALL_UNITS = {"HQ", "DEPT", "DEPT2", "O1", "O2", "O10", "C1", "C2"}

# username → (regions, units, sites, grids, segments) the person may see.
EXPECTED = {
    "hq": (ALL_REGIONS, ALL_UNITS, {"M1", "M2", "M10"}, {"GA", "GB", "GC"}, {"L1", "L2"}),
    "dispatcher": (ALL_REGIONS, ALL_UNITS, {"M1", "M2", "M10"}, {"GA", "GB", "GC"}, {"L1", "L2"}),
    "inspector": (ALL_REGIONS, ALL_UNITS, {"M1", "M2", "M10"}, {"GA", "GB", "GC"}, {"L1", "L2"}),
    # A department: its own unit, and the resident group it contracts.
    "dept": ({"S2C1G1"}, {"DEPT"}, set(), set(), set()),
    # A street office: its street's subtree (not 丙街道 "S10", whose code starts with "S1").
    "street": ({"S1", "S1C1", "S1C1G1"}, {"O1", "C1"}, {"M1"}, {"GA", "GB"}, {"L1", "L2"}),
    "community": ({"S1C1", "S1C1G1"}, {"C1"}, {"M1"}, {"GA", "GB"}, {"L1", "L2"}),
    "clerk": ({"S2C1", "S2C1G1"}, {"C2"}, {"M2"}, {"GC"}, set()),
    # A grid worker: their grid only, not the committee's territory or its other grid.
    "collector": (set(), set(), set(), {"GA"}, set()),
    # A street chief: their segment only.
    "chief": (set(), set(), set(), set(), {"L1"}),
    "volunteer": (set(), set(), set(), set(), set()),
    # A leader: the street and the market they contract, and the units located there.
    "leader": ({"S2", "S2C1", "S2C1G1"}, {"O2", "C2"}, {"M1", "M2"}, {"GC"}, set()),
    "retired": (set(), set(), set(), set(), set()),
    "nobody": (set(), set(), set(), set(), set()),
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_scope_filter_gives_each_person_exactly_their_scope(world, username):
    user = world["people"][username]
    regions, units, sites, grids, segments = EXPECTED[username]
    assert region_codes(user) == regions
    assert unit_codes(user) == units
    assert site_codes(user) == sites
    assert grid_codes(user) == grids
    assert segment_codes(user) == segments


@pytest.mark.parametrize("username", ["hq", "dispatcher", "inspector"])
def test_district_wide_roles_see_everything(world, username):
    scope = scope_for(world["people"][username])
    assert scope.everything
    assert scope.allows_region(world["regions"]["g2"])
    assert scope.allows_unit(world["units"]["dept2"].pk)


def test_anonymous_and_inactive_people_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not scope_for(AnonymousUser()).filter(Unit.objects.all()).exists()
    street = world["people"]["street"]
    street.is_active = False
    street.save()
    street.refresh_from_db()
    assert not scope_for(street).regions().exists()


def test_allows_region_follows_the_subtree(world):
    scope = scope_for(world["people"]["street"])
    r = world["regions"]
    assert scope.allows_region(r["g1"])
    assert not scope.allows_region(r["s10"])
    assert not scope.allows_region(r["district"])
    assert not scope.allows_region(None)


def test_a_membership_in_several_units_adds_their_scopes(world):
    person = world["people"]["community"]
    member(world["units"]["com2"], Role.REPORT_CLERK, user=person)
    person.refresh_from_db()
    assert region_codes(person) == {"S1C1", "S1C1G1", "S2C1", "S2C1G1"}
    scope = scope_for(person)
    assert scope.acts_for(world["units"]["com1"].pk, Role.HANDLER)
    assert not scope.acts_for(world["units"]["com1"].pk, Role.REPORT_CLERK)
    assert scope.acts_for(world["units"]["com2"].pk, Role.REPORT_CLERK)


def test_a_superuser_sees_everything(world):
    admin = UserFactory(username="root", is_superuser=True)
    assert region_codes(admin) == ALL_REGIONS


def page_codes(client, user, url: str) -> set[str]:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    rows = response.context["page"]
    return {obj.code for obj in rows}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_units_page_lists_only_the_scope(client, world, username):
    user = world["people"][username]
    assert page_codes(client, user, "/org/units/") == EXPECTED[username][1]


@pytest.mark.parametrize("username", ["hq", "street", "community", "leader", "dept"])
def test_regions_page_lists_only_the_scope(client, world, username):
    user = world["people"][username]
    assert page_codes(client, user, "/org/regions/") == EXPECTED[username][0]


def test_out_of_scope_rows_are_not_in_the_html(client, world):
    client.force_login(world["people"]["community"])
    body = client.get("/org/units/").content.decode()
    assert "甲社区居委会" in body
    for name in ("乙社区居委会", "甲街道办", "城管局", "创文办"):
        assert name not in body
    body = client.get("/org/regions/?q=乙").content.decode()
    assert "乙社区" not in body and "乙街道" not in body


def test_contracts_page_shows_a_leader_only_their_own(client, world):
    other = member(world["units"]["hq"], Role.LEADER, username="other-leader")
    contract(leader=other, region=world["regions"]["s1"])
    client.force_login(world["people"]["leader"])
    response = client.get("/org/contracts/")
    assert response.status_code == 200
    shown = {(c.leader_id, c.region_id, c.site_id) for c in response.context["page"]}
    leader = world["people"]["leader"]
    assert shown == {
        (leader.pk, world["regions"]["s2"].pk, None),
        (leader.pk, None, world["sites"]["m1"].pk),
    }
    client.force_login(world["people"]["hq"])
    assert len(client.get("/org/contracts/").context["page"]) == 4


@pytest.mark.parametrize("username", ["street", "community", "collector", "volunteer", "dept"])
def test_contracts_and_import_pages_are_forbidden_without_the_role(client, world, username):
    client.force_login(world["people"][username])
    assert client.get("/org/contracts/").status_code == 403
    assert client.get("/org/import/").status_code == 403


def api_codes(client, user, path: str) -> set[str]:
    client.force_login(user)
    response = client.get(f"/api/v1/org/{path}?limit=1000")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["items"])
    return {item["code"] for item in body["items"]}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_api_lists_only_the_scope(client, world, username):
    user = world["people"][username]
    regions, units, *_ = EXPECTED[username]
    assert api_codes(client, user, "regions") == regions
    assert api_codes(client, user, "units") == units


def test_api_filters_cannot_widen_the_scope(client, world):
    client.force_login(world["people"]["community"])
    s2 = world["regions"]["s2"]
    response = client.get(f"/api/v1/org/regions?parent_id={s2.pk}")
    assert response.json()["items"] == []
    response = client.get("/api/v1/org/units?q=乙")
    assert response.json()["items"] == []


def test_a_device_token_carries_its_holders_scope(client, world):
    from org.audit import Actor
    from org.services import issue_token

    user = world["people"]["community"]
    _token, key = issue_token(Actor(user=user), user, "手机")
    response = client.get("/api/v1/org/units", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert {u["code"] for u in response.json()["items"]} == {"C1"}


@settings(max_examples=40, deadline=None, database=None)
@given(
    street_codes=st.lists(
        st.text(alphabet="AB1", min_size=1, max_size=3), min_size=2, max_size=6, unique=True
    ),
    pick=st.integers(min_value=0),
)
def test_a_territorial_scope_is_exactly_the_region_subtree(street_codes, pick):
    """Streets whose codes are prefixes of each other ("A", "A1") never leak into each other."""
    from django.db import transaction

    with transaction.atomic():
        district = Region.objects.create(code="ROOT", name="区", level=Region.Level.DISTRICT)
        streets = [
            Region.objects.create(code=c, name=c, level=Region.Level.STREET, parent=district)
            for c in street_codes
        ]
        communities = [
            Region.objects.create(code=f"{c}-C", name=c, level=Region.Level.COMMUNITY, parent=s)
            for c, s in zip(street_codes, streets, strict=True)
        ]
        chosen = streets[pick % len(streets)]
        office = Unit.objects.create(code="OFF", name="办", kind=Unit.Kind.STREET_OFFICE, region=chosen)
        user = member(office, Role.HANDLER, username="h")
        assert codes(scope_for(user).regions()) == {chosen.code, f"{chosen.code}-C"}
        assert len(communities) == len(streets)
        transaction.set_rollback(True)
