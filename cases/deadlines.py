"""Recomputing open deadlines 时限重算 after the calendar or the working hours change.

When HQ enters a year's holidays (a provisional 暂定 deadline becomes a real one) or the working
hours change, each open part's handling deadline is counted again, the way it was set: from its
dispatch (or last rework) moment, with its stored rule and limit, plus its approved extensions.
Every change is recorded as a ``recompute_deadline`` event on the case. Closed cases, handled and
returned parts keep their recorded deadlines, and stored figures of past months are not touched.

Run in the background after each change of the calendar or the hours (``cases.tasks``, on
``workdays.signals.schedule_changed``), nightly as a periodic job (``recompute_nightly``), and by
``manage.py recompute_deadlines``; running it twice changes nothing the second time.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from org.audit import Actor
from org.models import Role, User
from org.scope import scope_for
from workdays.clock import Deadline, add_working_days, deadline_after, extend
from workdays.models import DeadlineRule

from .models import Case, CaseEvent, CasePart
from .permissions import OPEN_PART
from .services import _refresh_deadlines, verify_days


def check_recompute(user: User | None) -> None:
    """The system (a command or task) or HQ."""
    if user is not None and not (user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN)):
        raise PermissionDenied("只有创文办可以重算案件时限")


def counted_again(part: CasePart, start: dt.datetime) -> Deadline:
    """The part's deadline counted again from ``start`` with today's calendar and hours, plus its
    approved extensions (the working days, then the hours). A part counted before the rules
    existed takes its category's rule and limit."""
    category = part.case.category
    urgent_hours = category.time_limit_hours if part.case.urgent else None
    rule = part.deadline_rule or (DeadlineRule.CLOCK_HOURS if urgent_hours else category.deadline_rule)
    limit = part.time_limit or urgent_hours or category.time_limit_days
    if rule == DeadlineRule.CLOCK_HOURS:
        base = deadline_after(start, hours=limit, rule=rule)
    else:
        base = deadline_after(start, limit, rule=rule)
    at, provisional = base.at, base.provisional
    for days, hours in ((part.extension_days, 0), (0, part.extension_hours)):
        if days or hours:
            extended = extend(at, rule, days, hours=hours)
            at, provisional = extended.at, provisional or extended.provisional
    return Deadline(at, rule, provisional, limit)


def recompute_open_deadlines(actor: Actor, reason: str = "") -> int:
    """Count every open part's deadline again; returns how many changed (each one an event)."""
    check_recompute(actor.user)
    case_ids = (
        CasePart.objects.filter(status__in=OPEN_PART, case__status__in=Case.OPEN_STATUSES)
        .values_list("case_id", flat=True)
        .distinct()
    )
    return sum(_recompute_case(actor, case_id, reason) for case_id in list(case_ids))


def _recompute_case(actor: Actor, case_id: int, reason: str) -> int:
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("category").get(pk=case_id)
        reworked = case.events.filter(action=CaseEvent.Action.REWORK).aggregate(last=Max("at"))["last"]
        changed = 0
        for part in case.parts.all():
            if part.status not in OPEN_PART:
                continue
            part.case = case
            start = max(part.dispatched_at, reworked) if reworked else part.dispatched_at
            new = counted_again(part, start)
            old = (part.deadline, part.deadline_rule, part.time_limit, part.deadline_provisional)
            if old == (new.at, new.rule, new.limit, new.provisional):
                continue
            previous = part.deadline
            part.set_deadline(new)
            part.save(update_fields=list(CasePart.DEADLINE_FIELDS))
            CaseEvent.objects.create(
                case=case,
                part=part,
                action=CaseEvent.Action.RECOMPUTE_DEADLINE,
                actor=actor.user,
                actor_role=Role.HQ_ADMIN if actor.user is not None else "",
                via=actor.via,
                ip=actor.ip,
                reason=reason,
                data={
                    "previous": timezone.localtime(previous).isoformat(),
                    "deadline": timezone.localtime(new.at).isoformat(),
                    "rule": new.rule,
                    "provisional": new.provisional,
                },
            )
            changed += 1
        if changed:
            _refresh_deadlines(case)
            if case.handle_deadline is not None:
                case.close_deadline = add_working_days(
                    case.handle_deadline, verify_days(), case.category.deadline_rule
                )
            case.save()
    return changed


def recompute_nightly(now: dt.datetime) -> str:
    """The nightly job: catches calendar changes made outside HQ's pages (the admin's days)."""
    changed = recompute_open_deadlines(Actor.system(via="task"), reason="每日时限重算")
    return f"{changed} 个责任单位的处置时限已重算"
