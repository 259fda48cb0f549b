"""Working days: official holidays and 调休 from chinese-calendar, overrides from the database,
the 17:30 cut-off, and deadlines counted in working days."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workdays.calendar import (
    WorkCalendar,
    add_hours,
    add_working_days,
    first_working_day,
    is_workday,
    working_days_between,
)
from workdays.models import CalendarDay

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_official_holidays_and_adjusted_working_days():
    assert is_workday(day("2025-09-26"))  # Friday
    assert not is_workday(day("2025-09-27"))  # Saturday
    assert is_workday(day("2025-09-28"))  # Sunday worked for National Day (调休)
    assert not is_workday(day("2025-10-01"))  # National Day
    assert not is_workday(day("2025-10-08"))
    assert is_workday(day("2025-10-11"))  # Saturday worked (调休)


def test_an_override_wins_over_the_official_calendar():
    CalendarDay.objects.create(date=day("2025-10-08"), is_workday=True, name="本地调整")
    assert is_workday(day("2025-10-08"))


def test_deadlines_for_many_cases_read_the_overrides_table_once(django_assert_num_queries):
    with django_assert_num_queries(1):
        deadlines = {add_working_days(at("2026-09-28 09:00") + dt.timedelta(hours=h), 5) for h in range(50)}
    assert len(deadlines) > 1
    override = CalendarDay.objects.create(date=day("2026-10-09"), is_workday=False, name="本地调整")
    assert not is_workday(day("2026-10-09"))  # a change is seen at once by the process that made it
    override.delete()
    assert is_workday(day("2026-10-09"))


def test_years_the_package_does_not_know_use_weekdays_and_overrides():
    assert is_workday(day("2031-03-03"))  # Monday
    assert not is_workday(day("2031-03-01"))  # Saturday
    CalendarDay.objects.create(date=day("2031-03-03"), is_workday=False, name="假期")
    assert not is_workday(day("2031-03-03"))


def test_five_working_days_across_national_day():
    # Fri 26 (1), Sun 28 调休 (2), Mon 29 (3), Tue 30 (4), holiday 1–8 Oct, Thu 9 Oct (5).
    assert add_working_days(at("2025-09-26 10:00"), 5) == at("2025-10-09 23:59:59")


def test_work_arriving_after_the_cut_off_starts_on_the_next_working_day():
    assert first_working_day(at("2025-09-26 17:29")) == day("2025-09-26")
    assert first_working_day(at("2025-09-26 17:30")) == day("2025-09-28")
    assert first_working_day(at("2025-10-01 09:00")) == day("2025-10-09")
    # A Friday evening case has the same deadline as a Monday morning one.
    assert add_working_days(at("2025-11-07 18:00"), 5) == add_working_days(at("2025-11-10 08:00"), 5)


def test_the_cut_off_is_a_setting(settings):
    settings.WORKDAY_CUTOFF = "18:00"
    assert first_working_day(at("2025-09-26 17:45")) == day("2025-09-26")


def test_a_deadline_needs_at_least_one_day():
    with pytest.raises(ValueError):
        add_working_days(at("2025-09-26 10:00"), 0)


def test_urgent_work_counts_clock_hours():
    assert add_hours(at("2025-09-30 20:00"), 24) == at("2025-10-01 20:00")


def test_working_days_between():
    assert working_days_between(day("2025-09-30"), day("2025-10-09")) == 1
    assert working_days_between(day("2025-10-09"), day("2025-09-30")) == -1
    assert working_days_between(day("2025-09-26"), day("2025-09-26")) == 0
    assert working_days_between(day("2025-09-26"), day("2025-09-29")) == 2


@settings(max_examples=60, deadline=None, database=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31)),
    days=st.integers(min_value=1, max_value=15),
)
def test_a_deadline_is_the_end_of_the_nth_working_day(moment, days):
    start = moment.replace(tzinfo=SHANGHAI)
    deadline = add_working_days(start, days)
    assert deadline.time() == dt.time(23, 59, 59)
    assert deadline >= start
    first = first_working_day(start)
    calendar = WorkCalendar(first, deadline.date())
    assert calendar.is_workday(deadline.date())
    span = [first + dt.timedelta(days=i) for i in range((deadline.date() - first).days + 1)]
    assert sum(calendar.is_workday(d) for d in span) == days
    assert add_working_days(start, days + 1) > deadline
