"""What the case loop tells, and whom (through ``notices.outbox``).

Steps: every case event passes through ``notify_case`` inside its step's transaction (called
from ``services._event``); the events worth telling are

- dispatch 派单 → the handlers of each unit dispatched to, and the units' group robots;
- return 退单 → the dispatcher who dispatched the case, and their unit's robots;
- extension decided 延期审批 → the unit's handlers and robots;
- rework 返工 → the handlers and robots of every unit still on the case.

Sweeps (periodic jobs, ``chuangwen.schedule``): ``sweep_deadlines`` tells a unit of its parts due
by the end of the next working day and of those overdue, and escalates a part overdue for
``NOTICES_ESCALATE_WORKDAYS`` working days to the unit's leader and the leaders contracting the
place; ``daily_digest`` (08:00 on working days) sends each unit one message of what is due today
and overdue. When one sweep finds more than ``NOTICES_BATCH_THRESHOLD`` parts of one kind for a
unit, each still goes to the inbox, and the robots and e-mail get one message listing them.

Every recipient comes from the case's units or is checked against the case's scope
(``Case.objects.visible_to``). Messages carry the number, category, community and deadline:
never the description, the address or the reporter.
"""

import datetime as dt
import hashlib
from collections import defaultdict

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notices import recipients
from notices.kinds import Kind
from notices.models import Notice, UnitPreference
from notices.outbox import notify
from org.models import Role, Unit
from workdays.clock import add_working_days, due_soon_until

from .models import Case, CaseEvent, CasePart, ExtensionRequest

UNIT_PEOPLE = (Role.HANDLER,)
RUNNING = (CasePart.Status.DISPATCHED, CasePart.Status.HANDLING)
# Overdue parts older than this are not swept again (their notices went long ago).
LOOK_BACK = dt.timedelta(days=90)


def escalate_workdays() -> int:
    return int(getattr(settings, "NOTICES_ESCALATE_WORKDAYS", 2))


def batch_threshold() -> int:
    return int(getattr(settings, "NOTICES_BATCH_THRESHOLD", 3))


