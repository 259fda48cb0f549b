"""Demo cases for 巴州区: routing rules for the demo units and a few thousand cases over the last
four months in every state, with their parts, timelines, extension requests and photos.

Each case is simulated step by step with the same deadlines the services compute (the
working-hours clock of ``workdays.clock``, clock hours for urgent cases); steps that would fall after now have not happened
yet, so recent cases are still open and older ones mostly closed. Rows are written with
bulk_create, so loading takes seconds. Loading twice changes nothing: the second run finds the
demo timeline and stops.
"""

import datetime as dt
import hashlib
import hmac
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from org.models import Grid, Membership, Region, Role, Unit, User
from workdays.clock import Deadline, add_working_days, deadline_after, extend
from workdays.models import DeadlineRule

from . import mapcells
from .models import Case, CaseCounter, CaseEvent, CasePart, CasePhoto, Category, ExtensionRequest, RoutingRule
from .routing import RoutingTable
from .services import dispatch_days, last_case_numbers, verify_days

CASE_COUNT = 3000
DAYS = 120
SEED = 20260101
VIA = "demo"

# Category code → the unit that handles it district-wide (component codes prefixed "C", events "E").
DEPARTMENT_RULES = {
    "C0101": "E-自来水公司",
    "C0102": "D-住建局",
    "C0103": "D-住建局",
    "C0104": "D-住建局",
    "C0105": "E-供电公司",
    "C0106": "D-城管局",
    "C0107": "E-电信公司",
    "C0111": "E-燃气公司",
    "C0115": "D-消防大队",
    "C0118": "D-城管局",
    "C0201": "D-交通局",
    "C0203": "D-交通局",
    "C0207": "D-交警大队",
    "C0208": "D-交警大队",
    "C0211": "D-交通局",
    "C0214": "D-民政局",
    "C0301": "D-城管局",
    "C0304": "D-城管局",
    "C0306": "D-城管局",
    "C0308": "D-城管局",
    "C0309": "D-城管局",
    "C0401": "D-林业局",
    "C0402": "D-住建局",
    "C0403": "D-住建局",
    "C0405": "D-住建局",
    "C0407": "D-文广旅局",
    "E0104": "D-城管局",
    "E0105": "D-水利局",
    "E0106": "D-住建局",
    "E0107": "D-交警大队",
    "E0110": "D-城管局",
    "E0203": "D-城管局",
    "E0204": "D-城管局",
    "E0205": "D-宣传部",
    "E0301": "D-生态环境分局",
    "E0302": "D-生态环境分局",
    "E0303": "D-住建局",
    "E0304": "D-住建局",
    "E0305": "D-城管局",
    "E0401": "D-住建局",
    "E0402": "E-自来水公司",
    "E0403": "E-燃气公司",
    "E0404": "D-住建局",
    "E0406": "D-住建局",
    "E0407": "D-应急局",
    "E0501": "D-城管局",
    "E0502": "D-民政局",
    "E0505": "D-交警大队",
    "E0508": "D-城管局",
}
# Categories collectors report most (everyday street problems), by relative weight.
COMMON = {"E0102": 12, "E0201": 10, "E0504": 9, "E0506": 8, "E0509": 6, "E0104": 6, "E0505": 6, "C0309": 4}
DESCRIPTIONS = {
    "E0102": "路边有暴露垃圾未清运",
    "E0201": "墙面、电杆张贴非法小广告",
    "E0504": "商户占道店外经营",
    "E0506": "共享单车、电动车乱停放",
    "E0509": "人行道占道堆放杂物",
    "E0104": "路面油污、泥土未清扫",
    "E0505": "机动车占用人行道停放",
    "C0309": "垃圾箱破损、满溢",
}
REWORK_REASONS = ["现场核查问题依旧", "处置不彻底，仍有残留", "照片与现场不符"]
RETURN_REASONS = ["不属于本单位职责范围", "该点位由属地街道负责", "权属单位有误"]


def _code(category: Category) -> str:
    return ("C" if category.kind == Category.Kind.COMPONENT else "E") + category.code


