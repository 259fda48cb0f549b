"""Task warnings and reopening through the outbox: told once per level and deadline, to the lead
unit's people and the responsible person (the leader too at red), and to the unit's group robot
through the worker."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from indicators import services
from indicators.notices import task_warnings
from indicators.tests.test_services import assigned
from notices.kinds import Kind
from notices.models import Receipt, Robot
from notices.sending import send_due
from notices.tests.receiver import receiver  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), tzinfo=ZoneInfo("Asia/Shanghai"))


def told(user, kind):
    return list(Receipt.objects.filter(user=user, notice__kind=kind).values_list("notice__title", flat=True))


def test_warnings_yellow_then_red_each_once_and_the_group_hears(world, receiver):  # noqa: F811 (the fixture)
    Robot.objects.create(unit=world.dept, channel="wecom", name="部门群", webhook=receiver.wecom_url())
    task = assigned(world, deadline=dt.date(2026, 3, 13))  # a Friday
    assert task_warnings(moment(dt.date(2026, 3, 2))) == "0 项"  # nine working days left
    task_warnings(moment(dt.date(2026, 3, 6)))  # five left: yellow
    task_warnings(moment(dt.date(2026, 3, 9)))  # still yellow: not told again
    assert told(world.handler, Kind.TASK_WARNING) == [f"任务黄色预警 {task.title}"]
    assert told(world.leader, Kind.TASK_WARNING) == []
    task_warnings(moment(dt.date(2026, 3, 12)))  # one left: red, the leader too
    assert told(world.leader, Kind.TASK_WARNING) == [f"任务红色预警 {task.title}"]
    assert told(world.other_handler, Kind.TASK_WARNING) == []
    send_due()
    assert len(receiver.messages) == 2


def test_a_reopened_task_is_told(world, photo):
    hq, unit = world.actor(world.hq), world.actor(world.handler)
    task = assigned(world)
    services.request_close_out(unit, task, "完成", [photo])
    services.approve_close_out(hq, task)
    services.reopen_task(hq, task, "暗访发现问题反弹")
    [title] = told(world.handler, Kind.TASK_REOPENED)
    assert title == f"任务重新打开 {task.title}"
    assert told(world.leader, Kind.TASK_REOPENED) == [title]
