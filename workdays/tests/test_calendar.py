"""Working days: official holidays and 调休 from chinese-calendar, overrides from the database,
entered years (the clock's deadlines are in test_clock)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from workdays.calendar import forget_overrides, is_known_year, is_workday, working_days_between
from workdays.clock import deadline_after
from workdays.models import CalendarDay, HolidayYear

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


def test_deadlines_for_many_cases_read_the_calendar_tables_once(django_assert_num_queries):
    forget_overrides()
    with django_assert_num_queries(3):  # overrides, entered years, working hours
        deadlines = {deadline_after(at("2026-09-28 09:00") + dt.timedelta(hours=h), 5).at for h in range(50)}
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


def test_a_year_is_known_from_the_package_or_once_hq_entered_it():
    assert is_known_year(2025) and is_known_year(2026)
    assert not is_known_year(2027)
    HolidayYear.objects.create(year=2027, source="国办发明电〔2026〕X号")
    assert is_known_year(2027)


def test_working_days_between():
    assert working_days_between(day("2025-09-30"), day("2025-10-09")) == 1
    assert working_days_between(day("2025-10-09"), day("2025-09-30")) == -1
    assert working_days_between(day("2025-09-26"), day("2025-09-26")) == 0
    assert working_days_between(day("2025-09-26"), day("2025-09-29")) == 2
