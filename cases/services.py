"""The case loop 案件流程: every state change is one function here.

Each function takes the ``Actor`` first and the case second, checks role and scope, locks the
case row (``select_for_update``) inside ``transaction.atomic()``, checks the state on the locked
row, changes it, and writes a ``CaseEvent`` (who, role, unit, when, from where, why). A refused
step raises before anything is written, so it changes nothing:
``PermissionDenied`` (role or scope), ``ValidationError`` (input), ``ActionRefused`` (state).

States::

    reported ─accept 立案→ accepted ─dispatch 派单→ dispatched ─start→ handling ─handle→ handled
       │ reject 不予立案 → rejected        ▲  │ return 退单 (lead unit)               │ verify 核查
       │ merge 合并 → merged              │  └→ returned ─dispatch─┘               ├→ closed 结案
                                          └──────────── rework 返工 (new deadline) ┘

Who: collectors, grid workers, street chiefs, inspectors (and HQ, dispatchers) report;
dispatchers and HQ accept, reject, merge, reclassify (改类, before dispatch), dispatch, decide
extensions, verify and rework; the handlers of a unit start, return, ask for extensions and handle
that unit's part.

Categories marked ``public_only`` (the citizens' "不确定", not sure) are accepted only from
anonymous sources (appeals, Open311); staff neither report nor reclassify into them.

Extension point: other apps add rules to closing (结案) with ``register_close_guard(fn)``; each
guard is called with the locked case inside ``verify_case``'s transaction and refuses by raising
``ActionRefused`` with a message for the dispatcher. ``cases`` imports no app that uses it.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from org import compiled
from org.audit import Actor
from org.errors import ActionRefused
from org.models import Grid, Role, Unit, User
from org.text import clean_text
from workdays.clock import Deadline, add_working_days, deadline_after, extend
from workdays.models import DeadlineRule

from . import geo, photos
from .duplicates import duplicate_suggestions, find_duplicates, search_duplicates, suggestions_for
from .models import Case, CaseEvent, CasePart, CasePhoto, Category, ExtensionRequest, FieldCheck
from .notices import notify_case
from .numbering import draw_case_keys, last_case_numbers
from .permissions import (
    COMMAND_ROLES,
    FIGURE_ROLES,
    OPEN_PART,
    REPORT_ROLES,
    UNIT_ROLES,
    PartChoiceNeeded,
    _acting,
    _may_report_at,
    allowed_actions,
    check_accept,
    check_decide,
    check_dispatch,
    check_dispatch_target,
    check_field_check,
    check_merge,
    check_reclassify,
    check_rework,
    check_unit_step,
    check_verify,
    check_view_figures,
    current_field_check,
)
from .routing import suggest_unit

# The public entry of the case loop: the steps below, and the rules and helpers they rest on.
__all__ = [
    "COMMAND_ROLES",
    "FIGURE_ROLES",
    "REPORT_ROLES",
    "UNIT_ROLES",
    "PartChoiceNeeded",
    "Reported",
    "accept_case",
    "allowed_actions",
    "check_field_check",
    "check_extension_amount",
    "check_view_figures",
    "current_field_check",
    "decide_extension",
    "dispatch_case",
    "duplicate_suggestions",
    "field_check_case",
    "field_verifier",
    "find_duplicates",
    "handle_part",
    "last_case_numbers",
    "merge_case",
    "reclassify_case",
    "register_close_guard",
    "reject_case",
    "report_case",
    "request_extension",
    "return_case",
    "rework_case",
    "start_handling",
    "suggestions_for",
    "verify_case",
]

# Who checks cases on site: the grid's collector, or the street chief (``field_verifier``).
FIELD_CHECK_ROLES = (Role.COLLECTOR, Role.STREET_CHIEF)
# Sources that arrive without a signed-in reporter (citizens through appeals and Open311).
ANONYMOUS_SOURCES = (Case.Source.APPEAL, Case.Source.OPEN311)
SOURCE_BY_ROLE: dict[str, str] = {
    Role.COLLECTOR: Case.Source.COLLECTOR,
    Role.STREET_CHIEF: Case.Source.COLLECTOR,
    Role.INSPECTOR: Case.Source.INSPECTION,
    Role.DISPATCHER: Case.Source.CLERK,
    Role.HQ_ADMIN: Case.Source.CLERK,
}
# Field reports must carry a photo of the problem; citizens' appeals may come without one.
PHOTO_REQUIRED_SOURCES = (Case.Source.COLLECTOR, Case.Source.INSPECTION)
# The longest description and reason taken (text columns have no limit of their own).
MAX_DESCRIPTION = 4000
MAX_REASON = 2000


# Rules other apps add to closing a case (see the module docstring); called in registration order.
CloseGuard = Callable[[Case], None]
_close_guards: list[CloseGuard] = []


def register_close_guard(guard: CloseGuard) -> None:
    """Add a rule checked before a case is closed (idempotent: a guard registers once)."""
    if guard not in _close_guards:
        _close_guards.append(guard)


def dispatch_days() -> int:
    return int(getattr(settings, "CASE_DISPATCH_WORKING_DAYS", 1))


def verify_days() -> int:
    return int(getattr(settings, "CASE_VERIFY_WORKING_DAYS", 2))


def max_extension_days() -> int:
    return int(getattr(settings, "CASE_MAX_EXTENSION_DAYS", 10))


def field_check_far_meters() -> float:
    """A field check taken farther than this from the case's point is flagged (not refused)."""
    return float(getattr(settings, "CASE_FIELD_CHECK_FAR_METERS", 200))


