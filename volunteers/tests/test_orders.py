"""The order loop 点单 → 派单 → 接单 → 服务 → 评单: who may take each step, in which state, and what
each step leaves behind; refused steps change nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from org.errors import ActionRefused
from org.models import AuditLog
from volunteers import services
from volunteers.models import Attendance, Event, Order, PointsEntry

from .conftest import CITIZEN, actor

pytestmark = pytest.mark.django_db


def _order(world, **kwargs) -> Order:
    fields = {
        "description": "帮老人打扫卫生",
        "address": "一社区 3 栋",
        "phone": "138 0000 1111",
        "name": "李大爷",
    }
    return services.place_order(CITIZEN, world.service, **{**fields, **kwargs})


def _accepted(world) -> Order:
    order = services.assign_order(actor(world.station_staff), _order(world, lat=31.0, lng=106.0), world.team)
    return services.accept_order(actor(world.leader.user), order)


def _served(world) -> tuple[Order, Attendance]:
    order = _accepted(world)
    (attendance,) = services.staff_order(actor(world.leader.user), order, [world.alice])
    attendance = services.sign_in(actor(world.alice.user), attendance, 31.0, 106.0)
    services.sign_out(actor(world.alice.user), attendance, 31.0, 106.0)
    order.refresh_from_db()
    order = services.complete_order(actor(world.leader.user), order, "打扫了客厅和厨房")
    attendance.refresh_from_db()
    return order, attendance


def test_a_citizen_order_walks_the_whole_loop(world):
    order = _order(world, people=2)
    assert (order.status, order.station, order.phone, order.channel) == (
        "ordered",
        world.p1,
        "13800001111",
        "public",
    )
    assert len(order.code) == 10 and order.due_at is not None and order.due_at > order.ordered_at
    assert services.suggest_teams(order)[0] == world.team  # skill and nearest station

    order = services.assign_order(actor(world.station_staff), order, world.team)
    assert (order.status, order.team) == ("assigned", world.team)
    order = services.accept_order(actor(world.leader.user), order)
    assert order.status == "accepted" and order.accepted_at is not None
    attendances = services.staff_order(actor(world.leader.user), order, [world.alice, world.bob])
    assert {a.volunteer for a in attendances} == {world.alice, world.bob}

    alice_on, bob_on = sorted(attendances, key=lambda a: a.volunteer.number == world.bob.number)
    alice_on = services.sign_in(actor(world.alice.user), alice_on)
    order.refresh_from_db()
    assert order.status == "serving"
    services.sign_out(actor(world.alice.user), alice_on)
    order.refresh_from_db()
    order = services.complete_order(actor(world.leader.user), order, "陪老人聊天、打扫")
    assert order.status == "served" and order.due_at is None

    order = services.rate_order(CITIZEN, order, 5, "很好", code=order.code.lower(), phone="13800001111")
    assert (order.status, order.rating, order.rating_comment) == ("rated", 5, "很好")
    assert list(order.events.values_list("action", flat=True)) == [
        "order", "assign", "accept", "staff", "sign_in", "sign_out", "complete", "rate",
    ]  # fmt: skip
    assert Event.objects.get(order=order, action="rate").via == "public"


def test_only_the_station_or_the_stations_above_assign(world):
    order = _order(world)
    for user in (world.other_staff, world.leader.user, world.alice.user):
        with pytest.raises(PermissionDenied):
            services.assign_order(actor(user), order, world.team)
    order.refresh_from_db()
    assert order.status == "ordered" and order.team is None
    services.assign_order(
        actor(world.centre_staff), order, world.other_team
    )  # the centre overrides the suggestion
    order.refresh_from_db()
    assert order.team == world.other_team
    with pytest.raises(ActionRefused):
        services.assign_order(actor(world.centre_staff), order, world.team)


def test_declining_needs_a_reason_and_sends_the_order_back_counted(world):
    order = services.assign_order(actor(world.station_staff), _order(world), world.team)
    with pytest.raises(PermissionDenied):
        services.decline_order(actor(world.other_leader.user), order, "不在服务范围")
    with pytest.raises(ValidationError):
        services.decline_order(actor(world.leader.user), order, "  ")
    order = services.decline_order(actor(world.leader.user), order, "本周人手不足")
    assert (order.status, order.team, order.decline_count) == ("ordered", None, 1)
    assert Event.objects.get(order=order, action="decline").data["team"] == world.team.pk
    with pytest.raises(PermissionDenied):  # no longer this team's order
        services.accept_order(actor(world.leader.user), order)


def test_the_leader_puts_only_own_members_on_an_order(world):
    order = _accepted(world)
    with pytest.raises(ValidationError, match="不是本队在册队员"):
        services.staff_order(actor(world.leader.user), order, [world.alice, world.outsider])
    assert not order.attendances.exists()
    with pytest.raises(PermissionDenied):
        services.staff_order(actor(world.other_leader.user), order, [world.outsider])


def test_signing_out_before_signing_in_and_twice_is_refused(world):
    order = _accepted(world)
    (attendance,) = services.staff_order(actor(world.leader.user), order, [world.alice])
    with pytest.raises(ActionRefused, match="尚未签到"):
        services.sign_out(actor(world.alice.user), attendance)
    with pytest.raises(PermissionDenied):
        services.sign_in(actor(world.bob.user), attendance)
    attendance = services.sign_in(actor(world.alice.user), attendance, 31.0, 106.0)
    with pytest.raises(ActionRefused, match="已经签到"):
        services.sign_in(actor(world.alice.user), attendance, 31.0, 106.0)
    attendance.refresh_from_db()
    assert attendance.signed_out_at is None and not attendance.far


def test_a_sign_in_far_from_the_place_is_flagged(world):
    order = _accepted(world)  # placed at 31.0, 106.0
    (attendance,) = services.staff_order(actor(world.leader.user), order, [world.alice])
    attendance = services.sign_in(actor(world.alice.user), attendance, 31.02, 106.0)
    assert attendance.far and attendance.in_distance is not None and 2000 < attendance.in_distance < 2400
    with pytest.raises(ValidationError):
        services.sign_in(actor(world.bob.user), Attendance(volunteer=world.bob, order=order), 95, 0)


def test_completion_waits_for_every_sign_out(world):
    order = _accepted(world)
    alice_on, bob_on = services.staff_order(actor(world.leader.user), order, [world.alice, world.bob])
    alice_on = services.sign_in(actor(world.alice.user), alice_on)
    services.sign_in(actor(world.bob.user), bob_on)
    services.sign_out(actor(world.alice.user), alice_on)
    order.refresh_from_db()
    with pytest.raises(ActionRefused, match="未签退"):
        services.complete_order(actor(world.leader.user), order, "完成")
    order.refresh_from_db()
    assert order.status == "serving"


def test_rating_once_with_the_right_code_and_phone(world):
    order, _ = _served(world)
    with pytest.raises(PermissionDenied):
        services.rate_order(CITIZEN, order, 4, code="WRONGCODE2", phone="13800001111")
    with pytest.raises(PermissionDenied):
        services.rate_order(CITIZEN, order, 4, code=order.code, phone="13900001111")
    with pytest.raises(ValidationError):
        services.rate_order(CITIZEN, order, 6, code=order.code, phone="13800001111")
    with pytest.raises(ValidationError, match="评价意见"):
        services.rate_order(CITIZEN, order, 1, code=order.code, phone="13800001111")
    order = services.rate_order(CITIZEN, order, 4, code=order.code, phone="13800001111")
    with pytest.raises(ActionRefused, match="不能重复评价"):
        services.rate_order(CITIZEN, order, 1, "差", code=order.code, phone="13800001111")
    order.refresh_from_db()
    assert order.rating == 4


def test_a_bad_phone_or_empty_description_orders_nothing(world):
    with pytest.raises(ValidationError) as exc:
        _order(world, phone="12345", description="\x00 ")
    assert set(exc.value.message_dict) == {"phone", "description"}
    assert not Order.objects.exists()


def test_hours_are_confirmed_by_the_own_team_leader_and_earn_points_once(world):
    _, attendance = _served(world)
    Attendance.objects.filter(pk=attendance.pk).update(hours=Decimal("2.50"))
    attendance.refresh_from_db()
    with pytest.raises(PermissionDenied, match="本队"):
        services.confirm_hours(actor(world.other_leader.user), attendance)
    with pytest.raises(ValidationError):
        services.confirm_hours(actor(world.leader.user), attendance, Decimal("3"))
    services.confirm_hours(actor(world.leader.user), attendance, Decimal("2"))
    entry = PointsEntry.objects.get(volunteer=world.alice)
    assert (entry.kind, entry.points, entry.balance_after) == ("earn", 40, 40)  # 助老 rule: 20 per hour
    with pytest.raises(ActionRefused, match="已经确认"):
        services.confirm_hours(actor(world.leader.user), attendance)
    world.alice.refresh_from_db()
    assert world.alice.points_balance == 40


def test_hours_of_an_order_are_confirmed_only_after_completion(world):
    order = _accepted(world)
    (attendance,) = services.staff_order(actor(world.leader.user), order, [world.alice])
    attendance = services.sign_in(actor(world.alice.user), attendance)
    attendance = services.sign_out(actor(world.alice.user), attendance)
    with pytest.raises(ActionRefused, match="订单完成后"):
        services.confirm_hours(actor(world.leader.user), attendance)


def test_overdue_orders_are_visible(world):
    order = _order(world)
    assert not order.is_overdue
    Order.objects.filter(pk=order.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    order.refresh_from_db()
    assert order.is_overdue


def test_allowed_actions_follow_the_checks(world):
    order = _order(world)
    assert services.allowed_actions(world.station_staff, order) == ["assign", "read_contact"]
    assert services.allowed_actions(world.leader.user, order) == []
    order = services.assign_order(actor(world.station_staff), order, world.team)
    assert services.allowed_actions(world.leader.user, order) == ["accept", "decline"]
    order = services.accept_order(actor(world.leader.user), order)
    assert services.allowed_actions(world.leader.user, order) == ["staff", "read_contact"]


def test_contact_reads_are_limited_and_logged(world):
    order = _accepted(world)
    with pytest.raises(PermissionDenied):
        services.read_order_contact(actor(world.alice.user), order)
    assert services.read_order_contact(actor(world.leader.user), order) == {
        "phone": "13800001111",
        "name": "李大爷",
    }
    assert (
        AuditLog.objects.filter(action="volunteers.order.read_contact", actor=world.leader.user).count() == 1
    )
    with pytest.raises(PermissionDenied):
        services.read_real_name(actor(world.other_staff), world.alice)
    assert services.read_real_name(actor(world.station_staff), world.alice)["name"] == "王小明"
    assert (
        AuditLog.objects.filter(action="volunteer.read_real_name", object_id=str(world.alice.pk)).count() == 1
    )
