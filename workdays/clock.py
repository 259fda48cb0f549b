"""The deadline clock 时限计时: time limits counted the way the people judged by them count.

Two conventions (``DeadlineRule``), chosen per case category, and stored beside every deadline:

- **Working hours 工作时制** (the digital-city-management way, the default): the clock runs from
  the moment of dispatch through working time only — the periods of ``WorkSchedule`` on working
  days — and stops over lunch, evenings, rest days and holidays. A limit of N working days is N
  times the length of a working day under the hours in force on the start day (7 working hours
  with 08:30–12:00 and 14:30–18:00). The deadline is a moment inside working time (an end of a
  period at the latest), shown to the minute: 2025-09-30 10:00 + 5 working days = 2025-10-14 10:00.
- **Legal days 法定日制** (the civil-law rule for periods counted in days, Civil Code arts. 201 and
  203): the start day is not counted; the period ends at the end of its last day. Counting working
  days, the last day is always a working day (the rule that moves a last day falling on a rest day
  to the next working day is built in): 2025-09-30 10:00 + 5 working days = 2025-10-14 23:59.
- **Clock hours 自然小时**: urgent limits, holidays included, as before.

A deadline that reaches into a year whose holidays are not known (neither ``chinese-calendar`` nor
an entered ``HolidayYear``) is counted with Monday–Friday and marked provisional 暂定; it is
recomputed when HQ enters the year (``cases.deadlines``).
"""

import datetime as dt
import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from .calendar import WorkCalendar, is_known_year, tables
from .models import DeadlineRule, WorkSchedule

END_OF_DAY = dt.time(23, 59, 59)
Period = tuple[dt.time, dt.time]
# No schedule goes this long without working time; a longer search is a broken calendar.
MAX_SEARCH_DAYS = 3660


@dataclass(frozen=True)
class Deadline:
    """A deadline with what produced it: the convention, the limit counted (working days, or
    hours when counted in hours) and whether it is provisional 暂定."""

    at: dt.datetime
    rule: str
    provisional: bool
    limit: int


def default_periods() -> tuple[Period, ...]:
    """The hours used before the first ``WorkSchedule`` (``WORKDAY_HOURS``, "08:30-12:00,14:30-18:00")."""
    text = getattr(settings, "WORKDAY_HOURS", "08:30-12:00,14:30-18:00")
    periods = []
    for part in text.split(","):
        start, end = (dt.time.fromisoformat(t.strip()) for t in part.split("-"))
        periods.append((start, end))
    return tuple(periods)


def schedule_on(day: dt.date) -> WorkSchedule | None:
    """The working-hours row in force on ``day`` (None before the first: the default hours)."""
    schedules = tables().schedules
    index = bisect_right([s.valid_from for s in schedules], day)
    return schedules[index - 1] if index else None


def periods_on(day: dt.date) -> tuple[Period, ...]:
    """The working periods of ``day`` if it is a working day (whatever the calendar says)."""
    schedule = schedule_on(day)
    return schedule.periods(day) if schedule is not None else default_periods()


def day_length(day: dt.date) -> dt.timedelta:
    """The length of a working day under the hours in force on ``day``."""
    return sum((_span(day, start, end) for start, end in periods_on(day)), dt.timedelta())


def _span(day: dt.date, start: dt.time, end: dt.time) -> dt.timedelta:
    return dt.datetime.combine(day, end) - dt.datetime.combine(day, start)