def needs_field_check(case: Case) -> bool:
    """Field verification 现场核查 for the case's category, or for its source
    (``CASE_FIELD_VERIFICATION_SOURCES``); desk verification 受理员核查 otherwise."""
    sources = getattr(settings, "CASE_FIELD_VERIFICATION_SOURCES", ())
    return case.category.field_verification or case.source in sources


def max_extension_hours() -> int:
    return int(getattr(settings, "CASE_MAX_EXTENSION_HOURS", 72))


def _required(text: str, what: str, max_length: int = MAX_REASON) -> str:
    text = clean_text(text, max_length, what)
    if not text:
        raise ValidationError(f"请填写{what}")
    return text


# ---------------------------------------------------------------------------------------------
# Shared steps


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("category").get(pk=case.pk)


def _event(*args, **kwargs) -> CaseEvent:
    """The step's event (``_new_event``'s arguments) saved, and told to whom it concerns."""
    event = compiled.insert(_new_event(*args, **kwargs))
    notify_case(event)  # the outbox, in the step's transaction (cases.notices)
    return event


def _new_event(
    actor: Actor,
    case: Case,
    action: str,
    role: str = "",
    unit_id: int | None = None,
    *,
    part: CasePart | None = None,
    reason: str = "",
    at: dt.datetime | None = None,
    **data,
) -> CaseEvent:
    """The step's event, not saved yet: who, when, from where (``_event`` saves it and tells
    whom it concerns)."""
    return CaseEvent(
        case=case,
        part=part,
        action=action,
        actor=actor.user,
        actor_role=role,
        actor_unit_id=unit_id,
        at=at or timezone.now(),
        reason=reason,
        via=actor.via,
        ip=actor.ip,
        data=data,
    )


def handle_deadline(case: Case, start: dt.datetime) -> Deadline:
    """The handling deadline of work starting at ``start``: clock hours for urgent cases of a
    category with an hour limit, otherwise the category's working days under its rule (workdays.clock)."""
    hours = case.category.time_limit_hours
    if case.urgent and hours:
        return deadline_after(start, hours=hours, rule=DeadlineRule.CLOCK_HOURS)
    return deadline_after(start, case.category.time_limit_days, rule=case.category.deadline_rule)


