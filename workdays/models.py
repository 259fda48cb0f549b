"""The working calendar 工作日历: which days are worked, and at which hours.

``CalendarDay`` overrides the official holiday schedule day by day; ``HolidayYear`` records that a
year's schedule (the State Council's notice 国务院办公厅关于某年部分节假日安排的通知) has been entered;
``WorkSchedule`` holds the district's working hours 作息时间 with their history and summer/winter
switch; ``DeadlineRule`` names the ways a time limit is counted (``workdays.clock``).
"""

import datetime as dt
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class DeadlineRule(models.TextChoices):
    """时限计算规则: how a deadline was counted (stored beside every deadline)."""

    WORKING_HOURS = "working_hours", "工作时制"
    LEGAL_DAYS = "legal_days", "法定日制"
    CLOCK_HOURS = "clock_hours", "自然小时"


class CalendarDay(models.Model):
    """工作日历调整: a day whose working status overrides the official calendar.

    Used for years the ``chinese-calendar`` package does not know yet (the State Council publishes
    each year's holidays and 调休 working days in the autumn before), and for local decisions.
    """

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    name = models.CharField("说明", max_length=50, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作日历调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"


class HolidayYear(models.Model):
    """年度节假日安排: HQ entered this year's holidays and adjusted working days (its days are
    ``CalendarDay`` rows). A year neither this table nor ``chinese-calendar`` knows is unknown:
    deadlines reaching into it are provisional 暂定."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("依据", max_length=200, blank=True)
    entered_at = models.DateTimeField("录入时间", auto_now=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "年度节假日安排"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年节假日安排"


@lru_cache(maxsize=64)
def _month_day(value: str) -> tuple[int, int]:
    try:
        day = dt.datetime.strptime(f"2024-{value}", "%Y-%m-%d")  # a leap year accepts 02-29
    except ValueError as exc:
        raise ValidationError("请按“月-日”填写，如 05-01") from exc
    return day.month, day.day


class WorkSchedule(models.Model):
    """作息时间: the district's working hours from ``valid_from`` on, until the next row's date.

    A morning and an afternoon period; optionally a summer period 夏季作息 (``summer_from`` to
    ``summer_until``, month-day, every year) with its own hours. Rows are never rewritten once in
    force: a change is a new row from a later date, so a deadline is always counted with the hours
    in force on each day it spans."""

    valid_from = models.DateField("启用日期", unique=True)
    name = models.CharField("名称", max_length=50, blank=True)
    morning_start = models.TimeField("上午上班")
    morning_end = models.TimeField("上午下班")
    afternoon_start = models.TimeField("下午上班")
    afternoon_end = models.TimeField("下午下班")
    summer_from = models.CharField("夏季作息开始（月-日）", max_length=5, blank=True)
    summer_until = models.CharField("夏季作息结束（月-日，含）", max_length=5, blank=True)
    summer_morning_start = models.TimeField("夏季上午上班", null=True, blank=True)
    summer_morning_end = models.TimeField("夏季上午下班", null=True, blank=True)
    summer_afternoon_start = models.TimeField("夏季下午上班", null=True, blank=True)
    summer_afternoon_end = models.TimeField("夏季下午下班", null=True, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    SUMMER_TIMES = (
        "summer_morning_start",
        "summer_morning_end",
        "summer_afternoon_start",
        "summer_afternoon_end",
    )

    class Meta:
        verbose_name = verbose_name_plural = "作息时间"
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.valid_from} 起 {self.name}".strip()

    @property
    def has_summer(self) -> bool:
        return bool(self.summer_from and self.summer_until)

    def clean(self) -> None:
        periods = [(self.morning_start, self.morning_end, self.afternoon_start, self.afternoon_end)]
        if self.summer_from or self.summer_until:
            if not (self.summer_from and self.summer_until):
                raise ValidationError("夏季作息须同时填写开始和结束日期")
            _month_day(self.summer_from)
            _month_day(self.summer_until)
            summer = tuple(getattr(self, f) for f in self.SUMMER_TIMES)
            if any(t is None for t in summer):
                raise ValidationError("请填写夏季作息的四个时间")
            periods.append(summer)  # type: ignore[arg-type]
        for times in periods:
            if any(t is None for t in times) or not (times[0] < times[1] <= times[2] < times[3]):
                raise ValidationError("作息时间须依次为：上午上班 < 上午下班 ≤ 下午上班 < 下午下班")

    def in_summer(self, day: dt.date) -> bool:
        if not self.has_summer:
            return False
        here = (day.month, day.day)
        start, end = _month_day(self.summer_from), _month_day(self.summer_until)
        return start <= here <= end if start <= end else here >= start or here <= end

    def periods(self, day: dt.date) -> tuple[tuple[dt.time, dt.time], tuple[dt.time, dt.time]]:
        """The morning and afternoon working periods on ``day`` (a working day)."""
        if self.in_summer(day):
            ms, me, as_, ae = (getattr(self, f) for f in self.SUMMER_TIMES)
            return (ms, me), (as_, ae)
        return (self.morning_start, self.morning_end), (self.afternoon_start, self.afternoon_end)