def _days(start: dt.date, step: int = 1) -> Iterator[tuple[dt.date, bool]]:
    """Days from ``start`` (forwards, or backwards with step -1) with whether each is worked."""
    window = 62
    day = start
    for _ in range(MAX_SEARCH_DAYS // window + 1):
        low, high = sorted((day, day + dt.timedelta(days=step * window)))
        calendar = WorkCalendar(low, high)
        for _ in range(window):
            yield day, calendar.is_workday(day)
            day += dt.timedelta(days=step)
    raise ValueError("no working time found within ten years")


def _intervals(day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    zone = timezone.get_current_timezone()
    return [
        (
            timezone.make_aware(dt.datetime.combine(day, start), zone),
            timezone.make_aware(dt.datetime.combine(day, end), zone),
        )
        for start, end in periods_on(day)
    ]


def add_working_time(moment: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The moment when ``amount`` of working time has passed after ``moment``. Work arriving out
    of hours starts at the next working period; a deadline that uses up a period exactly is that
    period's end (18:00, not the next morning)."""
    local = timezone.localtime(moment)
    left = amount
    for day, worked in _days(local.date()):
        if not worked:
            continue
        for begin, end in _intervals(day):
            if end <= local:
                continue
            begin = max(begin, local)
            if begin + left <= end:
                return begin + left
            left -= end - begin
    raise AssertionError("unreachable")  # _days raises first


def working_time_between(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """The working time in [start, end]; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_time_between(end, start)
    low, high = timezone.localtime(start), timezone.localtime(end)
    total = dt.timedelta()
    for day, worked in _days(low.date()):
        if day > high.date():
            break
        if worked and low.date() < day < high.date():
            total += day_length(day)  # a whole day between (long overdue spans walk many)
        elif worked:
            for begin, finish in _intervals(day):
                overlap = min(finish, high) - max(begin, low)
                if overlap > dt.timedelta():
                    total += overlap
    return total


def add_working_hours(moment: dt.datetime, hours: float) -> dt.datetime:
    """A limit in working hours 工作时."""
    return add_working_time(moment, dt.timedelta(hours=hours))


def add_legal_days(moment: dt.datetime, days: int) -> dt.datetime:
    """The civil-law count of ``days`` working days: the start day is not counted; the end of the
    ``days``-th working day after it."""
    local = timezone.localtime(moment)
    counted = 0
    for day, worked in _days(local.date() + dt.timedelta(days=1)):
        counted += worked
        if counted == days:
            return timezone.make_aware(dt.datetime.combine(day, END_OF_DAY), timezone.get_current_timezone())
    raise AssertionError("unreachable")


def add_working_days(moment: dt.datetime, days: int, rule: str = DeadlineRule.WORKING_HOURS) -> dt.datetime:
    """``days`` working days after ``moment`` under ``rule`` (clock hours: whole days of 24 hours)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if rule == DeadlineRule.LEGAL_DAYS:
        return add_legal_days(moment, days)
    if rule == DeadlineRule.CLOCK_HOURS:
        return moment + dt.timedelta(days=days)
    return add_working_time(moment, days * day_length(timezone.localtime(moment).date()))


def is_provisional(start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the time from ``start`` to ``end`` crosses a year whose holidays are not known."""
    first, last = timezone.localtime(start).year, timezone.localtime(end).year
    return any(not is_known_year(year) for year in range(first, last + 1))


def deadline_after(
    start: dt.datetime, days: int = 0, *, hours: int = 0, rule: str = DeadlineRule.WORKING_HOURS
) -> Deadline:
    """The deadline of a limit of ``days`` working days (or ``hours``: working hours, or clock
    hours under ``CLOCK_HOURS``) counted from ``start`` under ``rule``."""
    if bool(days) == bool(hours):
        raise ValueError("a limit is in days or in hours")
    if rule == DeadlineRule.CLOCK_HOURS:
        return Deadline(start + dt.timedelta(days=days, hours=hours), rule, False, days or hours)
    if hours and rule == DeadlineRule.LEGAL_DAYS:
        raise ValueError("the legal day count has no hours")
    at = add_working_hours(start, hours) if hours else add_working_days(start, days, rule)
    return Deadline(at, rule, is_provisional(start, at), days or hours)


def extend(deadline: dt.datetime, rule: str, days: int = 0, *, hours: int = 0) -> Deadline:
    """An extension 延期 adds working time (or clock time) from the current deadline."""
    return deadline_after(deadline, days, hours=hours, rule=rule)


def _number(value: float) -> str:
    rounded = math.floor(value * 10 + 0.5) / 10
    return f"{rounded:g}"


def remaining_text(
    deadline: dt.datetime, rule: str = DeadlineRule.WORKING_HOURS, now: dt.datetime | None = None
) -> str:
    """The time left (or overdue) in the deadline's own terms: "剩余 3.5 个工作时", "已超期 2 个工作日",
    clock hours for urgent (clock-hour) deadlines."""
    now = now or timezone.now()
    if rule == DeadlineRule.CLOCK_HOURS:
        hours = abs((deadline - now).total_seconds()) / 3600
        amount, unit = (hours / 24, "天") if hours >= 24 else (hours, "小时")
    else:
        left = abs(working_time_between(now, deadline))
        day = day_length(timezone.localtime(now).date())
        amount, unit = (left / day, "个工作日") if left >= day else (left.total_seconds() / 3600, "个工作时")
    number = _number(amount)
    if deadline < now:
        return f"已超期 {number} {unit}" if number != "0" else "已超期"
    return f"剩余 {number} {unit}" if number != "0" else "即将到期"


def due_soon_until(now: dt.datetime | None = None) -> dt.datetime:
    """Deadlines before this moment are due soon 即将到期: less than ``WORKDAY_DUE_SOON_HOURS``
    working hours (7, one working day) from ``now``."""
    hours = float(getattr(settings, "WORKDAY_DUE_SOON_HOURS", 7))
    return add_working_hours(now or timezone.now(), hours)


def missing_year_warning(today: dt.date | None = None) -> str | None:
    """HQ's warning when the holidays of this year, or from October of next year, are not known."""
    today = today or timezone.localdate()
    years = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    missing = [year for year in years if not is_known_year(year)]
    if not missing:
        return None
    year = missing[0]
    return (
        f"尚未录入 {year} 年节假日安排：跨入 {year} 年的案件时限暂按周一至周五计算并标为“暂定”。"
        "请在国务院办公厅发布通知后录入。"
    )
