"""What the task decomposition tells, and whom (through ``notices.outbox``).

- A task reopened 重新打开 (``reopen_task``) → its lead unit's handlers and report clerks, its
  responsible person and leader, and the lead unit's group robots.
- Task warnings 任务预警 (a daily job, ``chuangwen.schedule``): each open task at yellow or red
  (``indicators.queries.Warnings``) is told once per level and deadline to its lead unit's
  people, its responsible person (and at red its responsible leader) and the unit's robots.

Everyone told sees the task (``queries.visible_tasks``: the lead unit's people, the responsible
person and leader).
"""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from notices import recipients
from notices.kinds import Kind
from notices.models import Notice
from notices.outbox import notify
from org.models import Role, User

from .models import Task
from .queries import RED, Warnings

UNIT_PEOPLE = (Role.HANDLER, Role.REPORT_CLERK)


def _people(task: Task, *, leader: bool) -> list[User]:
    people = (
        recipients.members([task.lead_unit_id], *UNIT_PEOPLE).get(task.lead_unit_id, [])
        if task.lead_unit_id
        else []
    )
    extra = [task.responsible_person, task.responsible_leader if leader else None]
    return [*people, *(u for u in extra if u is not None)]


def _context(task: Task, **extra) -> dict:
    unit = task.lead_unit
    return {
        "task": task.title[:60],
        "unit": (unit.short_name or unit.name) if unit else "",
        "deadline": task.deadline.strftime("%Y-%m-%d") if task.deadline else "未定",
        **extra,
    }


def notify_reopened(task: Task, reason: str) -> None:
    notify(
        Kind.TASK_REOPENED,
        _people(task, leader=True),
        _context(task, reason=reason, count=task.reopen_count),
        reverse("indicators:task", args=[task.pk]),
        f"task:{task.pk}:reopened:{task.reopen_count}",
        units=[task.lead_unit] if task.lead_unit else [],
    )


def task_warnings(now: dt.datetime) -> str:
    """Tell each open task's people of a new yellow or red warning (once per level and deadline)."""
    tasks = list(
        Task.objects.exclude(state=Task.State.CLOSED)
        .filter(deadline__isnull=False)
        .select_related("lead_unit", "responsible_person", "responsible_leader")
        .prefetch_related("milestones")
    )
    if not tasks:
        return "0 项"
    warnings = Warnings(tasks, timezone.localtime(now).date())
    keyed = {}
    for task in tasks:
        warning = warnings.of(task)
        if warning.level and task.deadline is not None:
            keyed[f"task:{task.pk}:warning:{warning.level}:{task.deadline.isoformat()}"] = (task, warning)
    told = set(Notice.objects.filter(key__in=list(keyed)).values_list("key", flat=True))
    count = 0
    for key, (task, warning) in keyed.items():
        if key in told:
            continue
        notify(
            Kind.TASK_WARNING,
            _people(task, leader=warning.level == RED),
            _context(task, level=warning.level_label, label=warning.label),
            reverse("indicators:task", args=[task.pk]),
            key,
            units=[task.lead_unit] if task.lead_unit else [],
        )
        count += 1
    return f"{count} 项"
