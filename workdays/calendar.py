"""Working days (工作日): official Chinese holidays and adjusted working days (调休).

The ``chinese-calendar`` package knows the official schedule up to its last published year. Days
in ``CalendarDay`` override it (and cover later years); with neither, Monday–Friday work.

Deadlines counted in working days start on the next working day when a case arrives after the
daily cut-off (``WORKDAY_CUTOFF``, 17:30 by default) or on a rest day: a case dispatched at 18:00
on Friday has the same deadline as one dispatched at 08:00 on Monday. A deadline of N working days
ends at the end of the Nth working day counted from the start day (the start day itself is day 1
when it is a working day before the cut-off, because work can still begin that afternoon).
"""

import datetime as dt
import time
from functools import lru_cache

import chinese_calendar
from django.conf import settings
from django.utils import timezone

from .models import CalendarDay

END_OF_DAY = dt.time(23, 59, 59)


def cutoff_time() -> dt.time:
    hours, minutes = getattr(settings, "WORKDAY_CUTOFF", "17:30").split(":")
    return dt.time(int(hours), int(minutes))


@lru_cache(maxsize=1)
def _official_range() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays] + [d.year for d in chinese_calendar.workdays]
    return min(years), max(years)


# The overrides table is tiny and changes a few times a year, while deadlines are computed for every
# case on a page: each process keeps the whole table for OVERRIDES_TTL seconds. A change takes
# effect at once in the process that saves it (signals in apps.py) and within the TTL elsewhere.
OVERRIDES_TTL = 60.0
_loaded: tuple[float, dict[dt.date, bool]] | None = None


def _all_overrides() -> dict[dt.date, bool]:
    global _loaded
    now = time.monotonic()
    if _loaded is None or now - _loaded[0] > OVERRIDES_TTL:
        _loaded = (now, dict(CalendarDay.objects.values_list("date", "is_workday")))
    return _loaded[1]


def forget_overrides(**_kwargs) -> None:
    """Drop this process's copy of the overrides table (after a change, or between tests)."""
    global _loaded
    _loaded = None


def _overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    return {day: work for day, work in _all_overrides().items() if start <= day <= end}


def _official_is_workday(day: dt.date) -> bool:
    first, last = _official_range()
    if first <= day.year <= last:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


class WorkCalendar:
    """Answers working-day questions over a window, reading the overrides table once."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start, self.end = start, end
        self.overrides = _overrides(start, end)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _official_is_workday(day)


def is_workday(day: dt.date) -> bool:
    return WorkCalendar(day, day).is_workday(day)


def _window(start: dt.date, days: int) -> WorkCalendar:
    # A run of holidays is at most ~9 days; three calendar weeks per five working days is ample.
    return WorkCalendar(start - dt.timedelta(days=1), start + dt.timedelta(days=days * 3 + 30))


def first_working_day(moment: dt.datetime, calendar: WorkCalendar | None = None) -> dt.date:
    """The working day on which work starting at ``moment`` begins (after the cut-off: the next one)."""
    local = timezone.localtime(moment)
    day = local.date()
    cal = calendar or _window(day, 10)
    if local.time() >= cutoff_time() or not cal.is_workday(day):
        day += dt.timedelta(days=1)
        while not cal.is_workday(day):
            day += dt.timedelta(days=1)
    return day


def add_working_days(moment: dt.datetime, days: int) -> dt.datetime:
    """The deadline for work of ``days`` working days starting at ``moment``: end of the last day."""
    if days < 1:
        raise ValueError("days must be at least 1")
    local = timezone.localtime(moment)
    cal = _window(local.date(), days)
    day = first_working_day(moment, cal)
    counted = 1
    while counted < days:
        day += dt.timedelta(days=1)
        if cal.is_workday(day):
            counted += 1
    return timezone.make_aware(dt.datetime.combine(day, END_OF_DAY), timezone.get_current_timezone())


def add_hours(moment: dt.datetime, hours: int) -> dt.datetime:
    """Urgent work is counted in clock hours, holidays included."""
    return moment + dt.timedelta(hours=hours)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: how many working days remain from ``start`` until ``end``.

    Negative when ``end`` is before ``start`` (the number of working days overdue)."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    low, high = sorted((start, end))
    cal = WorkCalendar(low, high)
    count = sum(1 for i in range(1, (high - low).days + 1) if cal.is_workday(low + dt.timedelta(days=i)))
    return sign * count
