"""Periods in local (Beijing) time: the one parser of months and the one day range of the project.

A month is ``YYYY-MM`` and a day range two dates, both ends included; they become half-open
intervals of aware moments ``[start, end)``, local midnight to local midnight. Bad text, a month
out of range or a reversed range raise ``ValidationError`` with a message in Chinese, so every
page, API and command refuses them alike (HTTP 400, a form error, a non-zero exit).
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

# Years a period may name: the campaign's records, with room on both sides; beyond this a date is
# a typing error (and year 9999's following month does not exist).
FIRST_YEAR, LAST_YEAR = 2000, 2099
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> tuple[int, int]:
    """``"2026-03"`` → ``(2026, 3)``."""
    match = MONTH_RE.match((text or "").strip())
    if not match:
        raise ValidationError(f"月份“{text}”无效，应为 YYYY-MM，例如 2026-03")
    year, number = int(match.group(1)), int(match.group(2))
    check_year(year)
    return year, number


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(f"年份须在 {FIRST_YEAR} 到 {LAST_YEAR} 之间")


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, timezone.get_current_timezone())


def month_bounds(year: int, number: int) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar month as ``[first day 00:00, next month's first day 00:00)``."""
    check_year(year)
    first = dt.date(year, number, 1)
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return local_midnight(first), local_midnight(following)


def day_range(start: dt.date | None, end: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Two dates, both included (either may be open) → ``[start 00:00, the day after end 00:00)``."""
    for day in (start, end):
        if day is not None:
            check_year(day.year)
    if start and end and start > end:
        raise ValidationError("开始日期不能晚于结束日期")
    lo = local_midnight(start) if start else None
    hi = local_midnight(end + dt.timedelta(days=1)) if end else None
    return lo, hi


def days(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Two dates, both included and both given → ``[start 00:00, the day after end 00:00)``."""
    lo, hi = day_range(start, end)
    assert lo is not None and hi is not None
    return lo, hi


def aware(moment: dt.datetime) -> dt.datetime:
    """A moment without a time zone is read as local (Beijing) time."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    check_year(timezone.localtime(moment).year)
    return moment