def _refresh_deadlines(case: Case) -> None:
    """Case-level deadlines from its active parts: the case is due when its latest part is; its
    current-stage clock (``due_at``) is the earliest deadline still running."""
    active = [p for p in case.parts.all() if p.is_active]
    if active:
        case.handle_deadline = max(p.deadline for p in active)
    running = [p.deadline for p in active if p.status in OPEN_PART]
    case.due_at = min(running) if running else case.due_at


def _check_category(category: Category, *, staff: bool) -> None:
    if not category.active:
        raise ValidationError("该类别已停用")
    if staff and category.public_only:
        raise ValidationError(f"“{category.name}”仅供群众诉求选择，请选择具体类别")


def _coordinate(value, low: float, high: float, what: str) -> Decimal:
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError(f"{what}无效") from exc
    if not (Decimal(str(low)) <= number <= Decimal(str(high))):
        raise ValidationError(f"{what}超出范围")
    return number


# ---------------------------------------------------------------------------------------------
# The steps


def report_case(
    actor: Actor,
    *,
    category: Category,
    description: str,
    lat,
    lng,
    address: str = "",
    urgent: bool = False,
    photos_uploaded: Iterable = (),
    source: str | None = None,
    for_citizen: bool = False,
    beside: Callable[[Case], Iterable[Model]] | None = None,
) -> Case:
    """上报: a new case with its place (region and grid derived from the point) and before-photos.

    ``beside``: rows the caller writes with the report (an appeal), built from the new case and
    inserted with it and its event (``case.reported.beside``).

    ``for_citizen``: a clerk takes down a citizen's report (appeals), so citizens-only
    categories are allowed as they are for anonymous sources; staff's own reports may not use them.
    """
    if actor.user is None:
        if source not in ANONYMOUS_SOURCES:
            raise PermissionDenied("请先登录")
        role, unit_id = "", None
    else:
        role, unit_id = _acting(actor.user, REPORT_ROLES)
        source = source or SOURCE_BY_ROLE.get(role, Case.Source.CLERK)
    if source not in Case.Source.values:
        raise ValidationError("来源无效")
    _check_category(category, staff=actor.user is not None and not for_citizen)
    description = _required(description, "问题描述", MAX_DESCRIPTION)
    address = clean_text(address, 200, "地址", multiline=False)
    lat_d = _coordinate(lat, -90, 90, "纬度")
    lng_d = _coordinate(lng, -180, 180, "经度")
    region, grid = geo.locate(lat_d, lng_d)
    if region is None:
        raise ValidationError("位置不在本区范围内")
    if actor.user is not None and not _may_report_at(actor.user, unit_id, region, grid):
        raise PermissionDenied("该位置不在您的负责范围内")
    valid = photos.validate_all(photos_uploaded)
    if not valid and source in PHOTO_REQUIRED_SOURCES:
        raise ValidationError("请上传问题照片")

    with photos.atomic():
        now = timezone.now()
        # Open cases of the category nearby, looked for before the new case exists (so it is not
        # among them): recorded on the report event for the dispatcher who accepts or merges.
        # Asked for with the case's number and id: one round trip on PostgreSQL.
        with compiled.together():
            read_duplicates = search_duplicates(category, lat_d, lng_d)
            read_keys = draw_case_keys(now)
        duplicates = read_duplicates()
        number, case_id = read_keys()
        case = Case(
            pk=case_id,
            number=number,
            source=source,
            category=category,
            description=description,
            address=address,
            lat=lat_d,
            lng=lng_d,
            region=region,
            grid=grid,
            urgent=urgent,
            reporter=actor.user,
            reporter_unit_id=unit_id,
            reported_at=now,
        )
        if case.pk is None:  # its id comes back from its insert (SQLite; a year's first report)
            compiled.insert(case)
        event = _new_event(
            actor, case, CaseEvent.Action.REPORT, role, unit_id, at=now, duplicates=[c.pk for c in duplicates]
        )
        written = list(beside(case)) if beside is not None else []
        # The case (unless written above), its event and the caller's rows: one round trip on
        # PostgreSQL.
        compiled.insert_all([case, event, *written] if case._state.adding else [event, *written])
        notify_case(event)
        stored = [
            photos.store(case, photo, CasePhoto.Kind.BEFORE, event=event, user=actor.user) for photo in valid
        ]
    # What the report wrote, so that its answer needs no second look-up (see ``Reported``).
    case.reported = Reported(  # type: ignore[attr-defined]
        event=event, photos=stored, duplicates=duplicates, beside=written
    )
    return case


