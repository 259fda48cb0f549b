"""The deadline clock: hand-worked deadlines across Spring Festival 2026, National Day 2025 and a
summer/winter switch under both conventions, properties of the working-hours clock, remaining time,
provisional deadlines over unknown years and HQ's warning.

Default hours (no ``WorkSchedule``): 08:30–12:00 and 14:30–18:00, a working day of 7 hours.
National Day 2025: 1–8 Oct off, Sun 28 Sep and Sat 11 Oct worked (调休).
Spring Festival 2026: 15–23 Feb off, Sat 14 Feb and Sat 28 Feb worked.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workdays.calendar import WorkCalendar
from workdays.clock import (
    add_working_days,
    add_working_hours,
    day_length,
    deadline_after,
    due_soon_until,
    extend,
    missing_year_warning,
    periods_on,
    remaining_text,
    working_time_between,
)
from workdays.models import CalendarDay, DeadlineRule, HolidayYear, WorkSchedule

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS, LEGAL, CLOCK = DeadlineRule.WORKING_HOURS, DeadlineRule.LEGAL_DAYS, DeadlineRule.CLOCK_HOURS


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def seasons() -> WorkSchedule:
    """Winter 08:30–12:00, 14:00–17:30; summer (1 May – 30 Sep) 08:30–12:00, 14:30–18:00."""
    schedule, _ = WorkSchedule.objects.get_or_create(
        valid_from=dt.date(2024, 1, 1),
        defaults={
            "name": "冬夏作息",
            "morning_start": dt.time(8, 30),
            "morning_end": dt.time(12),
            "afternoon_start": dt.time(14),
            "afternoon_end": dt.time(17, 30),
            "summer_from": "05-01",
            "summer_until": "09-30",
            "summer_morning_start": dt.time(8, 30),
            "summer_morning_end": dt.time(12),
            "summer_afternoon_start": dt.time(14, 30),
            "summer_afternoon_end": dt.time(18),
        },
    )
    return schedule


# --- hand-worked: National Day 2025 ------------------------------------------------------------


def test_the_documented_example_2025_09_30_10_00_plus_5_working_days():
    # Working hours: 5 × 7 h = 35 h. 30 Sep 10:00–12:00 and 14:30–18:00 = 5.5 h; 1–8 Oct off;
    # 9, 10, 11 (调休 Saturday) and 13 Oct = 28 h (33.5); 1.5 h on 14 Oct: 08:30 → 10:00.
    assert deadline_after(at("2025-09-30 10:00"), 5, rule=HOURS).at == at("2025-10-14 10:00")
    # Legal days: 30 Sep not counted; 9 (1), 10 (2), 11 (3), 13 (4), 14 Oct (5), end of the day.
    assert deadline_after(at("2025-09-30 10:00"), 5, rule=LEGAL).at == at("2025-10-14 23:59:59")


def test_national_day_2025_working_hours():
    # Sunday 28 Sep is worked: 1 h left on it, then 08:30–09:30 on Monday.
    assert add_working_hours(at("2025-09-28 17:00"), 2) == at("2025-09-29 09:30")
    # Out of hours on Friday evening: the clock starts Sunday 28 Sep (调休) 08:30; a whole day.
    assert add_working_days(at("2025-09-26 19:00"), 1, HOURS) == at("2025-09-28 18:00")
    # A period used up exactly ends the deadline at its end, not the next morning.
    assert add_working_days(at("2025-09-30 08:30"), 1, HOURS) == at("2025-09-30 18:00")
    # Dispatched on a holiday: from 9 Oct 08:30.
    assert add_working_days(at("2025-10-03 11:00"), 2, HOURS) == at("2025-10-10 18:00")
    # Lunch is not working time: 12:30 + 1 h = 15:30.
    assert add_working_hours(at("2025-09-30 12:30"), 1) == at("2025-09-30 15:30")


def test_national_day_2025_legal_days():
    # The start day is not counted; 1 working day after 30 Sep is 9 Oct (1–8 off).
    assert add_working_days(at("2025-09-30 08:00"), 1, LEGAL) == at("2025-10-09 23:59:59")
    # Starting on a holiday: the next working day is day 1.
    assert add_working_days(at("2025-10-03 11:00"), 1, LEGAL) == at("2025-10-09 23:59:59")
    # Friday 26 Sep + 2: Sunday 28 (调休) and Monday 29.
    assert add_working_days(at("2025-09-26 17:45"), 2, LEGAL) == at("2025-09-29 23:59:59")


# --- hand-worked: Spring Festival 2026 -----------------------------------------------------------


def test_spring_festival_2026_working_hours():
    # Fri 13 Feb 16:00: 2 h on 13, then Sat 14 (调休) 08:30–12:00, 14:30–16:00.
    assert add_working_days(at("2026-02-13 16:00"), 1, HOURS) == at("2026-02-14 16:00")
    # + 3 days: 2 h on 13, 7 h on 14, 7 h on 24 (15–23 off), 5 h on 25 → 16:00.
    assert add_working_days(at("2026-02-13 16:00"), 3, HOURS) == at("2026-02-25 16:00")
    # Urgent limits count clock hours through the holiday.
    assert deadline_after(at("2026-02-16 20:00"), hours=24, rule=CLOCK).at == at("2026-02-17 20:00")


def test_spring_festival_2026_legal_days():
    assert add_working_days(at("2026-02-13 16:00"), 3, LEGAL) == at("2026-02-25 23:59:59")  # 14, 24, 25
    # From the 调休 Saturday: the next day is a holiday, so the period's last day moves to 24 Feb.
    assert add_working_days(at("2026-02-14 10:00"), 1, LEGAL) == at("2026-02-24 23:59:59")
    assert add_working_days(at("2026-02-27 10:00"), 1, LEGAL) == at("2026-02-28 23:59:59")  # Sat worked


# --- hand-worked: the summer/winter switch --------------------------------------------------------


def test_switch_to_winter_hours_across_national_day():
    seasons()
    assert periods_on(dt.date(2025, 9, 30)) == ((dt.time(8, 30), dt.time(12)), (dt.time(14, 30), dt.time(18)))
    assert periods_on(dt.date(2025, 10, 9)) == ((dt.time(8, 30), dt.time(12)), (dt.time(14), dt.time(17, 30)))
    # 30 Sep (summer) 16:00–18:00 = 2 h; 9 Oct (winter) 08:30–12:00 = 3.5 h, 14:00–15:30.
    assert add_working_days(at("2025-09-30 16:00"), 1, HOURS) == at("2025-10-09 15:30")
    # Legal days do not depend on the hours.
    assert add_working_days(at("2025-09-30 16:00"), 1, LEGAL) == at("2025-10-09 23:59:59")


def test_switch_to_summer_hours_across_labour_day():
    seasons()
    # Wed 30 Apr 2025 (winter) 17:00–17:30 = 0.5 h; 1–5 May off; Tue 6 May (summer): 3.5 h in the
    # morning, then 14:30 + 3 h = 17:30.
    assert add_working_days(at("2025-04-30 17:00"), 1, HOURS) == at("2025-05-06 17:30")
    # Winter hours end at 17:30: dispatched at 17:45 the clock starts the next working day.
    assert add_working_hours(at("2025-04-30 17:45"), 1) == at("2025-05-06 09:30")


def test_a_later_schedule_changes_only_the_days_from_its_date():
    seasons()
    before = add_working_days(at("2025-09-30 16:00"), 1, HOURS)
    WorkSchedule.objects.create(
        valid_from=dt.date(2026, 1, 1),
        morning_start=dt.time(9),
        morning_end=dt.time(12),
        afternoon_start=dt.time(13),
        afternoon_end=dt.time(17),
    )
    assert add_working_days(at("2025-09-30 16:00"), 1, HOURS) == before
    assert day_length(dt.date(2026, 3, 2)) == dt.timedelta(hours=7)
    assert add_working_hours(at("2026-03-02 08:00"), 4) == at("2026-03-02 14:00")  # 09:00–12:00, 13:00–14:00


# --- extensions ---------------------------------------------------------------------------------


def test_extensions_add_working_time_from_the_current_deadline():
    # A deadline at 18:00 on 30 Sep 2025 + 1 working day: all of 9 Oct.
    assert extend(at("2025-09-30 18:00"), HOURS, 1).at == at("2025-10-09 18:00")
    assert extend(at("2025-09-30 23:59:59"), LEGAL, 1).at == at("2025-10-09 23:59:59")
    # An urgent (clock-hour) deadline extended by hours adds hours, not the rest of a day.
    assert extend(at("2025-10-01 21:00"), CLOCK, hours=2).at == at("2025-10-01 23:00")


# --- remaining time -----------------------------------------------------------------------------


def test_remaining_time_in_working_terms():
    now = at("2025-09-30 10:00")
    assert remaining_text(at("2025-09-30 15:00"), HOURS, now) == "剩余 2.5 个工作时"  # 10–12, 14:30–15
    assert remaining_text(at("2025-10-14 10:00"), HOURS, now) == "剩余 5 个工作日"
    # Overdue since Fri 26 Sep 10:00: 5.5 + 7 (28) + 7 (29) + 1.5 (30) = 21 h = 3 working days.
    assert remaining_text(at("2025-09-26 10:00"), HOURS, now) == "已超期 3 个工作日"
    assert remaining_text(at("2025-09-30 09:00"), LEGAL, now) == "已超期 1 个工作时"
    # Overdue over the holiday, no working time since: overdue, without a number.
    assert remaining_text(at("2025-09-30 23:59:59"), LEGAL, at("2025-10-05 12:00")) == "已超期"
    assert remaining_text(at("2025-10-01 15:00"), CLOCK, at("2025-10-01 09:30")) == "剩余 5.5 小时"
    assert remaining_text(at("2025-10-03 09:30"), CLOCK, at("2025-10-01 09:30")) == "剩余 2 天"


def test_due_soon_means_less_than_one_working_day_left():
    # 16:00 on 30 Sep: 2 h that day, 5 h on 9 Oct (08:30–12:00, 14:30–16:00).
    assert due_soon_until(at("2025-09-30 16:00")) == at("2025-10-09 16:00")


def test_due_soon_is_a_setting(settings):
    settings.WORKDAY_DUE_SOON_HOURS = 3.5
    assert due_soon_until(at("2025-09-30 08:30")) == at("2025-09-30 12:00")


# --- years without a known schedule ----------------------------------------------------------------


def test_a_deadline_into_an_unknown_year_is_provisional_until_the_year_is_entered():
    start = at("2026-12-28 10:00")
    provisional = deadline_after(start, 5, rule=HOURS)
    # 2027 unknown: Friday 1 Jan counted as a working day.
    assert provisional.at == at("2027-01-04 10:00") and provisional.provisional
    assert not deadline_after(start, 2, rule=HOURS).provisional  # ends in 2026
    assert deadline_after(start, 5, rule=LEGAL).provisional
    assert not deadline_after(start, hours=120, rule=CLOCK).provisional
    HolidayYear.objects.create(year=2027)
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    entered = deadline_after(start, 5, rule=HOURS)
    assert entered.at == at("2027-01-05 10:00") and not entered.provisional


def test_hq_is_warned_from_october_when_next_years_schedule_is_missing():
    assert missing_year_warning(dt.date(2026, 9, 30)) is None
    assert "2027" in (missing_year_warning(dt.date(2026, 10, 1)) or "")
    assert "2027" in (missing_year_warning(dt.date(2027, 1, 5)) or "")  # the year has begun without it
    HolidayYear.objects.create(year=2027)
    assert missing_year_warning(dt.date(2026, 12, 1)) is None


def test_a_limit_is_in_days_or_in_hours():
    with pytest.raises(ValueError):
        deadline_after(at("2025-09-26 10:00"), 0, rule=HOURS)
    with pytest.raises(ValueError):
        deadline_after(at("2025-09-26 10:00"), 1, hours=2, rule=HOURS)
    with pytest.raises(ValueError):
        deadline_after(at("2025-09-26 10:00"), hours=2, rule=LEGAL)


# --- properties ---------------------------------------------------------------------------------

moments = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 20)).map(
    lambda m: m.replace(tzinfo=SHANGHAI)
)


def in_working_time(moment: dt.datetime) -> bool:
    local = moment.astimezone(SHANGHAI)
    worked = WorkCalendar(local.date(), local.date()).is_workday(local.date())
    return worked and any(start <= local.time() <= end for start, end in periods_on(local.date()))


@settings(max_examples=80, deadline=None, database=None)
@given(start=moments, days=st.integers(min_value=1, max_value=10), summer_winter=st.booleans())
def test_a_working_hours_deadline_lies_in_working_time_after_exactly_its_hours(start, days, summer_winter):
    if summer_winter:
        seasons()
    else:
        WorkSchedule.objects.all().delete()
    deadline = add_working_days(start, days, HOURS)
    assert in_working_time(deadline)
    assert deadline > start
    if day_length(start.date()) == day_length(deadline.date()):
        assert working_time_between(start, deadline) == days * day_length(start.date())


@settings(max_examples=80, deadline=None, database=None)
@given(start=moments, later=st.timedeltas(min_value=dt.timedelta(), max_value=dt.timedelta(days=3)))
def test_a_deadline_grows_with_the_dispatch_moment_by_the_working_time_between(start, later):
    first, second = add_working_days(start, 3, HOURS), add_working_days(start + later, 3, HOURS)
    assert first <= second
    # No jump anywhere (17:30 included): the deadline moves by exactly the working time the dispatch moved.
    assert working_time_between(first, second) == working_time_between(start, start + later)


def test_no_jump_at_half_past_five():
    assert add_working_days(at("2025-11-07 17:29"), 1, HOURS) == at("2025-11-10 17:29")
    assert add_working_days(at("2025-11-07 17:31"), 1, HOURS) == at("2025-11-10 17:31")


@settings(max_examples=60, deadline=None, database=None)
@given(start=moments, days=st.integers(min_value=1, max_value=15))
def test_a_legal_deadline_ends_the_nth_working_day_after_the_start_day(start, days):
    deadline = add_working_days(start, days, LEGAL)
    assert deadline.time() == dt.time(23, 59, 59)
    first = start.date() + dt.timedelta(days=1)
    calendar = WorkCalendar(first, deadline.date())
    assert calendar.is_workday(deadline.date())
    span = [first + dt.timedelta(days=i) for i in range((deadline.date() - first).days + 1)]
    assert sum(calendar.is_workday(d) for d in span) == days
