"""The demo world has the shape DESIGN.md gives 巴州区, loads idempotently, and every printed
login reaches its home page."""

import pytest
from django.db.models import Count

from org import demo
from org.models import Contract, Grid, Membership, Region, Role, Site, StreetSegment, Unit, User

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The demo world, loaded once for this module (each test still runs in its own transaction)
    and removed afterwards so that other modules start from an empty database."""
    with django_db_blocker.unblock():
        demo.load()
    yield
    with django_db_blocker.unblock():
        for model in (Contract, StreetSegment, Grid, Site, Membership, Unit, User):
            model.objects.all().delete()
        for level in ("group", "village", "community", "township", "street", "district"):
            Region.objects.filter(level=level).delete()


def test_region_tree_has_the_seed_shape(world):
    levels = dict(Region.objects.values_list("level").annotate(n=Count("id")))
    assert levels == {
        Region.Level.DISTRICT: 1,
        Region.Level.STREET: 6,
        Region.Level.COMMUNITY: 27,
        Region.Level.TOWNSHIP: 16,
        Region.Level.VILLAGE: 48,
        Region.Level.GROUP: 121,
    }
    assert not Region.objects.filter(level=Region.Level.TOWNSHIP, children__isnull=True).exists()
    for region in Region.objects.select_related("parent"):
        expected = (region.parent.path if region.parent else "/") + region.code + "/"
        assert region.path == expected
        region.clean()  # every level hangs under a level it may


def test_units_sites_and_people(world):
    assert Unit.objects.count() == 93
    assert Site.objects.filter(kind=Site.Kind.MARKET).count() == 12
    # Every unit has someone to handle its work.
    assert not Unit.objects.exclude(memberships__role=Role.HANDLER).exists()
    # Every street, township and community has its territorial unit.
    for level, kind in (
        (Region.Level.STREET, Unit.Kind.STREET_OFFICE),
        (Region.Level.TOWNSHIP, Unit.Kind.TOWNSHIP_GOVERNMENT),
        (Region.Level.COMMUNITY, Unit.Kind.COMMUNITY_COMMITTEE),
    ):
        assert not Region.objects.filter(level=level).exclude(units__kind=kind).exists()


def test_28_leaders_contract_the_streets_communities_townships_and_markets(world):
    leaders = User.objects.filter(username__startswith="leader", memberships__role=Role.LEADER).distinct()
    assert leaders.filter(username__regex=r"^leader\d\d$").count() == 28
    by_leaders = Contract.objects.active().filter(leader__username__regex=r"^leader\d\d$")
    assert set(by_leaders.values_list("leader", flat=True)) == set(
        leaders.filter(username__regex=r"^leader\d\d$").values_list("pk", flat=True)
    )
    contracted = Region.objects.filter(contracts__in=by_leaders)
    for level, n in (
        (Region.Level.STREET, 6),
        (Region.Level.COMMUNITY, 27),
        (Region.Level.TOWNSHIP, 16),
    ):
        assert contracted.filter(level=level).distinct().count() == n
    assert Site.objects.filter(kind=Site.Kind.MARKET, contracts__in=by_leaders).distinct().count() == 12


def test_93_units_contract_the_121_resident_groups(world):
    by_units = Contract.objects.active().filter(unit__isnull=False)
    assert by_units.values("unit").distinct().count() == 93
    groups = Region.objects.filter(level=Region.Level.GROUP)
    assert groups.filter(contracts__in=by_units).distinct().count() == 121


def test_grids_have_workers_and_segments_have_chiefs(world):
    assert Grid.objects.count() == 27 * 3 + 48
    assert not Grid.objects.filter(workers__isnull=True).exists()
    assert set(Grid.objects.values_list("community__level", flat=True)) == {
        Region.Level.COMMUNITY,
        Region.Level.VILLAGE,
    }
    workers = User.objects.filter(grids__isnull=False).distinct()
    assert not workers.exclude(memberships__role=Role.COLLECTOR).exists()
    assert StreetSegment.objects.count() == 27 * 2
    assert not StreetSegment.objects.filter(chief__isnull=True).exists()


def test_one_demo_login_per_role(world):
    roles = {role for _u, _n, role, _c, _d in demo.DEMO_LOGINS}
    assert roles == set(Role.values)
    for username, _name, role, unit_code, _d in demo.DEMO_LOGINS:
        assert Membership.objects.filter(user__username=username, role=role, unit__code=unit_code).exists()


def org_snapshot() -> list:
    return [
        list(model.objects.order_by("pk").values())
        for model in (Region, Unit, User, Membership, Site, Contract, Grid, StreetSegment)
    ] + [sorted(Grid.workers.through.objects.values_list("grid_id", "user_id"))]


def test_loading_twice_changes_nothing(world):
    before = org_snapshot()
    demo.load()
    assert org_snapshot() == before


def test_reloading_keeps_a_changed_password(world):
    hq = User.objects.get(username="hq")
    hq.set_password("a-new-secret-2026")
    hq.save()
    demo.load()
    hq.refresh_from_db()
    assert hq.check_password("a-new-secret-2026")


@pytest.mark.parametrize("login", demo.DEMO_LOGINS, ids=[login[0] for login in demo.DEMO_LOGINS])
def test_each_demo_login_reaches_its_home_page(client, world, login):
    username, name, role, _unit, _description = login
    response = client.post("/login/", {"username": username, "password": demo.DEMO_PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/"
    body = response.content.decode()
    assert f"您好，{name}" in body
    assert Role(role).label in body
    for item in [i for group in response.context["nav_groups"] for i in group["items"]]:
        # Every menu entry opens (a page may send on to another, e.g. when nothing is set up yet).
        assert client.get(item["url"], follow=True).status_code == 200, item