def handle_deadline(category: Category, urgent: bool, start: dt.datetime) -> Deadline:
    if urgent and category.time_limit_hours:
        return deadline_after(start, hours=category.time_limit_hours, rule=DeadlineRule.CLOCK_HOURS)
    return deadline_after(start, category.time_limit_days, rule=category.deadline_rule)


def hours(value: float) -> dt.timedelta:
    return dt.timedelta(hours=value)


@dataclass
class _Part:
    unit: Unit
    is_lead: bool
    dispatched_at: dt.datetime
    deadline: dt.datetime
    rule: str
    time_limit: int
    provisional: bool
    status: str = CasePart.Status.DISPATCHED
    started_at: dt.datetime | None = None
    handled_at: dt.datetime | None = None
    returned_at: dt.datetime | None = None
    extension_days: int = 0
    extension_hours: int = 0
    row: CasePart | None = None


@dataclass
class _Sim:
    """One case's fields, parts, events and extension requests as simulated up to now."""

    case: Case
    parts: list[_Part] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)  # (at, action, user, role, unit, part, reason, data)
    extensions: list[tuple] = field(default_factory=list)  # (part, days, hours, reason, status, at, decided)
    photos: list[tuple] = field(default_factory=list)  # (kind, the event tuple it belongs to)


class _World:
    def __init__(self, now: dt.datetime):
        self.now = now
        self.categories = list(Category.objects.staff_selectable())
        by_code = {_code(c): c for c in self.categories}
        self.weights = [COMMON.get(_code(c), 1) for c in self.categories]
        self.by_code = by_code
        self.units = {u.code: u for u in Unit.objects.all()}
        self.departments = [u for u in self.units.values() if u.kind == Unit.Kind.DEPARTMENT]
        collectors = Membership.objects.filter(role=Role.COLLECTOR).select_related("user", "unit")
        unit_of = {m.user_id: m.unit for m in collectors}
        self.grids = []
        for grid in (
            Grid.objects.filter(boundary__isnull=False)
            .select_related("community")
            .prefetch_related("workers")
        ):
            workers = [w for w in grid.workers.all() if w.pk in unit_of]
            if workers:
                self.grids.append((grid, workers[0], unit_of[workers[0].pk]))
        self.grids.sort(key=lambda g: g[0].code)
        usernames = ["dispatcher", "hq", "inspector"]
        self.users = {u.username: u for u in User.objects.filter(username__in=usernames)}
        handlers = Membership.objects.filter(role=Role.HANDLER, user__username__startswith="h-")
        self.handler = {m.unit_id: m.user for m in handlers.select_related("user")}
        self.command_unit = self.units.get("DISPATCH")
        self.hq_unit = self.units.get("HQ")
        self.routing = RoutingTable()

    def route(self, category: Category, region: Region, grid: Grid) -> Unit:
        return self.routing.suggest(category, region, grid) or self.units["D-城管局"]