@dataclass(frozen=True)
class Reported:
    """What ``report_case`` wrote beside the case: its event, photos, the duplicates found and the
    caller's own rows (``beside``)."""

    event: CaseEvent
    photos: list[CasePhoto]
    duplicates: list[Case]
    beside: list


def accept_case(actor: Actor, case: Case, note: str = "") -> Case:
    """立案: the report is a valid case; the dispatch clock starts."""
    check_accept(actor.user, case)
    with transaction.atomic():
        case = _lock(case)
        role, unit_id = check_accept(actor.user, case)
        now = timezone.now()
        case.status = Case.Status.ACCEPTED
        case.accepted_at = now
        case.dispatch_deadline = case.due_at = add_working_days(
            now, dispatch_days(), case.category.deadline_rule
        )
        case.save()
        _event(actor, case, CaseEvent.Action.ACCEPT, role, unit_id, reason=note.strip(), at=now)
    return case


def reject_case(actor: Actor, case: Case, reason: str) -> Case:
    """不予立案: the report is not a case (reason required)."""
    check_accept(actor.user, case)
    reason = _required(reason, "不予立案理由")
    with transaction.atomic():
        case = _lock(case)
        role, unit_id = check_accept(actor.user, case)
        now = timezone.now()
        case.status = Case.Status.REJECTED
        case.ended_at, case.due_at = now, None
        case.save()
        _event(actor, case, CaseEvent.Action.REJECT, role, unit_id, reason=reason, at=now)
    return case


def merge_case(actor: Actor, case: Case, into: Case | None, reason: str = "") -> Case:
    """合并: a report of a problem already open is merged into that case (one the person may
    see; ``None`` when the number or id named none)."""
    check_merge(actor.user, case, into)
    assert into is not None
    with transaction.atomic():
        case = _lock(case)
        target = Case.objects.select_for_update().get(pk=into.pk)
        role, unit_id = check_merge(actor.user, case, target)
        now = timezone.now()
        case.status = Case.Status.MERGED
        case.merged_into = target
        case.ended_at, case.due_at = now, None
        case.save()
        _event(
            actor,
            case,
            CaseEvent.Action.MERGE,
            role,
            unit_id,
            reason=reason.strip(),
            at=now,
            into=target.number,
        )
    return case


def reclassify_case(actor: Actor, case: Case, category: Category, reason: str) -> Case:
    """改类: a dispatcher gives the case its right category (reason required).

    Only before dispatch (上报, 立案 or 退单 back to the dispatchers): the category decides the
    routing suggestion and the handling deadline, and a dispatched unit's deadline is not moved
    under it; a case found wrongly classified after dispatch is returned 退单 and reclassified.
    """
    check_reclassify(actor.user, case)
    _check_category(category, staff=True)
    reason = _required(reason, "改类理由")
    with transaction.atomic():
        case = _lock(case)
        role, unit_id = check_reclassify(actor.user, case)
        previous = case.category
        if previous.pk == category.pk:
            raise ValidationError("类别没有改变")
        case.category = category
        case.save()
        _event(
            actor,
            case,
            CaseEvent.Action.RECLASSIFY,
            role,
            unit_id,
            reason=reason,
            previous=previous.pk,
            previous_name=str(previous),
            category=category.pk,
            category_name=str(category),
        )
    return case


