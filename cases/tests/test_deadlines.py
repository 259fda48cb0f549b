"""Deadlines over a year without a known holiday schedule are provisional 暂定, and counted again
(open parts only, each change an event) when HQ enters the year or the working hours change."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from cases.deadlines import recompute_nightly, recompute_open_deadlines
from cases.models import CaseEvent, CasePart
from cases.services import decide_extension, handle_part, request_extension, rework_case, verify_case
from cases.tests.conftest import actor, at, jpeg
from cases.tests.test_workflow import dispatched
from org.audit import Actor
from workdays.models import CalendarDay, DeadlineRule, HolidayYear, WorkSchedule
from workdays.services import add_work_schedule

pytestmark = pytest.mark.django_db


def enter_2027() -> None:
    HolidayYear.objects.create(year=2027, source="国务院办公厅通知")
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")


def test_a_deadline_into_2027_is_provisional_and_recomputed_when_hq_enters_the_year(world, clock, client):
    w = world
    clock.set(at(2026, 12, 28, 10))
    case = dispatched(w)
    part = case.parts.get()
    # 2027 unknown: New Year's Day (Friday) counted as a working day.
    assert part.deadline == at(2027, 1, 4, 10) and part.deadline_provisional
    clock.set(at(2026, 12, 29, 10))  # closed before the year is entered: keeps its deadline
    closed = dispatched(w)
    clock.set(at(2026, 12, 29, 16))
    closed = verify_case(actor(w.dispatcher), handle_part(actor(w.handler), closed, [jpeg()]))
    closed_part = closed.parts.get()
    assert closed_part.deadline == at(2027, 1, 5, 10) and closed_part.deadline_provisional

    enter_2027()
    assert recompute_open_deadlines(Actor.system(), reason="录入2027年节假日") == 1
    part.refresh_from_db()
    case.refresh_from_db()
    assert part.deadline == at(2027, 1, 5, 10) and not part.deadline_provisional
    assert case.handle_deadline == case.due_at == part.deadline
    assert case.close_deadline == at(2027, 1, 7, 10)  # + 2 working days
    event = case.events.get(action=CaseEvent.Action.RECOMPUTE_DEADLINE)
    assert (event.part, event.reason, event.via) == (part, "录入2027年节假日", "command")
    assert event.data == {
        "previous": at(2027, 1, 4, 10).isoformat(),
        "deadline": at(2027, 1, 5, 10).isoformat(),
        "rule": "working_hours",
        "provisional": False,
    }
    client.force_login(w.hq)
    assert "处置时限 01-04 10:00 → 01-05 10:00" in client.get(f"/cases/{case.pk}/").content.decode()
    assert CasePart.objects.get(pk=closed_part.pk).deadline == closed_part.deadline
    assert not closed.events.filter(action=CaseEvent.Action.RECOMPUTE_DEADLINE).exists()
    assert recompute_open_deadlines(Actor.system()) == 0  # nothing left to change


def test_recounting_unchanged_calendars_reproduces_reworks_and_extensions(world, clock):
    w = world
    clock.set(at(2026, 3, 2, 10))
    case = dispatched(w)
    clock.set(at(2026, 3, 3, 10))
    case = rework_case(actor(w.dispatcher), handle_part(actor(w.handler), case, [jpeg()]), "未修好")
    clock.set(at(2026, 3, 4, 10))
    ext = request_extension(actor(w.handler), case, 2, "需采购材料")
    decide_extension(actor(w.dispatcher), case, ext, True)
    part = CasePart.objects.get(case=case)
    assert part.deadline == at(2026, 3, 12, 10)  # rework Tue 3 Mar 10:00 + 5 days, + 2 days
    assert recompute_open_deadlines(Actor.system()) == 0


def test_new_working_hours_recount_open_parts(world, clock):
    w = world
    clock.set(at(2026, 11, 30, 10))
    case = dispatched(w)
    assert case.parts.get().deadline == at(2026, 12, 7, 10)
    WorkSchedule.objects.create(
        valid_from=dt.date(2026, 12, 1),
        name="冬季作息",
        morning_start=dt.time(9),
        morning_end=dt.time(12),
        afternoon_start=dt.time(13),
        afternoon_end=dt.time(17),
    )
    out = io.StringIO()
    call_command("recompute_deadlines", stdout=out)
    assert out.getvalue().startswith("1 ")
    part = case.parts.get()
    # 30 Nov keeps the hours then in force (5.5 h from 10:00 to 18:00); 1, 2, 3, 4 Dec (28 h) and
    # 1.5 h on Mon 7 Dec under the new hours: 09:00 → 10:30.
    assert part.deadline == at(2026, 12, 7, 10, 30)
    assert case.events.filter(action=CaseEvent.Action.RECOMPUTE_DEADLINE).count() == 1
    clock.set(at(2026, 12, 1, 16))
    later = dispatched(w)
    # From 16:00 under the new hours: 1 h on 1 Dec, 2, 3, 4, 7 Dec (28 h), 6 h on 8 Dec → 16:00.
    assert later.parts.get().deadline == at(2026, 12, 8, 16)


def test_the_old_cut_off_deadline_of_an_open_part_is_counted_by_its_category(world, clock):
    w = world
    clock.set(at(2026, 3, 2, 10))
    case = dispatched(w)
    CasePart.objects.filter(case=case).update(
        deadline=at(2026, 3, 6, 23, 59, 59), deadline_rule="", time_limit=None
    )
    assert recompute_open_deadlines(Actor.system()) == 1
    part = case.parts.get()
    assert (part.deadline, part.deadline_rule, part.time_limit) == (at(2026, 3, 9, 10), "working_hours", 5)


def test_a_legal_day_category_keeps_its_rule(world, clock):
    w = world
    w.road.deadline_rule = DeadlineRule.LEGAL_DAYS
    w.road.save()
    clock.set(at(2026, 12, 28, 10))
    case = dispatched(w)
    part = case.parts.get()
    # 28 Dec not counted: 29, 30, 31 Dec, 1 (unknown 2027: a Friday) and 4 Jan.
    assert (part.deadline, part.deadline_rule, part.deadline_provisional) == (
        at(2027, 1, 4, 23, 59, 59),
        "legal_days",
        True,
    )
    enter_2027()
    recompute_open_deadlines(Actor.system())
    assert case.parts.get().deadline == at(2027, 1, 5, 23, 59, 59)


def test_only_hq_recomputes(world):
    with pytest.raises(PermissionDenied):
        recompute_open_deadlines(actor(world.dispatcher))
    assert recompute_open_deadlines(actor(world.hq)) == 0


def _run_worker(monkeypatch) -> None:
    """The real worker over the queued tasks, inside this test's transaction (it must not close
    the test's connection between tasks, as it does in its own process)."""
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda **kwargs: None
    )
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def test_entering_a_year_on_the_hq_page_recomputes_open_deadlines_in_the_background(
    world, clock, client, monkeypatch, django_capture_on_commit_callbacks
):
    w = world
    clock.set(at(2026, 12, 28, 10))
    case = dispatched(w)
    part = case.parts.get()
    clock.set(at(2026, 12, 29, 10))
    closed = dispatched(w)
    clock.set(at(2026, 12, 29, 16))
    closed = verify_case(actor(w.dispatcher), handle_part(actor(w.handler), closed, [jpeg()]))
    closed_part = closed.parts.get()
    assert (part.deadline, closed_part.deadline) == (at(2027, 1, 4, 10), at(2027, 1, 5, 10))

    client.force_login(w.hq)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/workdays/2027/", {"source": "国办发明电", "table": "2027-01-01 2027-01-01 放假 元旦"}
        )
    assert response.status_code == 302
    queued = DBTaskResult.objects.get(status="READY")
    assert queued.args_kwargs["args"] == [w.hq.pk, "127.0.0.1", "录入 2027 年节假日安排"]
    part.refresh_from_db()
    assert part.deadline == at(2027, 1, 4, 10)  # nothing counted inside HQ's request

    _run_worker(monkeypatch)
    part.refresh_from_db()
    assert part.deadline == at(2027, 1, 5, 10) and not part.deadline_provisional
    event = case.events.get(action=CaseEvent.Action.RECOMPUTE_DEADLINE)
    assert (event.actor, event.reason, event.via, event.ip) == (
        w.hq,
        "录入 2027 年节假日安排",
        "task",
        "127.0.0.1",
    )
    assert DBTaskResult.objects.get(status="SUCCESSFUL").return_value == "1 个责任单位的处置时限已重算"
    assert CasePart.objects.get(pk=closed_part.pk).deadline == at(2027, 1, 5, 10)
    assert closed_part.deadline_provisional
    assert not closed.events.filter(action=CaseEvent.Action.RECOMPUTE_DEADLINE).exists()


