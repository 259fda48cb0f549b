"""Factories for organisation test data, shared by every app's tests."""

import datetime as dt
from functools import cache

import factory
from django.contrib.auth.hashers import make_password

from org.models import Contract, Grid, Membership, Region, Role, Site, Unit, User


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:05d}")
    name = factory.Sequence(lambda n: f"区域{n}")
    level = Region.Level.DISTRICT
    parent = None


def region_tree() -> dict[str, Region]:
    """A small tree: district → two streets → a community each → a group."""
    district = RegionFactory(code="D", name="测试区", level=Region.Level.DISTRICT)
    s1 = RegionFactory(code="S1", name="一街道", level=Region.Level.STREET, parent=district)
    s2 = RegionFactory(code="S2", name="二街道", level=Region.Level.STREET, parent=district)
    c1 = RegionFactory(code="S1C1", name="一社区", level=Region.Level.COMMUNITY, parent=s1)
    c2 = RegionFactory(code="S2C1", name="二社区", level=Region.Level.COMMUNITY, parent=s2)
    g1 = RegionFactory(code="S1C1G1", name="一小组", level=Region.Level.GROUP, parent=c1)
    return {"district": district, "s1": s1, "s2": s2, "c1": c1, "c2": c2, "g1": g1}


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"U{n:05d}")
    name = factory.Sequence(lambda n: f"单位{n}")
    kind = Unit.Kind.DEPARTMENT
    region = factory.SubFactory(RegionFactory)


TEST_PASSWORD = "pw-for-tests-1"


@cache
def _test_password_hash() -> str:
    # Hashing once per run, not once per person: a strong hash costs most of a second.
    return make_password(TEST_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"人员{n}")
    password = factory.LazyFunction(_test_password_hash)


def member(unit: Unit, role: str = Role.HANDLER, user: User | None = None, **kwargs) -> User:
    """A person holding ``role`` in ``unit`` (a new person unless one is given)."""
    user = user or UserFactory(**kwargs)
    Membership.objects.get_or_create(user=user, unit=unit, role=role)
    return user


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"点位{n}")
    kind = Site.Kind.MARKET
    region = factory.SubFactory(RegionFactory)


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    code = factory.Sequence(lambda n: f"G{n:05d}")
    name = factory.Sequence(lambda n: f"网格{n}")
    community = factory.SubFactory(RegionFactory)


def contract(
    *, leader=None, unit=None, region=None, site=None, start=dt.date(2026, 1, 1), end=None
) -> Contract:
    return Contract.objects.create(leader=leader, unit=unit, region=region, site=site, start=start, end=end)