def dispatch_case(
    actor: Actor, case: Case, lead_unit: Unit, co_units: Iterable[Unit] = (), note: str = ""
) -> Case:
    """派单: to a lead unit and, for a joint case 吹哨报到, co-units; each gets a part with the
    category's deadline. The routing suggestion is recorded beside the dispatcher's choice."""
    check_dispatch(actor.user, case)
    co = list({u.pk: u for u in co_units if u.pk != lead_unit.pk}.values())
    check_dispatch_target([lead_unit, *co])
    with transaction.atomic():
        case = _lock(case)
        role, unit_id = check_dispatch(actor.user, case)
        now = timezone.now()
        deadline = handle_deadline(case, now)
        suggested = suggest_unit(case.category, case.region, case.grid)
        # A unit's first part of the case carries the report time (the unit list's index).
        holding = set(case.parts.values_list("unit_id", flat=True))
        for unit in [lead_unit, *co]:
            CasePart.objects.create(
                case=case,
                unit=unit,
                is_lead=unit.pk == lead_unit.pk,
                dispatched_at=now,
                deadline=deadline.at,
                deadline_rule=deadline.rule,
                time_limit=deadline.limit,
                deadline_provisional=deadline.provisional,
                case_reported_at=None if unit.pk in holding else case.reported_at,
            )
        case.status = Case.Status.DISPATCHED
        case.lead_unit = lead_unit
        case.dispatched_at = case.dispatched_at or now
        case.handle_deadline = case.due_at = deadline.at
        case.close_deadline = add_working_days(deadline.at, verify_days(), case.category.deadline_rule)
        case.save()
        _event(
            actor,
            case,
            CaseEvent.Action.DISPATCH,
            role,
            unit_id,
            reason=note.strip(),
            at=now,
            lead_unit=lead_unit.pk,
            co_units=[u.pk for u in co],
            suggested_unit=suggested.pk if suggested else None,
            overridden=suggested is not None and suggested.pk != lead_unit.pk,
            deadline=deadline.at.isoformat(),
        )
    return case


def return_case(actor: Actor, case: Case, reason: str, part: CasePart | None = None) -> Case:
    """退单: the unit says the case is not theirs (reason required). The lead unit's return sends
    the whole case back to the dispatchers (every part ends); a co-unit's ends its own part."""
    check_unit_step(actor.user, case, part, OPEN_PART)
    reason = _required(reason, "退单理由")
    with transaction.atomic():
        case = _lock(case)
        own = check_unit_step(actor.user, case, part, OPEN_PART)
        now = timezone.now()
        ending = [p for p in case.parts.all() if p.is_active] if own.is_lead else [own]
        for p in ending:
            p.status, p.returned_at = CasePart.Status.RETURNED, now
            p.save(update_fields=["status", "returned_at"])
        _withdraw_pending(ending, now, "已退单，延期申请自动撤回")
        case.return_count += 1
        if own.is_lead:
            case.status = Case.Status.RETURNED
            case.lead_unit = None
            case.due_at = add_working_days(now, dispatch_days(), case.category.deadline_rule)
        recorded = {} if own.is_lead else _after_part_change(case, now)
        case.save()
        _event(
            actor,
            case,
            CaseEvent.Action.RETURN,
            Role.HANDLER,
            own.unit_id,
            part=own,
            reason=reason,
            at=now,
            **recorded,
        )
    return case


def _withdraw_pending(parts: Sequence[CasePart], now: dt.datetime, why: str) -> None:
    """A part that ends (handled or returned) no longer needs more time: its pending request goes."""
    ExtensionRequest.objects.filter(part__in=parts, status=ExtensionRequest.Status.PENDING).update(
        status=ExtensionRequest.Status.WITHDRAWN, decided_at=now, decision_note=why
    )


def start_handling(actor: Actor, case: Case, part: CasePart | None = None) -> Case:
    """开始处置: the unit takes the work on."""
    check_unit_step(actor.user, case, part, (CasePart.Status.DISPATCHED,))
    with transaction.atomic():
        case = _lock(case)
        own = check_unit_step(actor.user, case, part, (CasePart.Status.DISPATCHED,))
        now = timezone.now()
        own.status, own.started_at = CasePart.Status.HANDLING, now
        own.save(update_fields=["status", "started_at"])
        if case.status == Case.Status.DISPATCHED:
            case.status = Case.Status.HANDLING
            case.save()
        _event(actor, case, CaseEvent.Action.START, Role.HANDLER, own.unit_id, part=own, at=now)
    return case


