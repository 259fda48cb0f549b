"""HQ's changes to the working calendar: a year's holiday schedule and the working hours.

Each is one function that checks who may (HQ 创文办), changes the tables in a transaction and
writes an audit record. Each also sends ``signals.schedule_changed`` in its transaction: the apps
that store deadlines count theirs again (``cases`` in a background task after the commit).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from org.audit import Actor, record
from org.models import Role, User
from org.scope import require_role

from .calendar import forget_overrides
from .models import CalendarDay, HolidayYear, WorkSchedule
from .notice import NoticeRow
from .signals import schedule_changed

# The years HQ may enter: the package's years may be corrected, nothing far in the past or future.
FIRST_YEAR = 2004


def check_manage_calendar(user: User | None) -> None:
    """HQ only (PermissionDenied otherwise)."""
    if user is not None:
        require_role(user, Role.HQ_ADMIN)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= timezone.localdate().year + 2:
        raise ValidationError(f"年份须在 {FIRST_YEAR} 到 {timezone.localdate().year + 2} 之间")


def enter_holiday_year(actor: Actor, year: int, rows: list[NoticeRow], source: str = "") -> HolidayYear:
    """录入年度节假日安排: the year's days are exactly ``rows`` (replacing any entered before)."""
    check_manage_calendar(actor.user)
    _check_year(year)
    if any(day.year != year for row in rows for day in (row.start, row.end)):
        raise ValidationError(f"日期须在 {year} 年内")
    source = source.strip()[:200]
    with transaction.atomic():
        CalendarDay.objects.filter(date__year=year).delete()
        CalendarDay.objects.bulk_create(
            [
                CalendarDay(date=day, is_workday=row.is_workday, name=row.name)
                for row in rows
                for day in row.days()
            ]
        )
        entry, _ = HolidayYear.objects.update_or_create(
            year=year, defaults={"source": source, "entered_by": actor.user}
        )
        record(
            actor,
            "workdays.enter_year",
            entry,
            f"录入 {year} 年节假日安排（{len(rows)} 条）",
            rows=[[r.start.isoformat(), r.end.isoformat(), r.is_workday, r.name] for r in rows],
        )
        schedule_changed.send(HolidayYear, actor=actor, reason=f"录入 {year} 年节假日安排")
        transaction.on_commit(forget_overrides)
    forget_overrides()
    return entry


def add_work_schedule(actor: Actor, schedule: WorkSchedule) -> WorkSchedule:
    """新增作息时间: hours in force from a later day on. Days already begun keep their hours."""
    check_manage_calendar(actor.user)
    schedule.full_clean()
    if schedule.valid_from <= timezone.localdate():
        raise ValidationError("新的作息时间只能从明天或以后开始执行，已过去的日子不改")
    with transaction.atomic():
        schedule.save()
        record(actor, "workdays.add_schedule", schedule, f"新增作息时间，{schedule.valid_from} 起执行")
        schedule_changed.send(
            WorkSchedule, actor=actor, reason=f"新增作息时间（{schedule.valid_from} 起执行）"
        )
        transaction.on_commit(forget_overrides)
    forget_overrides()
    return schedule


def upcoming(today: dt.date | None = None) -> list[int]:
    """This year and the next: the years the calendar page is about."""
    today = today or timezone.localdate()
    return [today.year, today.year + 1]
