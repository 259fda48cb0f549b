"""Warnings across holidays, the urgency board, the 五落实 check, the matrix and who sees which task."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from indicators import queries
from indicators.models import Milestone, Task
from indicators.tests.factories import IndexItemFactory, TaskFactory
from workdays.calendar import working_days_between
from workdays.models import CalendarDay

pytestmark = pytest.mark.django_db

NATIONAL_DAY_EVE = dt.date(2026, 9, 30)  # Wed; 10-01..10-07 holiday, 10-10 (Sat) an adjusted workday


def level(deadline, today, **kwargs):
    task = TaskFactory(deadline=deadline, **kwargs)
    warning = queries.Warnings([task], today).of(task)
    return warning.level, warning.label


def test_the_national_day_holiday_is_not_counted():
    # Nine calendar days, but only 10-08 and 10-09 are working days: yellow, not green.
    assert level(dt.date(2026, 10, 9), NATIONAL_DAY_EVE) == ("yellow", "剩2个工作日")
    assert level(dt.date(2026, 10, 8), NATIONAL_DAY_EVE) == ("red", "剩1个工作日")
    assert level(NATIONAL_DAY_EVE, NATIONAL_DAY_EVE) == ("red", "今日到期")
    assert level(dt.date(2026, 10, 21), dt.date(2026, 9, 21))[0] == ""


def test_overdue_counts_working_days_including_adjusted_saturdays():
    # (09-30, 10-12]: 10-08, 10-09, 10-10 (调休 Saturday), 10-12.
    assert level(NATIONAL_DAY_EVE, dt.date(2026, 10, 12)) == ("red", "逾期4个工作日")
    assert level(NATIONAL_DAY_EVE, dt.date(2026, 10, 3)) == ("red", "已逾期")


def test_overrides_in_the_database_count():
    CalendarDay.objects.create(date=dt.date(2026, 10, 9), is_workday=False, name="地方调整")
    assert level(dt.date(2026, 10, 9), NATIONAL_DAY_EVE) == ("red", "剩1个工作日")


def test_rules_come_from_settings(settings):
    settings.INDICATORS_WARNINGS = {"yellow_workdays": 2, "red_workdays": 0}
    assert level(dt.date(2026, 10, 8), NATIONAL_DAY_EVE)[0] == "yellow"
    assert level(dt.date(2026, 10, 12), NATIONAL_DAY_EVE)[0] == ""
    assert level(NATIONAL_DAY_EVE, NATIONAL_DAY_EVE)[0] == "red"


def test_closed_and_undated_tasks_have_no_warning():
    assert level(dt.date(2026, 1, 1), NATIONAL_DAY_EVE, state=Task.State.CLOSED) == ("", "已销号")
    assert level(None, NATIONAL_DAY_EVE) == ("", "未定时限")


def test_falling_behind_the_monthly_milestone_is_yellow():
    task = TaskFactory(deadline=dt.date(2026, 12, 31), progress=20)
    Milestone.objects.create(task=task, month=dt.date(2026, 9, 1), target=50)
    task = queries.with_details(Task.objects.filter(pk=task.pk)).get()
    warning = queries.Warnings([task], NATIONAL_DAY_EVE).of(task)
    assert (warning.level, warning.label) == ("yellow", "进度滞后（本月计划50%）")
    assert queries.Warnings([task], dt.date(2026, 8, 31)).of(task).level == ""


class TestAgreesWithTheSharedCalendar(HypothesisTestCase):
    @hsettings(max_examples=60, deadline=None)
    @given(
        today=st.dates(dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
        offset=st.integers(-60, 60),
    )
    def test_days_left_is_the_calendars_working_days(self, today, offset):
        deadline = today + dt.timedelta(days=offset)
        task = TaskFactory(deadline=deadline)
        warning = queries.Warnings([task], today).of(task)
        assert warning.days_left == working_days_between(today, deadline)
        assert (warning.level == "red") == (deadline < today or warning.days_left <= 1)


def test_board_is_sorted_by_urgency(world):
    today = NATIONAL_DAY_EVE
    far = TaskFactory(item=world.item, title="远期", deadline=dt.date(2026, 12, 31), lead_unit=world.dept)
    key = TaskFactory(
        item=world.item, title="挂牌远期", deadline=dt.date(2026, 12, 31), is_key=True, lead_unit=world.dept
    )
    soon = TaskFactory(item=world.item, title="临期", deadline=dt.date(2026, 10, 9), lead_unit=world.dept)
    late = TaskFactory(item=world.item, title="逾期", deadline=dt.date(2026, 9, 1), lead_unit=world.dept)
    done = TaskFactory(
        item=world.item,
        title="已销号",
        deadline=dt.date(2026, 9, 1),
        state=Task.State.CLOSED,
        lead_unit=world.dept,
    )
    rows = queries.board(Task.objects.all(), today)
    assert [t.title for t, _ in rows] == [late.title, soon.title, key.title, far.title, done.title]


def test_five_check_lists_every_gap(world):
    world.item.tasks.all().delete()
    complete = TaskFactory(
        item=world.item, lead_unit=world.dept, responsible_person=world.handler, deadline=dt.date(2026, 12, 1)
    )
    Milestone.objects.create(task=complete, month=dt.date(2026, 11, 1), target=50)
    gaps = TaskFactory(item=world.item, lead_unit=world.dept)
    rows = queries.five_check(world.system)
    found = {(row.item.pk, row.task.pk if row.task else None): row.missing for row in rows}
    assert found == {
        (world.item.pk, gaps.pk): ["责任人", "进度计划", "完成时限"],
        (world.item2.pk, None): ["任务"],
    }
    unassigned = TaskFactory(item=world.item2)
    found = {row.task.pk: row.missing for row in queries.five_check(world.system) if row.task}
    assert found[unassigned.pk] == ["责任单位", "责任人", "进度计划", "完成时限"]


def test_matrix_colours_items_by_unit(world):
    today = NATIONAL_DAY_EVE
    TaskFactory(item=world.item, lead_unit=world.dept, deadline=dt.date(2026, 9, 1))
    TaskFactory(item=world.item, lead_unit=world.dept, state=Task.State.CLOSED)
    TaskFactory(item=world.item, lead_unit=world.other, state=Task.State.CLOSED)
    TaskFactory(item=world.item2, lead_unit=world.other, deadline=dt.date(2026, 10, 9))
    TaskFactory(item=IndexItemFactory(), lead_unit=world.other)  # another system
    result = queries.matrix(world.system, Task.objects.all(), today)
    assert [u.code for u in result.units] == ["D1", "D2"]
    assert [(item.pk, cells) for item, cells in result.rows] == [
        (world.item.pk, ["red", "closed"]),
        (world.item2.pk, ["", "yellow"]),
    ]


def test_each_person_sees_only_their_tasks(world):
    dept = TaskFactory(item=world.item, title="城管", lead_unit=world.dept)
    co = TaskFactory(item=world.item, title="住建牵头城管配合", lead_unit=world.other)
    co.co_units.add(world.dept)
    street = TaskFactory(item=world.item, title="街道", lead_unit=world.street)
    community = TaskFactory(item=world.item, title="社区", lead_unit=world.community)
    led = TaskFactory(
        item=world.item2, title="领导负责", lead_unit=world.other, responsible_leader=world.leader
    )
    unassigned = TaskFactory(item=world.item2, title="未分解")

    def seen(user):
        return set(queries.visible_tasks(user).values_list("title", flat=True))

    assert seen(world.hq) == {t.title for t in (dept, co, street, community, led, unassigned)}
    assert seen(world.handler) == {dept.title, co.title}
    assert seen(world.other_handler) == {co.title, led.title}
    assert seen(world.street_handler) == {street.title, community.title}
    assert seen(world.community_handler) == {community.title}
    assert seen(world.leader) == {street.title, community.title, led.title}
