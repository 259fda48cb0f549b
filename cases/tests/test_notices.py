"""Case events through the outbox and the worker to the inbox and a fake robot server (WeChat
Work): dispatch, return, extension decided, rework; the deadline sweeps (due soon, overdue,
escalation), the batch message for a long list and the 08:00 digest — each told once, to people
who see the case, never with the citizen's name or phone."""

import pytest

from cases.models import CasePart, ExtensionRequest
from cases.services import (
    accept_case,
    decide_extension,
    dispatch_case,
    handle_part,
    report_case,
    request_extension,
    return_case,
    rework_case,
)
from cases.tests.conftest import actor, at, jpeg
from notices import schedule
from notices.kinds import Kind
from notices.models import Delivery, Notice, Receipt, Robot, UnitPreference
from notices.sending import send_due
from notices.tests.receiver import receiver  # noqa: F401  (fixture)
from org.models import Contract, Role, Unit
from org.tests.factories import member

pytestmark = pytest.mark.django_db

CITIZEN = "市民王小明（电话13912345678）反映"


def report(w, category=None):
    lat, lng = w.in_grid
    return report_case(
        actor(w.collector),
        category=category or w.road,
        description=f"{CITIZEN}人行道地砖破损",
        address="王小明家楼下",
        lat=lat,
        lng=lng,
        photos_uploaded=[jpeg()],
    )


def dispatched(w, category=None):
    case = accept_case(actor(w.dispatcher), report(w, category))
    return dispatch_case(actor(w.dispatcher), case, w.dept)


def inbox(user, kind=None):
    qs = Receipt.objects.filter(user=user).select_related("notice")
    if kind:
        qs = qs.filter(notice__kind=kind)
    return [r.notice for r in qs.order_by("notice__created_at", "pk")]


@pytest.fixture
def robots(world, receiver):  # noqa: F811 (the fixture)
    Robot.objects.create(
        unit=world.dept, channel="wecom", name="城管局群", webhook=receiver.wecom_url("dept")
    )
    command = Unit.objects.get(code="DISPATCH")
    Robot.objects.create(unit=command, channel="wecom", name="指挥中心群", webhook=receiver.wecom_url("cmd"))
    return receiver


def no_citizen_data(receiver):  # noqa: F811 (the fixture)
    texts = [n.title + n.body for n in Notice.objects.all()] + receiver.texts()
    assert texts
    for text in texts:
        assert "13912345678" not in text and "王小明" not in text


def test_dispatch_reaches_the_units_handlers_and_group(world, robots, clock):
    case = dispatched(world)
    assert Delivery.objects.get().status == "pending"  # written with the step, sent by the worker
    assert robots.messages == []
    send_due(clock.state.now)
    [notice] = inbox(world.handler, Kind.CASE_DISPATCHED)
    assert notice.title == f"新派案件 {case.number}" and notice.link == f"/cases/{case.pk}/"
    # Dispatched Monday 2 March 09:00 with 5 working days on the working-hours clock.
    assert "一社区" in notice.body and "03月09日 09:00" in notice.body
    assert inbox(world.handler2) == []
    [message] = robots.messages
    assert message["query"] == {"key": "dept"}
    assert case.number in message["body"]["markdown"]["content"]
    no_citizen_data(robots)


def test_a_return_tells_the_dispatcher_and_the_command_group(world, robots, clock):
    case = dispatched(world)
    return_case(actor(world.handler), case, "不属于本单位职责，电话13800001111")
    send_due(clock.state.now)
    [notice] = inbox(world.dispatcher, Kind.CASE_RETURNED)
    assert "不属于本单位职责" in notice.body and "13800001111" not in notice.body
    assert any(m["query"] == {"key": "cmd"} for m in robots.messages)
    no_citizen_data(robots)


def test_an_extension_decision_and_a_rework_reach_the_unit(world, robots, clock):
    case = dispatched(world)
    request_extension(actor(world.handler), case, 2, "材料未到")
    decide_extension(actor(world.dispatcher), case, ExtensionRequest.objects.get(), True, "同意")
    [decided] = inbox(world.handler, Kind.EXTENSION_DECIDED)
    assert decided.title == f"延期申请已批准 {case.number}" and "审批意见：同意" in decided.body
    case = handle_part(actor(world.handler), case, [jpeg()])
    rework_case(actor(world.dispatcher), case, "地砖仍有破损")
    [rework] = inbox(world.handler, Kind.CASE_REWORK)
    assert "地砖仍有破损" in rework.body
    send_due(clock.state.now)
    assert len(robots.messages) == 3  # dispatch, extension, rework
    no_citizen_data(robots)


