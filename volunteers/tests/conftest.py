"""A small practice network for the volunteer tests: a centre over a street station over a
community point, two teams, volunteers with logins, a menu, a points rule and a shop."""

from types import SimpleNamespace

import pytest

from org.audit import Actor
from org.models import Role, Unit
from org.tests.factories import UserFactory, member, region_tree
from volunteers.models import Goods, PointsRule, Service, ServiceKind, Station, Team

from .factories import station, volunteer

CITIZEN = Actor(user=None, ip="203.0.113.7", via="public")


def actor(user, via: str = "web") -> Actor:
    return Actor(user=user, ip="127.0.0.1", via=via)


@pytest.fixture
def world(db):
    regions = region_tree()
    hq_unit = Unit.objects.create(code="HQ", name="创文办", kind=Unit.Kind.HQ, region=regions["district"])
    hq = member(hq_unit, Role.HQ_ADMIN, username="hq")
    centre_staff = UserFactory(username="centre_staff")
    station_staff = UserFactory(username="station_staff")
    other_staff = UserFactory(username="other_staff")
    centre = station("C", Station.Kind.CENTRE, regions["district"], managers=[centre_staff])
    s1 = station("S1", Station.Kind.STATION, regions["s1"], centre, managers=[station_staff])
    s2 = station("S2", Station.Kind.STATION, regions["s2"], centre, managers=[other_staff])
    p1 = station("P1", Station.Kind.POINT, regions["c1"], s1)
    team = Team.objects.create(code="T1", name="一队", station=s1, skills="elderly、environment")
    other_team = Team.objects.create(code="T2", name="二队", station=s2, skills="elderly")
    leader = volunteer(team, leader=True, username="leader")
    alice = volunteer(team, username="alice", name="王小明")
    bob = volunteer(team, username="bob")
    other_leader = volunteer(other_team, leader=True, username="other_leader")
    outsider = volunteer(other_team, username="outsider")
    service = Service.objects.create(
        station=p1, kind=ServiceKind.ELDERLY, name="上门助老", audience="辖区老人"
    )
    PointsRule.objects.create(kind="", points_per_hour=10)
    PointsRule.objects.create(kind=ServiceKind.ELDERLY, points_per_hour=20)
    goods = Goods.objects.create(name="洗衣液", points=30, stock=3)
    return SimpleNamespace(
        regions=regions,
        hq=hq,
        centre_staff=centre_staff,
        station_staff=station_staff,
        other_staff=other_staff,
        centre=centre,
        s1=s1,
        s2=s2,
        p1=p1,
        team=team,
        other_team=other_team,
        leader=leader,
        alice=alice,
        bob=bob,
        other_leader=other_leader,
        outsider=outsider,
        service=service,
        goods=goods,
    )
