"""Activities 活动: publication, enrolment within capacity, sign-in/out, confirmed hours → points."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from org.errors import ActionRefused
from volunteers import services
from volunteers.models import Attendance, ServiceKind

from .conftest import actor
from .factories import volunteer

pytestmark = pytest.mark.django_db


def _activity(world, capacity=2, **kwargs):
    start = timezone.now() + dt.timedelta(days=1)
    fields = {
        "title": "河道清洁",
        "kind": ServiceKind.ENVIRONMENT,
        "place": "巴河边",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=3),
        "capacity": capacity,
        "lat": 31.85,
        "lng": 106.75,
    }
    return services.publish_activity(actor(world.leader.user), world.team, **{**fields, **kwargs})


def test_an_activity_runs_from_publication_to_confirmed_hours_and_points(world):
    activity = _activity(world)
    attendance = services.enrol(actor(world.alice.user), activity)
    # the day comes
    activity.starts_at = timezone.now() - dt.timedelta(hours=3)
    activity.save()
    attendance = services.sign_in(actor(world.alice.user), attendance, 31.85, 106.75)
    assert not attendance.far and attendance.in_distance == 0
    Attendance.objects.filter(pk=attendance.pk).update(signed_in_at=timezone.now() - dt.timedelta(hours=3))
    attendance.refresh_from_db()
    attendance = services.sign_out(actor(world.alice.user), attendance, 31.85, 106.75)
    assert attendance.hours is not None and Decimal("2.99") <= attendance.hours <= Decimal("3.01")
    services.confirm_hours(actor(world.leader.user), attendance, Decimal("3"))
    world.alice.refresh_from_db()
    assert world.alice.points_balance == 30  # the default rule: 10 per hour
    assert list(activity.events.values_list("action", flat=True)) == [
        "publish", "enrol", "sign_in", "sign_out", "confirm_hours",
    ]  # fmt: skip


def test_enrolment_beyond_capacity_twice_or_late_is_refused(world):
    activity = _activity(world, capacity=2)
    services.enrol(actor(world.alice.user), activity)
    with pytest.raises(ActionRefused, match="已报名"):
        services.enrol(actor(world.alice.user), activity)
    services.enrol(actor(world.bob.user), activity)
    with pytest.raises(ActionRefused, match="已满"):
        services.enrol(actor(world.outsider.user), activity)
    assert activity.attendances.count() == 2
    started = _activity(world, starts_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(ActionRefused, match="已经开始"):
        services.enrol(actor(world.outsider.user), started)
    with pytest.raises(PermissionDenied):
        services.enrol(actor(world.station_staff), activity)  # not a volunteer


def test_only_leaders_and_station_staff_publish_and_input_is_checked(world):
    with pytest.raises(PermissionDenied):
        services.publish_activity(actor(world.alice.user), world.team, title="x", kind="theory", place="y",
                                  starts_at=timezone.now(), ends_at=timezone.now(), capacity=1)  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        _activity(world, capacity=0, kind="nonsense", title="", ends_at=timezone.now())
    assert set(exc.value.message_dict) == {"capacity", "kind", "title", "ends_at"}
    services.publish_activity(actor(world.station_staff), world.team, title="宣讲", kind="theory", place="礼堂",
                              starts_at=timezone.now(), ends_at=timezone.now() + dt.timedelta(hours=1), capacity=1)  # fmt: skip


def test_confirming_hours_of_another_team_is_refused(world):
    activity = _activity(world)
    attendance = services.enrol(actor(world.alice.user), activity)
    attendance = services.sign_in(actor(world.alice.user), attendance)
    attendance = services.sign_out(actor(world.alice.user), attendance)
    with pytest.raises(PermissionDenied):
        services.confirm_hours(actor(world.other_leader.user), attendance)
    attendance.refresh_from_db()
    assert attendance.confirmed_at is None


def test_a_volunteer_without_team_may_enrol(world):
    loner = volunteer(username="loner")
    attendance = services.enrol(actor(loner.user), _activity(world))
    assert attendance.volunteer == loner