def test_a_refused_step_tells_nobody(world, robots, clock):
    case = accept_case(actor(world.dispatcher), report(world))
    with pytest.raises(Exception):  # noqa: B017 (any refusal)
        dispatch_case(actor(world.handler), case, world.dept)
    assert not Notice.objects.filter(kind=Kind.CASE_DISPATCHED).exists()


def test_deadline_sweeps_through_the_worker_due_soon_overdue_and_escalation(world, robots, clock):
    clock.set(at(2026, 3, 2, 9))  # Monday; a road case has 5 working days: due next Monday 09:00
    case = dispatched(world)
    leader_s1 = member(Unit.objects.get(code="HQ"), Role.LEADER, username="leader_s1")
    leader_c2 = member(Unit.objects.get(code="HQ"), Role.LEADER, username="leader_c2")
    Contract.objects.create(leader=leader_s1, region=world.s1, start=at(2026, 1, 1).date())
    Contract.objects.create(leader=leader_c2, region=world.c2, start=at(2026, 1, 1).date())
    UnitPreference.objects.create(unit=world.dept, leader=world.handler)
    send_due(clock.state.now)
    robots.messages.clear()

    for moment in (at(2026, 3, 5, 10), at(2026, 3, 6, 10), at(2026, 3, 6, 10, 20)):
        clock.set(moment)
        schedule.tick(moment)  # Thursday: not yet; Friday 10:00: 6 working hours left (< 7), once
    [soon] = inbox(world.handler, Kind.CASE_DUE_SOON)
    assert case.number in soon.title

    clock.set(at(2026, 3, 9, 10))  # Monday 10:00: overdue
    schedule.tick(clock.state.now)
    assert len(inbox(world.handler, Kind.CASE_OVERDUE)) == 1
    assert inbox(leader_s1) == []

    clock.set(at(2026, 3, 10, 17))  # Tuesday: one working day overdue, the second not over
    schedule.tick(clock.state.now)
    assert inbox(leader_s1) == []
    clock.set(at(2026, 3, 11, 9))  # Wednesday: two working days overdue: escalated
    schedule.tick(clock.state.now)
    schedule.tick(at(2026, 3, 11, 9, 30))
    [escalated] = inbox(leader_s1, Kind.CASE_ESCALATED)
    assert escalated.urgent and "超期 2 个工作日" in escalated.body
    assert len(inbox(world.handler, Kind.CASE_ESCALATED)) == 1  # the unit's leader
    assert inbox(leader_c2) == []  # contracts another community: outside the case's scope
    titles = [m["body"]["markdown"]["content"].splitlines()[0] for m in robots.messages]
    titles = [t for t in titles if "今日待办" not in t]  # the 08:00 digests of those days
    assert titles == [f"### 案件即将到期 {case.number}", f"### 案件已超期 {case.number}"]
    no_citizen_data(robots)


def test_a_long_list_goes_to_the_group_as_one_message(world, robots, clock, settings):
    settings.NOTICES_BATCH_THRESHOLD = 3
    clock.set(at(2026, 3, 2, 7))  # before the 08:00 digest
    cases = [dispatched(world, world.garbage) for _ in range(4)]  # 1 working day: due today
    send_due(clock.state.now)
    robots.messages.clear()
    schedule.tick(clock.state.now)
    assert len(inbox(world.handler, Kind.CASE_DUE_SOON)) == 4
    [batch] = inbox(world.handler, Kind.DEADLINES_BATCH)
    assert batch.title.endswith("有 4 件案件即将到期")
    assert all(c.number in batch.body for c in cases)
    assert len(robots.messages) == 1


def test_the_0800_digest_per_unit(world, robots, clock):
    clock.set(at(2026, 3, 2, 9))
    first = dispatched(world, world.garbage)  # 1 working day (7 working hours): Tuesday 09:00
    clock.set(at(2026, 3, 3, 15))
    second = dispatched(world, world.garbage)  # Wednesday 15:00
    clock.set(at(2026, 3, 4, 7, 59))
    schedule.tick(clock.state.now)
    assert inbox(world.handler, Kind.DAILY_DIGEST) == []
    clock.set(at(2026, 3, 4, 8, 0))
    schedule.tick(clock.state.now)
    schedule.tick(at(2026, 3, 4, 8, 1))
    [digest] = inbox(world.handler, Kind.DAILY_DIGEST)
    assert "今日到期 1 件，已超期 1 件" in digest.title
    assert second.number in digest.body and first.number in digest.body
    assert CasePart.objects.count() == 2
    no_citizen_data(robots)