def check_extension_amount(part: CasePart, days: int | None, hours: int | None) -> tuple[int, int]:
    """What an extension may ask for on ``part``: working days, or hours — clock hours on an urgent
    part (counted in clock hours), working hours on a part under the working-hours clock. A part
    counted in legal days takes days only, an urgent part hours only. Returns (days, hours)."""
    try:
        days, hours = int(days or 0), int(hours or 0)
    except (TypeError, ValueError) as exc:
        raise ValidationError("延期天数和小时数须为整数") from exc
    if bool(days) == bool(hours):
        raise ValidationError("请填写延期工作日或延期小时，二者选一")
    rule = part.clock_rule
    if days and rule == DeadlineRule.CLOCK_HOURS:
        raise ValidationError("紧急案件的处置时限按自然小时计算，请按小时申请延期")
    if hours and rule == DeadlineRule.LEGAL_DAYS:
        raise ValidationError("该案件的处置时限按法定日计算，只能按工作日申请延期")
    if days and not 1 <= days <= max_extension_days():
        raise ValidationError(f"延期天数须在 1 到 {max_extension_days()} 个工作日之间")
    if hours and not 1 <= hours <= max_extension_hours():
        raise ValidationError(f"延期小时数须在 1 到 {max_extension_hours()} 小时之间")
    return days, hours


def request_extension(
    actor: Actor, case: Case, days: int | None, reason: str, part: CasePart | None = None, *, hours: int = 0
) -> ExtensionRequest:
    """申请延期: the unit asks for more time on its part (one request pending at a time): working
    days, or hours on a part whose clock counts hours (``check_extension_amount``)."""
    own = check_unit_step(actor.user, case, part, OPEN_PART)
    reason = _required(reason, "延期理由")
    days, hours = check_extension_amount(own, days, hours)
    with transaction.atomic():
        case = _lock(case)
        own = check_unit_step(actor.user, case, part, OPEN_PART)
        check_extension_amount(own, days, hours)
        if own.extension_requests.filter(status=ExtensionRequest.Status.PENDING).exists():
            raise ActionRefused("已有待审批的延期申请")
        now = timezone.now()
        request = ExtensionRequest.objects.create(
            part=own, days=days, hours=hours, reason=reason, requested_by=actor.user, requested_at=now
        )
        _event(
            actor,
            case,
            CaseEvent.Action.REQUEST_EXTENSION,
            Role.HANDLER,
            own.unit_id,
            part=own,
            reason=reason,
            at=now,
            days=days,
            hours=hours,
            request=request.pk,
        )
    return request


def decide_extension(
    actor: Actor, case: Case, request: ExtensionRequest, approve: bool, note: str = ""
) -> ExtensionRequest:
    """延期审批: approval moves that part's deadline by the working days or hours asked for."""
    check_decide(actor.user, case)
    if request.part.case_id != case.pk:
        raise ValidationError("该延期申请不属于此案件")
    with transaction.atomic():
        case = _lock(case)
        role, unit_id = check_decide(actor.user, case)
        request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != ExtensionRequest.Status.PENDING:
            raise ActionRefused("该延期申请已处理")
        part = CasePart.objects.get(pk=request.part_id)
        if approve and part.status not in OPEN_PART:
            raise ActionRefused("该责任单位已不在处置中，不能批准延期")
        now = timezone.now()
        request.status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.DENIED
        request.decided_by, request.decided_at, request.decision_note = (
            actor.user,
            now,
            clean_text(note, 300, "审批意见"),
        )
        request.save()
        if approve:
            extended = extend(part.deadline, part.clock_rule, request.days, hours=request.hours)
            part.deadline = extended.at
            part.deadline_provisional |= extended.provisional
            part.extension_days += request.days
            part.extension_hours += request.hours
            part.save(update_fields=["deadline", "deadline_provisional", "extension_days", "extension_hours"])
            case.extension_count += 1
            _refresh_deadlines(case)
            if case.handle_deadline is not None:
                case.close_deadline = add_working_days(
                    case.handle_deadline, verify_days(), case.category.deadline_rule
                )
            case.save()
        _event(
            actor,
            case,
            CaseEvent.Action.APPROVE_EXTENSION if approve else CaseEvent.Action.DENY_EXTENSION,
            role,
            unit_id,
            part=part,
            reason=note.strip(),
            at=now,
            days=request.days,
            hours=request.hours,
            request=request.pk,
            deadline=part.deadline.isoformat(),
        )
    return request


