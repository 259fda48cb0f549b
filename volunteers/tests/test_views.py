"""The pages: the public order page and tracking (no login), and the phone-first pages of
volunteers, leaders and station staff, driving the loop end to end."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from org.models import AuditLog
from volunteers import services
from volunteers.models import Attendance, Order, PointsEntry, Redemption

from .conftest import CITIZEN, actor

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def _place(client, world, phone="13800001111"):
    return client.post(
        reverse("volunteers:public_order"),
        {
            "kind": "elderly",
            "service": world.service.pk,
            "description": "帮忙打扫",
            "address": "一社区 3 栋",
            "people": 1,
            "phone": phone,
        },
    )


def test_the_loop_through_the_pages(client, world, django_user_model):
    # 点单 (no login) → the code at once
    kinds = client.get(reverse("volunteers:public_order")).content.decode()
    assert "助老助残" in kinds and "上门助老" not in kinds  # the kind first, then its services
    page = client.get(reverse("volunteers:public_order") + "?kind=elderly")
    assert page.status_code == 200 and "上门助老" in page.content.decode()
    response = _place(client, world)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.code in client.get(response.url).content.decode()

    # 派单 by the station
    staff = login(client.__class__(), world.station_staff)
    detail = staff.get(reverse("volunteers:order_detail", args=[order.pk])).content.decode()
    assert "派单" in detail and "138****1111" in detail and "13800001111" not in detail
    staff.post(reverse("volunteers:assign", args=[order.pk]), {"team": world.team.pk})
    order.refresh_from_db()
    assert order.status == "assigned"

    # 接单 and staffing by the leader
    leader = login(client.__class__(), world.leader.user)
    assert "接单" in leader.get(reverse("volunteers:home")).content.decode()
    leader.post(reverse("volunteers:accept", args=[order.pk]))
    leader.post(reverse("volunteers:staff", args=[order.pk]), {"volunteers": [world.alice.pk]})
    attendance = Attendance.objects.get(order=order)

    # the volunteer signs in and out from their page
    alice = login(client.__class__(), world.alice.user)
    assert "签到" in alice.get(reverse("volunteers:home")).content.decode()
    alice.post(reverse("volunteers:sign_in", args=[attendance.pk]), {"lat": "31.0", "lng": "106.0"})
    alice.post(reverse("volunteers:sign_out", args=[attendance.pk]), {"lat": "31.0", "lng": "106.0"})
    leader.post(reverse("volunteers:complete", args=[order.pk]), {"note": "打扫完毕"})
    order.refresh_from_db()
    assert order.status == "served"
    leader.post(reverse("volunteers:confirm", args=[attendance.pk]), {"hours": ""})
    attendance.refresh_from_db()
    assert attendance.confirmed_at is not None

    # 评单 by the citizen, whose browser remembers the code
    tracked = client.get(reverse("volunteers:tracked", args=[order.code])).content.decode()
    assert "评价服务" in tracked
    client.post(reverse("volunteers:rate", args=[order.code]), {"rating": 5, "comment": "谢谢"})
    order.refresh_from_db()
    assert (order.status, order.rating) == ("rated", 5)


def test_tracking_needs_code_and_phone_and_is_rate_limited(client, world, settings):
    settings.VOLUNTEER_RATE_LIMITS = {"track": {"ip": "2/h", "phone": None}}
    order = services.place_order(CITIZEN, world.service, description="x", address="y", phone="13800001111")
    url = reverse("volunteers:track")
    wrong = client.post(url, {"code": order.code, "phone": "13900000000"})
    assert "查询码或联系电话不正确" in wrong.content.decode()
    assert client.get(reverse("volunteers:tracked", args=[order.code])).status_code == 302  # not proven yet
    right = client.post(url, {"code": order.code.lower(), "phone": "138-0000-1111"})
    assert right.status_code == 302
    assert client.post(url, {"code": order.code, "phone": "13800001111"}).status_code == 429


def test_public_orders_are_rate_limited_per_phone(client, world, settings):
    settings.VOLUNTEER_RATE_LIMITS = {"order": {"ip": None, "phone": "2/h"}}
    assert _place(client, world).status_code == 302
    assert _place(client, world).status_code == 302
    assert _place(client, world).status_code == 429
    assert Order.objects.count() == 2


def test_out_of_scope_orders_are_404_and_steps_refused_with_a_message(client, world):
    order = services.place_order(CITIZEN, world.service, description="x", address="y", phone="13800001111")
    other = login(client, world.other_staff)
    assert other.get(reverse("volunteers:order_detail", args=[order.pk])).status_code == 404
    assert (
        other.post(reverse("volunteers:assign", args=[order.pk]), {"team": world.team.pk}).status_code == 404
    )
    leader = login(client.__class__(), world.leader.user)
    assert leader.get(reverse("volunteers:order_detail", args=[order.pk])).status_code == 404
    centre = login(client.__class__(), world.centre_staff)
    response = centre.post(reverse("volunteers:accept", args=[order.pk]), follow=True)
    assert "只有接到派单的服务队队长" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "ordered"


def test_real_names_are_masked_and_a_reveal_is_logged(client, world):
    staff = login(client, world.station_staff)
    listing = staff.get(reverse("volunteers:volunteer_list")).content.decode()
    assert "王**" in listing and "王小明" not in listing and world.alice.id_number not in listing
    url = reverse("volunteers:volunteer_detail", args=[world.alice.pk])
    assert world.alice.id_number not in staff.get(url).content.decode()
    shown = staff.post(reverse("volunteers:real_name", args=[world.alice.pk])).content.decode()
    assert "王小明" in shown and world.alice.id_number in shown
    assert AuditLog.objects.filter(action="volunteer.read_real_name", actor=world.station_staff).count() == 1
    other = login(client.__class__(), world.other_staff)
    assert other.get(url).status_code == 404
    assert login(client.__class__(), world.alice.user).get(url).status_code == 403


def test_an_activity_and_a_redemption_through_the_pages(client, world):
    leader = login(client, world.leader.user)
    start = timezone.localtime() + dt.timedelta(days=2)
    response = leader.post(
        reverse("volunteers:activity_new"),
        {
            "team": world.team.pk,
            "title": "文明交通劝导",
            "kind": "traffic",
            "place": "江北路口",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "capacity": 5,
        },
    )
    assert response.status_code == 302
    activity_url = response.url
    alice = login(client.__class__(), world.alice.user)
    assert "报名" in alice.get(activity_url).content.decode()
    alice.post(activity_url + "enrol/")
    assert Attendance.objects.filter(volunteer=world.alice, activity__isnull=False).exists()

    services.adjust_points(actor(world.hq), world.alice, 100, "测试")
    points = alice.get(reverse("volunteers:points")).content.decode()
    assert "100" in points and "洗衣液" in points
    alice.post(reverse("volunteers:redeem"), {"goods": world.goods.pk, "quantity": 1})
    redemption = Redemption.objects.get()
    staff = login(client.__class__(), world.station_staff)
    staff.post(reverse("volunteers:pickups"), {"code": redemption.code.lower()})
    redemption.refresh_from_db()
    assert redemption.status == "picked_up"
    assert PointsEntry.objects.filter(volunteer=world.alice).count() == 2


def test_staff_enter_an_order_and_get_the_code(client, world):
    staff = login(client, world.station_staff)
    response = staff.post(
        reverse("volunteers:order_new"),
        {
            "service": world.service.pk,
            "description": "电话点单",
            "address": "一社区",
            "people": 3,
            "phone": "08275261234",
        },
        follow=True,
    )
    order = Order.objects.get()
    assert order.channel == "staff" and order.code in response.content.decode()
    assert login(client.__class__(), world.alice.user).get(reverse("volunteers:order_new")).status_code == 403


def test_pages_work_on_a_phone_layout_and_need_login(client, world):
    for name in ("home", "orders", "activities", "points"):
        assert client.get(reverse(f"volunteers:{name}")).status_code == 302
    alice = login(client, world.alice.user)
    page = alice.get(reverse("volunteers:home")).content.decode()
    assert 'class="stack"' in page and 'name="viewport"' in page
    assert re.search(r"我的积分<br><b>0</b>", page)