def _when(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%m月%d日 %H:%M") if moment else "未定"


def _context(case: Case, unit: Unit | None = None, **extra) -> dict:
    return {
        "number": case.number,
        "category": case.category.name,
        "place": case.region.name if case.region is not None else "本区",
        "unit": unit.short_name or unit.name if unit else "",
        **extra,
    }


def _link(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def _tell_units(kind: str, case: Case, units: list[Unit], key: str, **extra) -> None:
    people = recipients.members([u.pk for u in units], *UNIT_PEOPLE)
    for unit in units:
        notify(
            kind,
            people.get(unit.pk, []),
            _context(case, unit, **extra),
            _link(case),
            f"{key}:u{unit.pk}",
            units=[unit],
        )


def notify_case(event: CaseEvent) -> None:
    """Tell whom a case event concerns (nothing for events nobody needs to hear of)."""
    case, action, key = event.case, event.action, f"case-event:{event.pk}"
    if action == CaseEvent.Action.DISPATCH:
        units = list(Unit.objects.filter(pk__in=[event.data["lead_unit"], *event.data.get("co_units", [])]))
        _tell_units(Kind.CASE_DISPATCHED, case, units, key, deadline=_when(case.handle_deadline))
    elif action == CaseEvent.Action.RETURN:
        dispatch = case.events.filter(action=CaseEvent.Action.DISPATCH).order_by("-at", "-pk").first()
        if dispatch is None or dispatch.actor is None:
            return
        returning = Unit.objects.filter(pk=event.actor_unit_id or 0).first()
        notify(
            Kind.CASE_RETURNED,
            [dispatch.actor],
            _context(case, returning, reason=event.reason),
            _link(case),
            key,
            units=list(Unit.objects.filter(pk=dispatch.actor_unit_id or 0)),
        )
    elif action in (CaseEvent.Action.APPROVE_EXTENSION, CaseEvent.Action.DENY_EXTENSION):
        request = ExtensionRequest.objects.select_related("part__unit").get(pk=event.data["request"])
        approved = action == CaseEvent.Action.APPROVE_EXTENSION
        _tell_units(
            Kind.EXTENSION_DECIDED,
            case,
            [request.part.unit],
            key,
            decision="已批准" if approved else "未批准",
            amount=request.amount_text,
            deadline=_when(request.part.deadline),
            note=f"审批意见：{event.reason}" if event.reason else "",
        )
    elif action == CaseEvent.Action.REWORK:
        units = [p.unit for p in case.parts.select_related("unit") if p.is_active]
        _tell_units(
            Kind.CASE_REWORK, case, units, key, reason=event.reason, deadline=_when(case.handle_deadline)
        )


# ---------------------------------------------------------------------------------------------
# Sweeps


def _part_key(kind: str, part: CasePart) -> str:
    return f"{kind}:part{part.pk}:{part.deadline.isoformat()}"


def _new(keyed: dict[str, CasePart]) -> dict[str, CasePart]:
    told = set(Notice.objects.filter(key__in=list(keyed)).values_list("key", flat=True))
    return {k: p for k, p in keyed.items() if k not in told}


def _tell_parts(kind: str, parts: dict[str, CasePart], what: str, now: dt.datetime) -> int:
    """One notice per part to its unit; a unit with more than the threshold gets them in the inbox
    and one combined message on its robots and e-mail."""
    by_unit: dict[int, list[tuple[str, CasePart]]] = defaultdict(list)
    for key, part in parts.items():
        by_unit[part.unit_id].append((key, part))
    people = recipients.members(by_unit, *UNIT_PEOPLE)
    many = batch_threshold()
    for unit_id, items in by_unit.items():
        unit = items[0][1].unit
        each_external = len(items) <= many
        for key, part in items:
            notify(
                kind,
                people.get(unit_id, []),
                _context(part.case, unit, deadline=_when(part.deadline)),
                _link(part.case),
                key,
                units=[unit],
                external=each_external,
            )
        if not each_external:
            digest = hashlib.sha1(",".join(sorted(k for k, _ in items)).encode()).hexdigest()[:16]
            notify(
                Kind.DEADLINES_BATCH,
                people.get(unit_id, []),
                {
                    "unit": unit.short_name or unit.name,
                    "count": len(items),
                    "what": what,
                    "numbers": "、".join(p.case.number for _, p in items[:30]),
                },
                reverse("cases:unit_queue"),
                f"batch:{kind}:u{unit_id}:{digest}",
                units=[unit],
            )
    return len(parts)


def _escalate(parts: dict[str, CasePart], now: dt.datetime) -> int:
    leaders = recipients.unit_leaders({p.unit_id for p in parts.values()})
    told = 0
    for key, part in parts.items():
        case = part.case
        people = [leaders.get(part.unit_id), *recipients.contracting_leaders(case.region)]
        visible = [
            u for u in people if u is not None and Case.objects.visible_to(u).filter(pk=case.pk).exists()
        ]
        days = escalate_workdays()
        notify(
            Kind.CASE_ESCALATED,
            visible,
            _context(case, part.unit, deadline=_when(part.deadline), days=days),
            _link(case),
            key,
        )
        told += 1
    return told


def sweep_deadlines(now: dt.datetime) -> str:
    """Due soon (as the lists count it: ``workdays.clock.due_soon_until``), overdue, and escalation
    after N working days."""
    running = CasePart.objects.filter(
        status__in=RUNNING, case__status__in=Case.TIMED_STATUSES
    ).select_related("case__category", "case__region", "unit")
    soon = running.filter(deadline__gt=now, deadline__lte=due_soon_until(now))
    late = list(running.filter(deadline__lte=now, deadline__gt=now - LOOK_BACK))
    n = escalate_workdays()
    due_soon = _new({_part_key(Kind.CASE_DUE_SOON, p): p for p in soon})
    overdue = _new({_part_key(Kind.CASE_OVERDUE, p): p for p in late})
    escalated = _new(
        {_part_key(Kind.CASE_ESCALATED, p): p for p in late if add_working_days(p.deadline, n) <= now}
    )
    a = _tell_parts(Kind.CASE_DUE_SOON, due_soon, "即将到期", now)
    b = _tell_parts(Kind.CASE_OVERDUE, overdue, "已超期", now)
    c = _escalate(escalated, now)
    return f"即将到期 {a} 件，超期 {b} 件，升级 {c} 件"


def daily_digest(now: dt.datetime) -> str:
    """08:00: each unit's parts due today and overdue, one message per unit."""
    today = timezone.localtime(now).date()
    end_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time.max))
    parts = (
        CasePart.objects.filter(status__in=RUNNING, case__status__in=Case.TIMED_STATUSES)
        .filter(deadline__lte=end_of_today, deadline__gt=now - LOOK_BACK)
        .select_related("case", "unit")
        .order_by("deadline", "pk")
    )
    due: dict[int, list[str]] = defaultdict(list)
    late: dict[int, list[str]] = defaultdict(list)
    units: dict[int, Unit] = {}
    for part in parts:
        units[part.unit_id] = part.unit
        (late if part.deadline <= now else due)[part.unit_id].append(part.case.number)
    off = set(
        UnitPreference.objects.filter(unit_id__in=units, digest=False).values_list("unit_id", flat=True)
    )
    people = recipients.members(units, *UNIT_PEOPLE)
    sent = 0
    for unit_id, unit in units.items():
        if unit_id in off:
            continue
        context = {
            "unit": unit.short_name or unit.name,
            "due_today": len(due[unit_id]),
            "overdue": len(late[unit_id]),
            "due_numbers": "、".join(due[unit_id][:20]) or "无",
            "overdue_numbers": "、".join(late[unit_id][:20]) or "无",
        }
        link = reverse("cases:unit_queue")
        if notify(
            Kind.DAILY_DIGEST,
            people.get(unit_id, []),
            context,
            link,
            f"digest:u{unit_id}:{today}",
            units=[unit],
        ):
            sent += 1
    return f"{sent} 个单位"