def field_verifier(case: Case) -> tuple[User | None, Grid | None]:
    """Who checks the case on site: a collector (else a street chief) among the workers of the
    case's grid — the one who reported it when they are one of them, as the standard has the
    supervisor who found a problem check it; without one, the collector or street chief who
    reported it; else nobody (the dispatcher verifies at the desk)."""
    people = User.objects.filter(is_active=True).order_by("pk")
    if case.grid_id is not None:
        if case.reporter_id is not None:
            own = people.filter(
                pk=case.reporter_id, grids=case.grid_id, memberships__role__in=FIELD_CHECK_ROLES
            ).first()
            if own is not None:
                return own, case.grid
        for role in FIELD_CHECK_ROLES:
            found = people.filter(grids=case.grid_id, memberships__role=role).first()
            if found is not None:
                return found, case.grid
    if case.reporter_id is not None:
        reporter = people.filter(pk=case.reporter_id, memberships__role__in=FIELD_CHECK_ROLES).first()
        if reporter is not None:
            return reporter, None
    return None, None


def _assign_field_check(case: Case, now: dt.datetime) -> FieldCheck | None:
    """A handled case of a field-verified category or source: the task for its verifier."""
    if not needs_field_check(case):
        return None
    verifier, grid = field_verifier(case)
    if verifier is None:
        return None
    return FieldCheck.objects.create(
        case=case, round=case.rework_count, verifier=verifier, grid=grid, assigned_at=now
    )


def _after_part_change(case: Case, now: dt.datetime) -> dict:
    """The case is handled when every active part is (a field check goes to its verifier when the
    case is field-verified); otherwise its clock follows the parts. Returns what the step's event
    records of it: the verifier a field check went to."""
    active = [p for p in case.parts.all() if p.is_active]
    if active and all(p.status == CasePart.Status.HANDLED for p in active):
        case.status = Case.Status.HANDLED
        case.handled_at = now
        case.verify_deadline = case.due_at = add_working_days(now, verify_days(), case.category.deadline_rule)
        check = _assign_field_check(case, now)
        return {"field_check_to": check.verifier_id} if check is not None else {}
    else:
        if case.status == Case.Status.DISPATCHED and any(
            p.status != CasePart.Status.DISPATCHED for p in active
        ):
            case.status = Case.Status.HANDLING
        _refresh_deadlines(case)
    return {}


def handle_part(
    actor: Actor, case: Case, photos_uploaded: Iterable, note: str = "", part: CasePart | None = None
) -> Case:
    """处置完成: the unit's part is done, with the after-photo (required)."""
    check_unit_step(actor.user, case, part, OPEN_PART)
    valid = photos.validate_all(photos_uploaded)
    if not valid:
        raise ValidationError("请上传处置后照片")
    with photos.atomic():
        case = _lock(case)
        own = check_unit_step(actor.user, case, part, OPEN_PART)
        now = timezone.now()
        own.status, own.handled_at = CasePart.Status.HANDLED, now
        own.started_at = own.started_at or now
        own.note = clean_text(note, 500, "处置说明")
        own.save(update_fields=["status", "handled_at", "started_at", "note"])
        _withdraw_pending([own], now, "已处置完成，延期申请自动撤回")
        recorded = _after_part_change(case, now)
        case.save()
        event = _event(
            actor,
            case,
            CaseEvent.Action.HANDLE,
            Role.HANDLER,
            own.unit_id,
            part=own,
            reason=own.note,
            at=now,
            **recorded,
        )
        for photo in valid:
            photos.store(case, photo, CasePhoto.Kind.AFTER, event=event, user=actor.user)
    return case


