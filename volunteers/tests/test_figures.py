"""Recognition figures: district totals and rankings by volunteer, team, station and street."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from volunteers import figures, services
from volunteers.models import Attendance

from .conftest import CITIZEN, actor

pytestmark = pytest.mark.django_db


def _served(world, people: int, stars: int | None, hours: str, volunteer) -> None:
    order = services.place_order(CITIZEN, world.service, description="x", address="y", phone="13800001111",
                                 people=people)  # fmt: skip
    order = services.assign_order(actor(world.station_staff), order, world.team)
    order = services.accept_order(actor(world.leader.user), order)
    (record,) = services.staff_order(actor(world.leader.user), order, [volunteer])
    record = services.sign_in(actor(volunteer.user), record)
    services.sign_out(actor(volunteer.user), record)
    Attendance.objects.filter(pk=record.pk).update(hours=Decimal(hours))
    order.refresh_from_db()
    order = services.complete_order(actor(world.leader.user), order, "完成")
    services.confirm_hours(actor(world.leader.user), Attendance.objects.get(pk=record.pk))
    if stars:
        services.rate_order(CITIZEN, order, stars, "好", code=order.code, phone="13800001111")


def _month():
    first, after = figures.period("month", timezone.localdate())
    return [timezone.make_aware(dt.datetime.combine(d, dt.time.min)) for d in (first, after)]


def test_totals_and_rankings(world):
    _served(world, 3, 5, "2", world.alice)
    _served(world, 4, 4, "1.5", world.alice)
    _served(world, 10, None, "3", world.bob)
    services.place_order(CITIZEN, world.service, description="x", address="y", phone="13800001111")
    totals = figures.district_totals()
    assert (totals["orders"], totals["solved"], totals["people_served"], totals["hours"]) == (
        4,
        3,
        17,
        Decimal("6.5"),
    )
    assert totals["teams"] == 2 and totals["volunteers"] == 5

    start, end = _month()
    (team,) = figures.ranking("team", start, end)
    assert (team.label, team.hours, team.orders, team.rating) == ("一队", Decimal("6.5"), 3, 4.5)
    (station,) = figures.ranking("station", start, end)
    assert station.label == world.s1.name  # the point's team counts under its station 所
    (street,) = figures.ranking("street", start, end)
    assert street.label == "一街道"
    alice, bob = figures.ranking("volunteer", start, end)
    assert (alice.hours, alice.orders, alice.rating) == (Decimal("3.5"), 2, 4.5)
    assert (bob.hours, bob.rating) == (Decimal("3"), None)  # no rated order: no data, not 0
    assert "王**" in alice.label
    assert figures.ranking("team", end, end + dt.timedelta(days=31)) == []


def test_figures_page_and_api(world):
    _served(world, 2, 5, "1", world.alice)
    staff = Client()
    staff.force_login(world.station_staff)
    page = staff.get("/volunteers/figures/?by=volunteer&period=year").content.decode()
    assert "王**" in page and "解决群众点单" in page
    data = staff.get("/api/v1/volunteers/figures?by=street").json()
    assert data["rows"][0]["label"] == "一街道" and data["totals"]["solved"] == 1
    member = Client()
    member.force_login(world.alice.user)
    assert member.get("/volunteers/figures/").status_code == 403
    assert member.get("/api/v1/volunteers/figures").status_code == 403