def load_rules() -> None:
    """The district's routing rules: each department's categories, and every township handling
    the cases in its own territory."""
    categories = {_code(c): c for c in Category.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    for code, unit_code in DEPARTMENT_RULES.items():
        if code in categories and unit_code in units:
            RoutingRule.objects.get_or_create(
                category=categories[code], region=None, grid=None, defaults={"unit": units[unit_code]}
            )
    for unit in units.values():
        if unit.kind == Unit.Kind.TOWNSHIP_GOVERNMENT:
            RoutingRule.objects.get_or_create(
                category=None, region=unit.region, grid=None, defaults={"unit": unit, "note": "乡镇属地管理"}
            )


def _point(rng: random.Random, grid: Grid) -> tuple[Decimal, Decimal]:
    ring = grid.boundary or []
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    # Keep clear of the edges so the point falls in this grid and no neighbour.
    lat = min(lats) + (max(lats) - min(lats)) * rng.uniform(0.1, 0.9)
    lng = min(lngs) + (max(lngs) - min(lngs)) * rng.uniform(0.1, 0.9)
    q = Decimal("0.000001")
    return Decimal(lat).quantize(q), Decimal(lng).quantize(q)


def _simulate(rng: random.Random, w: _World, reported_at: dt.datetime, previous: list[Case]) -> _Sim:
    now = w.now
    grid, collector, collector_unit = w.grids[rng.randrange(len(w.grids))]
    category = rng.choices(w.categories, weights=w.weights)[0]
    urgent = bool(category.time_limit_hours) and rng.random() < 0.3
    lat, lng = _point(rng, grid)
    inspection = rng.random() < 0.1
    reporter = w.users.get("inspector") if inspection else collector
    reporter_unit = w.hq_unit if inspection else collector_unit
    case = Case(
        source=Case.Source.INSPECTION if inspection else Case.Source.COLLECTOR,
        category=category,
        description=DESCRIPTIONS.get(_code(category), f"发现{category.name}问题"),
        address=f"{grid.community.name}{grid.name.removeprefix(grid.community.name)}附近",
        lat=lat,
        lng=lng,
        region=grid.community,
        grid=grid,
        urgent=urgent,
        reporter=reporter,
        reporter_unit=reporter_unit,
        reported_at=reported_at,
    )
    sim = _Sim(case)
    dispatcher, command = w.users.get("dispatcher"), w.command_unit
    role_of_reporter = Role.INSPECTOR if inspection else Role.COLLECTOR

    def event(at, action, user=None, role="", unit=None, part=None, reason="", **data):
        sim.events.append((at, action, user, role, unit, part, reason, data))
        return sim.events[-1]

    sim.photos.append(
        (
            CasePhoto.Kind.BEFORE,
            event(reported_at, CaseEvent.Action.REPORT, reporter, role_of_reporter, reporter_unit),
        )
    )
    fate = rng.random()
    t = reported_at + hours(rng.uniform(0.2, 3) if rng.random() < 0.85 else rng.uniform(14, 30))
    if t > now:
        return sim
    if fate < 0.06:
        case.status, case.ended_at = Case.Status.REJECTED, t
        event(
            t,
            CaseEvent.Action.REJECT,
            dispatcher,
            Role.DISPATCHER,
            command,
            reason="不属于城市管理问题，不予立案",
        )
        return sim
    same = [p for p in previous[-300:] if p.category_id == category.pk and p.is_open]
    if fate < 0.10 and same:
        target = same[-1]
        case.status, case.ended_at, case.merged_into = Case.Status.MERGED, t, target
        event(
            t,
            CaseEvent.Action.MERGE,
            dispatcher,
            Role.DISPATCHER,
            command,
            reason="重复上报",
            into=target.number,
        )
        return sim

    case.status, case.accepted_at = Case.Status.ACCEPTED, t
    case.dispatch_deadline = case.due_at = add_working_days(t, dispatch_days(), category.deadline_rule)
    event(t, CaseEvent.Action.ACCEPT, dispatcher, Role.DISPATCHER, command)
    t += hours(rng.uniform(0.1, 3) if rng.random() < 0.9 else rng.uniform(20, 40))
    if t > now:
        return sim
    lead = w.route(category, grid.community, grid)
    co_units = rng.sample(w.departments, 2) if rng.random() < 0.05 else []
    co_units = [u for u in co_units if u.pk != lead.pk]

    def dispatch(at: dt.datetime, lead_unit: Unit, co: list[Unit]) -> None:
        deadline = handle_deadline(category, urgent, at)
        for unit in [lead_unit, *co]:
            sim.parts.append(
                _Part(
                    unit,
                    unit.pk == lead_unit.pk,
                    at,
                    deadline.at,
                    deadline.rule,
                    deadline.limit,
                    deadline.provisional,
                )
            )
        case.status, case.lead_unit = Case.Status.DISPATCHED, lead_unit
        case.dispatched_at = case.dispatched_at or at
        case.handle_deadline = case.due_at = deadline.at
        case.close_deadline = add_working_days(deadline.at, verify_days(), category.deadline_rule)
        event(
            at,
            CaseEvent.Action.DISPATCH,
            dispatcher,
            Role.DISPATCHER,
            command,
            lead_unit=lead_unit.pk,
            co_units=[u.pk for u in co],
            suggested_unit=lead.pk,
            overridden=lead_unit.pk != lead.pk,
            deadline=deadline.at.isoformat(),
        )

    if rng.random() < 0.05:
        wrong = rng.choice([u for u in w.departments if u.pk != lead.pk])
        dispatch(t, wrong, [])
        t += hours(rng.uniform(1, 20))
        if t > now:
            return sim
        part = sim.parts[-1]
        part.status, part.returned_at = CasePart.Status.RETURNED, t
        case.status, case.lead_unit, case.return_count = Case.Status.RETURNED, None, 1
        case.due_at = add_working_days(t, dispatch_days(), category.deadline_rule)
        event(
            t,
            CaseEvent.Action.RETURN,
            w.handler.get(wrong.pk),
            Role.HANDLER,
            wrong,
            part=part,
            reason=rng.choice(RETURN_REASONS),
        )
        t += hours(rng.uniform(0.2, 4))
        if t > now:
            return sim
    dispatch(t, lead, co_units)
    _handle_round(rng, w, sim, t, first=True)
    return sim


def _handle_round(rng: random.Random, w: _World, sim: _Sim, start: dt.datetime, first: bool) -> None:
    """Each active part starts, maybe asks for an extension, and is handled (or not) by now; then
    verification closes the case or sends it back for rework once."""
    case, now = sim.case, w.now
    dispatcher, command = w.users.get("dispatcher"), w.command_unit
    active = [p for p in sim.parts if p.status != CasePart.Status.RETURNED]
    stuck = rng.random() < 0.04
    for part in active:
        handler = w.handler.get(part.unit.pk)
        not_before = start  # a unit that asked for an extension waits for the decision
        t = start + hours(rng.uniform(0.3, 20))
        if t > now:
            continue
        if part.started_at is None:
            part.status, part.started_at = CasePart.Status.HANDLING, t
            sim.events.append((t, CaseEvent.Action.START, handler, Role.HANDLER, part.unit, part, "", {}))
        if first and rng.random() < 0.06:
            asked, days = t + hours(rng.uniform(2, 20)), rng.choice([2, 3, 5])
            # An urgent part counts clock hours: it asks for hours (twice the days drawn).
            extra = 2 * days if part.rule == DeadlineRule.CLOCK_HOURS else 0
            days = 0 if extra else days
            amount = {"days": days, "hours": extra}
            if asked <= now:
                sim.events.append(
                    (
                        asked,
                        CaseEvent.Action.REQUEST_EXTENSION,
                        handler,
                        Role.HANDLER,
                        part.unit,
                        part,
                        "需协调相关部门，申请延期",
                        amount,
                    )
                )
                decided = not_before = asked + hours(rng.uniform(1, 6))
                approved = rng.random() < 0.8
                status = ExtensionRequest.Status.PENDING
                if decided <= now:
                    status = ExtensionRequest.Status.APPROVED if approved else ExtensionRequest.Status.DENIED
                    if approved:
                        part.deadline = extend(part.deadline, part.rule, days, hours=extra).at
                        part.extension_days += days
                        part.extension_hours += extra
                        case.extension_count += 1
                        case.close_deadline = add_working_days(
                            max(p.deadline for p in active), verify_days(), case.category.deadline_rule
                        )
                    action = (
                        CaseEvent.Action.APPROVE_EXTENSION if approved else CaseEvent.Action.DENY_EXTENSION
                    )
                    sim.events.append(
                        (decided, action, dispatcher, Role.DISPATCHER, command, part, "", amount)
                    )
                sim.extensions.append(
                    (
                        part,
                        days,
                        extra,
                        "需协调相关部门，申请延期",
                        status,
                        asked,
                        decided if decided <= now else None,
                    )
                )
        if stuck and part.is_lead:
            continue
        span = (part.deadline - start).total_seconds() / 3600
        done = (
            start + hours(span * rng.uniform(0.15, 0.95))
            if rng.random() < 0.85
            else part.deadline + hours(rng.uniform(2, 80))
        )
        done = max(done, part.started_at + hours(0.2), not_before + hours(0.5))
        if done <= now:
            part.status, part.handled_at = CasePart.Status.HANDLED, done
            handle: tuple = (
                done,
                CaseEvent.Action.HANDLE,
                handler,
                Role.HANDLER,
                part.unit,
                part,
                "已按要求处置完毕",
                {},
            )
            sim.events.append(handle)
            sim.photos.append((CasePhoto.Kind.AFTER, handle))
    if any(p.status != CasePart.Status.DISPATCHED for p in active) and case.status == Case.Status.DISPATCHED:
        case.status = Case.Status.HANDLING
    running = [p.deadline for p in active if p.status != CasePart.Status.HANDLED]
    case.handle_deadline = max(p.deadline for p in active)
    if running:
        case.due_at = min(running)
        return
    handled = max(p.handled_at for p in active if p.handled_at)
    case.status, case.handled_at = Case.Status.HANDLED, handled
    case.verify_deadline = case.due_at = add_working_days(handled, verify_days(), case.category.deadline_rule)
    checked = handled + hours(rng.uniform(1, 30) if rng.random() < 0.9 else rng.uniform(60, 120))
    if checked > now:
        return
    case.verified_at = checked
    if first and rng.random() < 0.08:
        deadline = handle_deadline(case.category, case.urgent, checked)
        for part in active:
            part.status, part.handled_at, part.deadline = CasePart.Status.HANDLING, None, deadline.at
            part.rule, part.time_limit, part.provisional = deadline.rule, deadline.limit, deadline.provisional
        case.status, case.rework_count = Case.Status.HANDLING, 1
        case.handle_deadline = case.due_at = deadline.at
        sim.events.append(
            (
                checked,
                CaseEvent.Action.REWORK,
                dispatcher,
                Role.DISPATCHER,
                command,
                None,
                rng.choice(REWORK_REASONS),
                {"deadline": deadline.at.isoformat()},
            )
        )
        _handle_round(rng, w, sim, checked, first=False)
        return
    case.status, case.closed_at, case.due_at = Case.Status.CLOSED, checked, None
    sim.events.append(
        (
            checked,
            CaseEvent.Action.CLOSE,
            dispatcher,
            Role.DISPATCHER,
            command,
            None,
            "现场核查已整改到位",
            {},
        )
    )


def _sample_photos() -> dict[str, tuple[str, str, str, int, str]]:
    """Two demo pictures (before and after), stored once and shared by every demo case."""
    made: dict[str, tuple[str, str, str, int, str]] = {}
    for kind, colour in ((CasePhoto.Kind.BEFORE, (150, 110, 70)), (CasePhoto.Kind.AFTER, (120, 160, 120))):
        image = Image.new("RGB", (640, 480), (205, 205, 200))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 330, 640, 480), fill=(120, 120, 120))
        if kind == CasePhoto.Kind.BEFORE:
            for i in range(9):
                draw.ellipse(
                    (180 + i * 30, 300 + (i % 3) * 20, 250 + i * 30, 360 + (i % 3) * 20), fill=colour
                )
        else:
            draw.rectangle((260, 250, 380, 340), fill=colour)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        data = buffer.getvalue()
        thumb = image.copy()
        thumb.thumbnail((320, 320))
        thumb_buffer = io.BytesIO()
        thumb.save(thumb_buffer, "JPEG", quality=80)
        names = []  # original (private), display copy, thumbnail
        for name, content in (
            (f"private/cases/demo/{_private_token(kind)}.jpg", data),
            (f"cases/photos/demo/{kind}.jpg", data),
            (f"cases/thumbs/demo/{kind}.jpg", thumb_buffer.getvalue()),
        ):
            if not default_storage.exists(name):
                name = default_storage.save(name, ContentFile(content))
            names.append(name)
        made[kind] = (names[0], names[1], names[2], len(data), hashlib.sha256(data).hexdigest())
    return made