def test_new_working_hours_enqueue_the_recount_only_when_committed(
    world, clock, django_capture_on_commit_callbacks
):
    clock.set(at(2026, 11, 30, 10))
    hours = dict(
        name="冬季作息",
        morning_start=dt.time(9),
        morning_end=dt.time(12),
        afternoon_start=dt.time(13),
        afternoon_end=dt.time(17),
    )
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        add_work_schedule(actor(world.hq), WorkSchedule(valid_from=dt.date(2026, 12, 1), **hours))
        raise RuntimeError("the page's transaction fails after the change")
    assert not DBTaskResult.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        add_work_schedule(actor(world.hq), WorkSchedule(valid_from=dt.date(2026, 12, 1), **hours))
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "cases.tasks.recompute_deadlines"
    assert queued.args_kwargs["args"][2] == "新增作息时间（2026-12-01 起执行）"


def test_the_nightly_job_recounts_with_the_system_as_actor(world, clock):
    clock.set(at(2026, 12, 28, 10))
    case = dispatched(world)
    enter_2027()
    assert recompute_nightly(at(2026, 12, 28, 11)) == "1 个责任单位的处置时限已重算"
    event = case.events.get(action=CaseEvent.Action.RECOMPUTE_DEADLINE)
    assert (event.actor, event.via, event.reason) == (None, "task", "每日时限重算")
