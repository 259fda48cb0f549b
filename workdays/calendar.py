"""Working days (工作日): official Chinese holidays and adjusted working days (调休).

The ``chinese-calendar`` package knows the official schedule up to its last published year. Days
in ``CalendarDay`` override it (and cover later years, entered by HQ from the State Council's
notice, see ``HolidayYear``); with neither, Monday–Friday work. Deadlines are counted by
``workdays.clock`` on top of this calendar.
"""

import datetime as dt
import time
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

from .models import CalendarDay, HolidayYear, WorkSchedule


@lru_cache(maxsize=1)
def official_years() -> tuple[int, int]:
    """The first and last year whose official schedule ``chinese-calendar`` knows."""
    years = [d.year for d in chinese_calendar.holidays] + [d.year for d in chinese_calendar.workdays]
    return min(years), max(years)


@dataclass(frozen=True)
class Tables:
    """The calendar's own tables, read together: overrides, entered years, working hours."""

    overrides: dict[dt.date, bool]
    entered_years: frozenset[int]
    schedules: tuple[WorkSchedule, ...]  # oldest first


# The tables are tiny and change a few times a year, while deadlines are computed for every case
# on a page: each process keeps them for TABLES_TTL seconds. A change takes effect at once in the
# process that saves it (signals in apps.py) and within the TTL elsewhere.
TABLES_TTL = 60.0
_loaded: tuple[float, Tables] | None = None


def tables() -> Tables:
    global _loaded
    now = time.monotonic()
    if _loaded is None or now - _loaded[0] > TABLES_TTL:
        _loaded = (
            now,
            Tables(
                overrides=dict(CalendarDay.objects.values_list("date", "is_workday")),
                entered_years=frozenset(HolidayYear.objects.values_list("year", flat=True)),
                schedules=tuple(WorkSchedule.objects.order_by("valid_from")),
            ),
        )
    return _loaded[1]


def forget_overrides(**_kwargs) -> None:
    """Drop this process's copy of the calendar tables (after a change, or between tests)."""
    global _loaded
    _loaded = None


def is_known_year(year: int) -> bool:
    """Whether the year's official holidays are known (the package, or entered by HQ)."""
    first, last = official_years()
    return first <= year <= last or year in tables().entered_years


@lru_cache(maxsize=16384)  # the package's answers never change; it checks its range on every call
def _official_is_workday(day: dt.date) -> bool:
    first, last = official_years()
    if first <= day.year <= last:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


class WorkCalendar:
    """Answers working-day questions over a window, reading the overrides table once."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start, self.end = start, end
        self.overrides = {day: work for day, work in tables().overrides.items() if start <= day <= end}

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _official_is_workday(day)


def is_workday(day: dt.date) -> bool:
    return WorkCalendar(day, day).is_workday(day)


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