def _private_token(kind: str) -> str:
    """The demo original's name: stable across loads, not derivable without the secret key."""
    return hmac.new(settings.SECRET_KEY.encode(), f"demo-photo:{kind}".encode(), "sha256").hexdigest()[:32]


@transaction.atomic
def load() -> None:
    load_rules()
    if CaseEvent.objects.filter(via=VIA).exists():
        return
    now = timezone.now()
    w = _World(now)
    if not w.grids or not w.categories:
        return
    rng = random.Random(SEED)
    moments = []
    for _ in range(CASE_COUNT):
        # A busier last two days, so that the early states (reported, accepted, just dispatched,
        # returned) have cases too.
        back = rng.uniform(0, 2) if rng.random() < 0.05 else rng.uniform(0, DAYS)
        day = now - dt.timedelta(days=back)
        local = timezone.localtime(day).replace(hour=rng.choice(range(7, 21)), minute=rng.randrange(60))
        moments.append(min(local, now - dt.timedelta(minutes=5)))
    moments.sort()

    counters = last_case_numbers()  # counter rows and, on PostgreSQL, the intake sequences
    sims: list[_Sim] = []
    cases: list[Case] = []
    for moment in moments:
        sim = _simulate(rng, w, moment, cases)
        year = timezone.localtime(moment).year
        counters[year] = counters.get(year, 0) + 1
        sim.case.number = f"{year}-{counters[year]:06d}"
        sims.append(sim)
        cases.append(sim.case)
    for year, last in counters.items():
        CaseCounter.objects.update_or_create(year=year, defaults={"last": last})

    _bulk_cases(cases)

    parts = []
    for sim in sims:
        holding: set[int] = set()
        for p in sim.parts:
            p.row = CasePart(
                case=sim.case,
                case_reported_at=None if p.unit.pk in holding else sim.case.reported_at,
                unit=p.unit,
                is_lead=p.is_lead,
                status=p.status,
                dispatched_at=p.dispatched_at,
                deadline=p.deadline,
                deadline_rule=p.rule,
                time_limit=p.time_limit,
                deadline_provisional=p.provisional,
                started_at=p.started_at,
                handled_at=p.handled_at,
                returned_at=p.returned_at,
                extension_days=p.extension_days,
                extension_hours=p.extension_hours,
            )
            holding.add(p.unit.pk)
            parts.append(p.row)
    CasePart.objects.bulk_create(parts, batch_size=1000)

    events, photo_rows, extensions = [], [], []
    samples = _sample_photos()
    for sim in sims:
        row_of = {}
        for ev in sorted(sim.events, key=lambda e: e[0]):
            at, action, user, role, unit, part, reason, data = ev
            row_of[id(ev)] = CaseEvent(
                case=sim.case,
                part=part.row if part else None,
                action=action,
                actor=user,
                actor_role=role,
                actor_unit=unit,
                at=at,
                reason=reason,
                via=VIA,
                data=data,
            )
            events.append(row_of[id(ev)])
        for kind, ev in sim.photos:
            original, image, thumbnail, size, sha = samples[kind]
            photo_rows.append(
                CasePhoto(
                    case=sim.case,
                    event=row_of[id(ev)],
                    kind=kind,
                    original=original,
                    image=image,
                    thumbnail=thumbnail,
                    sha256=sha,
                    size=size,
                    width=640,
                    height=480,
                    uploaded_by=ev[2],
                    uploaded_at=ev[0],
                )
            )
        for part, days, extra, reason, status, asked, decided in sim.extensions:
            extensions.append(
                ExtensionRequest(
                    part=part.row,
                    days=days,
                    hours=extra,
                    reason=reason,
                    status=status,
                    requested_by=w.handler.get(part.unit.pk),
                    requested_at=asked,
                    decided_by=w.users.get("dispatcher") if decided else None,
                    decided_at=decided,
                )
            )
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    ExtensionRequest.objects.bulk_create(extensions, batch_size=1000)
    CasePhoto.objects.bulk_create(photo_rows, batch_size=1000)
    mapcells.fold()  # the new cases' map deltas into the kept counts now, not at the first job


def _bulk_cases(cases: list[Case]) -> None:
    # Cases merged into an earlier case need that case's key: write in chronological batches.
    batch: list[Case] = []
    for case in cases:
        if case.merged_into is not None and case.merged_into.pk is None:
            Case.objects.bulk_create(batch)
            batch = []
        if case.merged_into is not None:
            case.merged_into_id = case.merged_into.pk
        batch.append(case)
    Case.objects.bulk_create(batch, batch_size=1000)
