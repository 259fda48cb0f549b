"""The demo: the seed's structure, orders in every state, and real work for the volunteer login."""

import pytest
from django.db.models import Sum

from org import demo as org_demo
from volunteers import access, demo
from volunteers.models import Order, Station, Team, Volunteer

pytestmark = pytest.mark.django_db


def test_demo_has_the_seed_shape_every_state_and_work_for_the_volunteer_login(client, monkeypatch):
    monkeypatch.setattr(demo, "VOLUNTEERS", 400)
    org_demo.load()
    demo.load()
    kinds = {k: Station.objects.filter(kind=k).count() for k in Station.Kind.values}
    assert kinds == {"centre": 1, "station": 22, "point": 296}
    assert Team.objects.count() == 181
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert any(o.is_overdue for o in Order.objects.all())
    for volunteer in Volunteer.objects.filter(points_balance__gt=0):
        assert volunteer.points_entries.aggregate(s=Sum("points"))["s"] == volunteer.points_balance

    me = Volunteer.objects.get(user__username="volunteer")
    assert access.led_team_ids(me.user) and me.points_balance > 0
    client.force_login(me.user)
    home = client.get("/volunteers/").content.decode()
    assert "本队订单" in home and "待接单" in home
    order = Order.objects.filter(status="served").first()
    assert order is not None
    response = client.post("/volunteers/order/track/", {"code": order.code, "phone": demo.DEMO_PHONE})
    assert response.status_code == 302
    demo.load()
    assert Station.objects.count() == 319