def verify_case(actor: Actor, case: Case, note: str = "") -> Case:
    """核查通过，结案: the problem is gone; the case is closed."""
    check_verify(actor.user, case)
    with transaction.atomic():
        case = _lock(case)
        role, unit_id = check_verify(actor.user, case)
        for guard in _close_guards:
            guard(case)
        now = timezone.now()
        case.status = Case.Status.CLOSED
        # After a passed field check the verification is the verifier's (its time already set).
        case.verified_at = case.verified_at if current_field_check(case) is not None else now
        case.closed_at = now
        case.due_at = None
        case.save()
        _event(actor, case, CaseEvent.Action.CLOSE, role, unit_id, reason=note.strip(), at=now)
    return case


def rework_case(actor: Actor, case: Case, reason: str) -> Case:
    """返工: verification found the problem still there; every part goes back to handling with a
    new deadline. The final (close) deadline does not move: a rework is the unit's delay."""
    check_rework(actor.user, case)
    reason = _required(reason, "返工理由")
    with transaction.atomic():
        case = _lock(case)
        role, unit_id = check_rework(actor.user, case)
        field_checked = current_field_check(case) is not None
        now = timezone.now()
        deadline = handle_deadline(case, now)
        for p in case.parts.all():
            if p.is_active:
                p.status, p.handled_at = CasePart.Status.HANDLING, None
                p.set_deadline(deadline)
                p.save(update_fields=["status", "handled_at", *CasePart.DEADLINE_FIELDS])
        case.status = Case.Status.HANDLING
        case.verified_at = case.verified_at if field_checked else now
        case.rework_count += 1
        case.handle_deadline = case.due_at = deadline.at
        case.save()
        _event(
            actor,
            case,
            CaseEvent.Action.REWORK,
            role,
            unit_id,
            reason=reason,
            at=now,
            deadline=deadline.at.isoformat(),
        )
    return case


def field_check_case(
    actor: Actor, case: Case, *, passed: bool, photos_uploaded: Iterable, lat, lng, note: str = ""
) -> FieldCheck:
    """现场核查: the verifier checks the handled case on site with a photo and the phone's point,
    and passes or fails it (a fail needs the reason). This is the case's verification (its time
    counts for 按期核查率); the dispatcher then closes a pass or sends a fail back for rework. A
    check far from the case's point is flagged, not refused."""
    check_field_check(actor.user, case)
    valid = photos.validate_all(photos_uploaded)
    if not valid:
        raise ValidationError("请上传现场核查照片")
    lat_d = _coordinate(lat, -90, 90, "纬度")
    lng_d = _coordinate(lng, -180, 180, "经度")
    note = clean_text(note, 500, "核查说明")
    if not passed and not note:
        raise ValidationError("核查未通过，请填写问题仍然存在的情况")
    with photos.atomic():
        case = _lock(case)
        check = check_field_check(actor.user, case)
        now = timezone.now()
        distance = round(geo.distance_m(case.lat, case.lng, lat_d, lng_d), 1)
        check.status = FieldCheck.Status.PASSED if passed else FieldCheck.Status.FAILED
        check.checked_at, check.lat, check.lng = now, lat_d, lng_d
        check.distance_m, check.note = distance, note
        check.save()
        case.verified_at = now
        case.save()
        role, unit_id = _acting(actor.user, FIELD_CHECK_ROLES)
        event = _event(
            actor,
            case,
            CaseEvent.Action.FIELD_CHECK,
            role,
            unit_id,
            reason=note,
            at=now,
            passed=passed,
            lat=str(lat_d),
            lng=str(lng_d),
            distance_m=distance,
            far=distance > field_check_far_meters(),
        )
        for photo in valid:
            photos.store(case, photo, CasePhoto.Kind.CHECK, event=event, user=actor.user)
    return check
