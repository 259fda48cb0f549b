"""Synthetic cases over the demo world, loaded through the bulk paths.

The world is the demo district (``org.demo``) plus extra units up to 1,500 (property-management
companies in every community and village, as a real district's roster has them). Each case runs
through the loop as far as the clock allows: reported, then rejected or merged, or accepted,
dispatched (sometimes returned and re-dispatched, sometimes to a lead unit and co-units),
started, extended, handled, sent back for rework, closed. Its state, deadlines and timeline
events are those the services would have written at each step, cut at ``now``, so a case
reported yesterday is still open and one from last spring is long closed.

Distributions: more reports in summer and on working days, during office hours; categories
follow a long-tailed popularity with their own seasons; urban grids report more than villages;
about 85% of the handling is on time. Deadlines use the real working-hours clock
(``workdays.clock``), laid out once as arrays of working periods and looked up per case. Photos are rows only (no files).

Loading: PostgreSQL ``COPY ... (FORMAT binary)`` from one process per core, each over its own
connection and its own slice of days (ids come from disjoint blocks, so no coordination is
needed); SQLite batched ``executemany`` in one transaction. Used by ``python -m bench`` and by
the tiny benchmark in the test suite.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
import os
import random
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import cast

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from appeals.models import CODE_ALPHABET, Appeal, Open311Client
from cases import mapcells
from cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CasePart,
    CasePhoto,
    Category,
    ExtensionRequest,
    MapCell,
)
from cases.services import last_case_numbers
from org import demo as org_demo
from org.models import Grid, Membership, Region, Role, Unit, User
from workdays.calendar import WorkCalendar, is_known_year
from workdays.clock import add_working_days, day_length, periods_on

TOTAL_UNITS = 1500
# Id blocks per case: a case's parts, events, photos and extension requests get ids
# ``case_id * BLOCK + k``, so parallel loaders never collide and need no sequence round trips.
PART_BLOCK, EVENT_BLOCK, PHOTO_BLOCK, EXTENSION_BLOCK = 4, 16, 8, 2

SOURCES = [
    (Case.Source.COLLECTOR, 55),
    (Case.Source.INSPECTION, 14),
    (Case.Source.APPEAL, 16),
    (Case.Source.CLERK, 9),
    (Case.Source.OPEN311, 4),
    (Case.Source.API, 2),
]
P_REJECT, P_MERGE, P_URGENT, P_RETURN, P_JOINT, P_EXTENSION, P_REWORK, P_LATE = (
    0.06,
    0.02,
    0.03,
    0.03,
    0.03,
    0.04,
    0.06,
    0.15,
)
DESCRIPTIONS = ["{}，影响市容，请尽快处理", "发现{}，群众反映强烈", "{}问题，需责任单位处置", "巡查发现{}"]
ADDRESS_PLACES = ["路口", "小区门口", "菜市场旁", "公交站旁", "学校附近", "广场东侧", "背街小巷", "河堤步道"]

CASE_COLUMNS = [
    "id",
    "number",
    "source",
    "category_id",
    "description",
    "address",
    "lat",
    "lng",
    "region_id",
    "grid_id",
    "status",
    "urgent",
    "reporter_id",
    "reporter_unit_id",
    "merged_into_id",
    "lead_unit_id",
    "reported_at",
    "accepted_at",
    "dispatched_at",
    "handled_at",
    "verified_at",
    "closed_at",
    "ended_at",
    "dispatch_deadline",
    "handle_deadline",
    "verify_deadline",
    "close_deadline",
    "due_at",
    "rework_count",
    "return_count",
    "extension_count",
    "updated_at",
]
PART_COLUMNS = [
    "id",
    "case_id",
    "unit_id",
    "is_lead",
    "status",
    "dispatched_at",
    "deadline",
    "started_at",
    "handled_at",
    "returned_at",
    "extension_days",
    "note",
    "case_reported_at",
    "deadline_rule",
    "time_limit",
    "deadline_provisional",
]
EVENT_COLUMNS = [
    "id",
    "case_id",
    "part_id",
    "action",
    "actor_id",
    "actor_role",
    "actor_unit_id",
    "at",
    "reason",
    "via",
    "ip",
    "data",
]
PHOTO_COLUMNS = [
    "id",
    "case_id",
    "event_id",
    "kind",
    "original",
    "image",
    "thumbnail",
    "sha256",
    "size",
    "width",
    "height",
    "uploaded_by_id",
    "uploaded_at",
]
EXTENSION_COLUMNS = [
    "id",
    "part_id",
    "days",
    "reason",
    "status",
    "requested_by_id",
    "requested_at",
    "decided_by_id",
    "decided_at",
    "decision_note",
]
# Citizens' reports (sources appeal and open311, a fifth of all) are published as Open311 service
# requests: each gets its appeal row (id = the case's id), received when the case was reported.
APPEAL_COLUMNS = [
    "id",
    "case_id",
    "code",
    "channel",
    "received_at",
    "phone",
    "name",
    "category_unsure",
    "location_approximate",
    "media_url",
    "attributes",
    "entered_by_id",
    "client_id",
    "rating",
    "rating_comment",
    "rated_at",
    "review",
    "review_note",
    "reviewed_by_id",
    "reviewed_at",
    "reopen_count",
    "history",
    "follow_up_note",
    "followed_up_by_id",
    "followed_up_at",
]
APPEAL_CHANNELS: dict[str, str] = {
    Case.Source.APPEAL: Appeal.Channel.WEB,
    Case.Source.OPEN311: Appeal.Channel.OPEN311,
}
BENCH_CLIENT = "压测 Open311 客户端"
TABLES = [
    (Case, CASE_COLUMNS),
    (CasePart, PART_COLUMNS),
    (CaseEvent, EVENT_COLUMNS),
    (CasePhoto, PHOTO_COLUMNS),
    (ExtensionRequest, EXTENSION_COLUMNS),
    (Appeal, APPEAL_COLUMNS),
]


# Columns every generated row leaves at one value, added to each row as it is written.
CONSTANT_COLUMNS: dict[type, dict[str, object]] = {
    CasePart: {"extension_hours": 0},  # extensions are generated in days
    ExtensionRequest: {"hours": 0},
}


def _columns(model, columns: list[str]) -> list[str]:
    return [*columns, *CONSTANT_COLUMNS.get(model, {})]


def _with_constants(model, rows):
    extra = tuple(CONSTANT_COLUMNS.get(model, {}).values())
    return [row + extra for row in rows] if extra else rows


def check_columns() -> None:
    """Fail loudly when a model gained or lost a column the generator does not know about."""
    for model, columns in TABLES:
        actual = [f.column for f in model._meta.concrete_fields]
        if sorted(actual) != sorted(_columns(model, columns)):
            raise RuntimeError(f"{model.__name__} columns changed: model {actual}, generator {columns}")


# ---------------------------------------------------------------------------------------------
# The world


def ensure_world(total_units: int = TOTAL_UNITS) -> None:
    """The demo organisation (``org.demo``) and extra units (with one handler each) up to
    ``total_units``. The other apps' demo data is not loaded: the cases are generated here."""
    if not Unit.objects.filter(code="HQ").exists():
        org_demo.load()
    if not Open311Client.objects.filter(name=BENCH_CLIENT).exists():
        client = Open311Client(name=BENCH_CLIENT)
        client.set_new_key()  # the generated requests only need the client row, not its key
        client.save()
    missing = total_units - Unit.objects.count()
    if missing <= 0:
        return
    places = list(
        Region.objects.filter(level__in=[Region.Level.COMMUNITY, Region.Level.VILLAGE]).order_by("code")
    )
    start = Unit.objects.filter(code__startswith="B-").count()
    password = make_password(None)
    with transaction.atomic():
        units = Unit.objects.bulk_create(
            [
                Unit(
                    code=f"B-{n:05d}",
                    name=f"{places[n % len(places)].name}第{n // len(places) + 1}物业服务企业",
                    short_name=f"物业{n}",
                    kind=Unit.Kind.ENTERPRISE,
                    region=places[n % len(places)],
                )
                for n in range(start, start + missing)
            ]
        )
        users = User.objects.bulk_create(
            [
                User(username=f"h-{u.code.lower()}", display_name=f"处置员{u.code}", password=password)
                for u in units
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(user=user, unit=unit, role=Role.HANDLER, title="联络员")
                for user, unit in zip(users, units, strict=True)
            ]
        )
    if connection.vendor == "postgresql":
        # Statistics for the planner on the tables just filled, as for the case tables below
        # (the tiny bench fills them in a test database that earlier tests emptied, whose
        # statistics may still describe the empty tables).
        with connection.cursor() as cur:
            for model in (Unit, User, Membership):
                cur.execute(f"ANALYZE {model._meta.db_table}")


@dataclass
class World:
    """Everything the case simulation needs, read once and shared (plain lists and dicts)."""

    categories: list[tuple[int, str, str, int, int | None, str]]  # id, kind, name, days, hours, unit kind
    category_weights: list[float]
    category_season: list[tuple[float, float]]  # amplitude, phase
    grids: list[tuple[int, int, float, float, float, float, str]]  # id, region, lat, lng, dlat, dlng, name
    grid_cum: list[float]
    grid_worker: dict[int, int | None]
    grid_worker_unit: dict[int, int | None]
    territorial: dict[int, int | None]  # community/village region → its committee (or township government)
    street_office: dict[int, int | None]  # community/village region → street office / township government
    property_units: dict[int, list[int]]  # community/village region → property companies there
    departments: list[int]
    utilities: list[int]
    handler: dict[int, int]  # unit → a handler user
    dispatcher: int
    dispatch_unit: int
    inspector: int
    inspector_unit: int
    open311_client: int


def load_world() -> World:
    rng = random.Random(7)
    categories = list(
        Category.objects.staff_selectable()
        .order_by("kind", "code")
        .values_list("id", "kind", "name", "time_limit_days", "time_limit_hours", "default_unit_kind")
    )
    # Long tail: a few categories (exposed rubbish, street vending ...) make most reports.
    order = list(range(len(categories)))
    rng.shuffle(order)
    weights = [0.0] * len(categories)
    for rank, i in enumerate(order, start=1):
        weights[i] = 1 / rank**0.9
    season = [(rng.uniform(0.0, 0.6), rng.uniform(0, 2 * math.pi)) for _ in categories]

    regions = {r.pk: r for r in Region.objects.all()}
    units = list(Unit.objects.filter(is_active=True).values_list("pk", "code", "kind", "region_id"))
    by_region_kind: dict[tuple[int, str], int] = {}
    property_units: dict[int, list[int]] = {}
    departments, utilities = [], []
    for pk, code, kind, region_id in units:
        by_region_kind.setdefault((region_id, kind), pk)
        if code.startswith("B-"):
            property_units.setdefault(region_id, []).append(pk)
        elif kind == Unit.Kind.ENTERPRISE:
            utilities.append(pk)
        elif kind == Unit.Kind.DEPARTMENT and code != "DISPATCH":
            departments.append(pk)

    grids, grid_weights = [], []
    for g in Grid.objects.order_by("code"):
        ring = g.boundary or [[regions[g.community_id].lng or 0, regions[g.community_id].lat or 0]] * 3
        lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
        region = regions[g.community_id]
        grids.append(
            (
                g.pk,
                g.community_id,
                min(lats),
                min(lngs),
                max(lats) - min(lats),
                max(lngs) - min(lngs),
                region.name,
            )
        )
        grid_weights.append(3.0 if region.level == Region.Level.COMMUNITY else 1.0)
    workers = {}
    for grid_id, user_id in Grid.workers.through.objects.order_by("-id").values_list("grid_id", "user_id"):
        workers[grid_id] = user_id
    member_unit = dict(
        Membership.objects.filter(role=Role.COLLECTOR).values_list("user_id", "unit_id").order_by("-id")
    )

    territorial, street_office = {}, {}
    for region in regions.values():
        if region.level not in (Region.Level.COMMUNITY, Region.Level.VILLAGE):
            continue
        if region.parent_id is None:
            continue
        parent = regions[region.parent_id]
        parent_unit = by_region_kind.get((parent.pk, Unit.Kind.STREET_OFFICE)) or by_region_kind.get(
            (parent.pk, Unit.Kind.TOWNSHIP_GOVERNMENT)
        )
        own = by_region_kind.get((region.pk, Unit.Kind.COMMUNITY_COMMITTEE)) or by_region_kind.get(
            (region.pk, Unit.Kind.VILLAGE_COMMITTEE)
        )
        territorial[region.pk] = own or parent_unit
        street_office[region.pk] = parent_unit
        property_units.setdefault(region.pk, [])

    handler = dict(
        Membership.objects.filter(role=Role.HANDLER).values_list("unit_id", "user_id").order_by("-id")
    )
    dispatcher = Membership.objects.filter(role=Role.DISPATCHER).order_by("id").first()
    inspector = Membership.objects.filter(role=Role.INSPECTOR).order_by("id").first()
    if dispatcher is None or inspector is None:
        raise RuntimeError("the demo world has no dispatcher or inspector; run load_demo first")
    return World(
        categories=categories,
        category_weights=weights,
        category_season=season,
        grids=grids,
        grid_cum=list(accumulate(grid_weights)),
        grid_worker={g[0]: workers.get(g[0]) for g in grids},
        grid_worker_unit={g[0]: member_unit.get(workers.get(g[0]) or 0) for g in grids},
        territorial=territorial,
        street_office=street_office,
        property_units=property_units,
        departments=departments,
        utilities=utilities,
        handler=handler,
        dispatcher=dispatcher.user_id,
        dispatch_unit=dispatcher.unit_id,
        inspector=inspector.user_id,
        inspector_unit=inspector.unit_id,
        open311_client=Open311Client.objects.get(name=BENCH_CLIENT).pk,
    )


# ---------------------------------------------------------------------------------------------
# Time: epoch seconds throughout; the working-hours clock as arrays of working periods


class Deadlines:
    """``workdays.clock.add_working_days`` (the working-hours rule) over a window as arrays of
    epoch seconds: the working periods in order and the working seconds before each, so that a
    deadline is two bisections. Built from the clock's own pieces (the calendar and the hours in
    force each day), and every seventh day is checked against the clock itself, so the two cannot
    drift apart."""

    def __init__(self, first: dt.date, last: dt.date, longest: int):
        tz = timezone.get_current_timezone()
        self.offset = int((tz.utcoffset(dt.datetime(first.year, 6, 1)) or dt.timedelta()).total_seconds())
        end = last + dt.timedelta(days=longest * 3 + 30)
        calendar = WorkCalendar(first - dt.timedelta(days=1), end)
        self.starts: list[int] = []
        self.before: list[int] = []  # working seconds before each period
        self.after: list[int] = []  # working seconds up to each period's end
        self.day_seconds: dict[int, int] = {}
        total, day = 0, first
        while day <= end:
            self.day_seconds[day.toordinal()] = int(day_length(day).total_seconds())
            if calendar.is_workday(day):
                for start, finish in periods_on(day):
                    a = int(dt.datetime.combine(day, start, tz).timestamp())
                    b = int(dt.datetime.combine(day, finish, tz).timestamp())
                    self.starts.append(a)
                    self.before.append(total)
                    total += b - a
                    self.after.append(total)
            day += dt.timedelta(days=1)
        self.unknown_years = {y for y in range(first.year, end.year + 1) if not is_known_year(y)}
        day = first
        while day <= last:
            if day.toordinal() % 7 == 0:
                moment = dt.datetime.combine(day, dt.time(10, 17), tz)
                assert self.add(int(moment.timestamp()), longest) == int(
                    add_working_days(moment, longest).timestamp()
                ), (moment, longest)
            day += dt.timedelta(days=1)

    def add(self, t: int, n: int) -> int:
        """``n`` working days (of the start day's length) of working time after ``t``."""
        i = bisect_right(self.starts, t) - 1
        done = self.before[i] + min(t - self.starts[i], self.after[i] - self.before[i]) if i >= 0 else 0
        target = done + n * self.day_seconds[(t + self.offset) // 86400 + 719163]
        k = bisect_left(self.after, target)
        return self.starts[k] + target - self.before[k]

    def provisional(self, start: int, end: int) -> bool:
        """Whether the time between crosses a year without a known holiday schedule."""
        if not self.unknown_years:
            return False
        first, last = (time.gmtime(t + self.offset).tm_year for t in (start, end))
        return any(first <= y <= last for y in self.unknown_years)


# ---------------------------------------------------------------------------------------------
# One case through the loop


@dataclass
class Plan:
    """The slice of work one loader does: a run of days, with its first case id and numbers."""

    days: list[tuple[int, int]]  # (day start epoch, cases that day)
    first_id: int
    numbers: dict[int, int]  # year → last number used before this slice
    seed: int


@dataclass
class Rows:
    cases: list[tuple] = field(default_factory=list)
    parts: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    photos: list[tuple] = field(default_factory=list)
    extensions: list[tuple] = field(default_factory=list)
    appeals: list[tuple] = field(default_factory=list)

    def clear(self) -> None:
        for rows in (self.cases, self.parts, self.events, self.photos, self.extensions, self.appeals):
            rows.clear()

    def __len__(self) -> int:
        return len(self.cases)


# Seconds of the day at which reports arrive: office hours, a lunch dip, a few at night.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 12, 7, 8, 14, 15, 14, 11, 7, 5, 4, 3, 2, 1]


class Simulator:
    def __init__(self, world: World, deadlines: Deadlines, now: int, plan: Plan, ts, js):
        self.w, self.dl, self.now = world, deadlines, now
        # Merged reports point at an earlier case of the same loader, so it surely exists.
        self.floor = plan.first_id
        self.rng = random.Random(plan.seed)
        self.ts, self.js = ts, js  # backend converters for timestamps and JSON
        self.source_names = [s for s, _ in SOURCES]
        self.source_cum = list(accumulate(w for _, w in SOURCES))
        self.hour_cum = list(accumulate(HOUR_WEIGHTS))
        self.empty = js({})

    def category_cum(self, day_start: int) -> list[float]:
        doy = time.gmtime(day_start).tm_yday
        return list(
            accumulate(
                w * (1 + amp * math.sin(2 * math.pi * doy / 365 + phase))
                for w, (amp, phase) in zip(self.w.category_weights, self.w.category_season, strict=True)
            )
        )

    def lead_unit(self, category, region_id: int) -> int:
        kind, r = category[5], self.rng.random()
        props = self.w.property_units[region_id]
        if kind == Unit.Kind.ENTERPRISE:
            return self.rng.choice(props) if props and r < 0.6 else self.rng.choice(self.w.utilities)
        if kind == Unit.Kind.COMMUNITY_COMMITTEE:
            return self.rng.choice(props) if props and r < 0.3 else cast(int, self.w.territorial[region_id])
        if kind == Unit.Kind.STREET_OFFICE:
            return cast(int, self.w.street_office[region_id])
        # Departments: each category has a usual department, sometimes another one.
        deps = self.w.departments
        return deps[category[0] % len(deps)] if r < 0.8 else self.rng.choice(deps)

    def lag(self, median: float) -> int:
        """A positive delay in seconds, log-normal around ``median``."""
        return max(60, int(median * math.exp(self.rng.gauss(0, 0.8))))

    def day(self, day_start: int, count: int, case_id: int, numbers: dict[int, int], out: Rows) -> int:
        rng, w = self.rng, self.w
        cat_cum = self.category_cum(day_start)
        cats = rng.choices(w.categories, cum_weights=cat_cum, k=count)
        grids = rng.choices(w.grids, cum_weights=w.grid_cum, k=count)
        sources = rng.choices(self.source_names, cum_weights=self.source_cum, k=count)
        hours = sorted(rng.choices(range(24), cum_weights=self.hour_cum, k=count))
        local_midnight = day_start - self.dl.offset
        year = time.gmtime(day_start).tm_year
        for i in range(count):
            reported = local_midnight + hours[i] * 3600 + rng.randrange(3600)
            if reported > self.now:
                reported = self.now - rng.randrange(3600)
            numbers[year] = numbers.get(year, 0) + 1
            self.case(case_id, f"{year}-{numbers[year]:06d}", cats[i], grids[i], sources[i], reported, out)
            case_id += 1
        return case_id

    def case(self, cid: int, number: str, cat, grid, source: str, r: int, out: Rows) -> None:
        rng, ts, dl = self.rng, self.ts, self.dl
        grid_id, region_id, lat0, lng0, dlat, dlng, place = grid
        events, parts = out.events, cast(list[tuple], [])
        ev_id = cid * EVENT_BLOCK
        dispatcher, dunit = self.w.dispatcher, self.w.dispatch_unit
        if source == Case.Source.COLLECTOR:
            reporter, reporter_unit, role = (
                self.w.grid_worker[grid_id],
                self.w.grid_worker_unit[grid_id],
                "collector",
            )
        elif source == Case.Source.INSPECTION:
            reporter, reporter_unit, role = self.w.inspector, self.w.inspector_unit, "inspector"
        elif source in (Case.Source.CLERK, Case.Source.API):
            reporter, reporter_unit, role = dispatcher, dunit, "dispatcher"
        else:
            reporter, reporter_unit, role = None, None, ""
        via = "api" if source in (Case.Source.API, Case.Source.OPEN311) else "web"
        urgent = cat[4] is not None and rng.random() < P_URGENT
        c: dict[str, object] = {
            "status": Case.Status.REPORTED,
            "merged_into": None,
            "lead": None,
            "accepted": None,
            "dispatched": None,
            "handled": None,
            "verified": None,
            "closed": None,
            "ended": None,
            "dd": None,
            "hd": None,
            "vd": None,
            "cd": None,
            "due": None,
            "rework": 0,
            "returns": 0,
            "extensions": 0,
            "updated": r,
        }
        photo_n = 0

        def event(action, t, actor, role, unit, part=None, reason="", data=None):
            nonlocal ev_id
            events.append(
                (ev_id, cid, part, action, actor, role, unit, ts(t), reason, via, None, data or self.empty)
            )
            c["updated"] = t
            ev_id += 1
            return ev_id - 1

        def photo(kind, event_id, t, user):
            nonlocal photo_n
            pid = cid * PHOTO_BLOCK + photo_n
            photo_n += 1
            stem = f"cases/{time.strftime('%Y/%m', time.gmtime(t))}/{pid:012x}"
            out.photos.append(
                (
                    pid,
                    cid,
                    event_id,
                    kind,
                    f"private/{stem}.jpg",
                    f"{stem}.jpg",
                    f"{stem}_t.jpg",
                    f"{pid:064x}",
                    rng.randrange(180_000, 900_000),
                    1600,
                    1200,
                    user,
                    ts(t),
                )
            )

        c["rule"], c["limit"] = ("clock_hours", cat[4]) if urgent else ("working_hours", cat[3])

        def hdeadline(t):
            return t + cat[4] * 3600 if urgent else dl.add(t, cat[3])

        report_event = event(CaseEvent.Action.REPORT, r, reporter, role, reporter_unit)
        if source in (Case.Source.COLLECTOR, Case.Source.INSPECTION):
            photo(CasePhoto.Kind.BEFORE, report_event, r, reporter)
        self._run(cid, cat, region_id, r, c, parts, event, photo, hdeadline, out)
        out.parts.extend(parts)
        channel = APPEAL_CHANNELS.get(source)
        if channel is not None:
            out.appeals.append(self.appeal(cid, channel, r))
        out.cases.append(
            (
                cid,
                number,
                source,
                cat[0],
                rng.choice(DESCRIPTIONS).format(cat[2]),
                f"{place}{rng.choice(ADDRESS_PLACES)}",
                f"{lat0 + rng.random() * dlat:.6f}",
                f"{lng0 + rng.random() * dlng:.6f}",
                region_id,
                grid_id,
                c["status"],
                urgent,
                reporter,
                reporter_unit,
                c["merged_into"],
                c["lead"],
                ts(r),
                ts(c["accepted"]),
                ts(c["dispatched"]),
                ts(c["handled"]),
                ts(c["verified"]),
                ts(c["closed"]),
                ts(c["ended"]),
                ts(c["dd"]),
                ts(c["hd"]),
                ts(c["vd"]),
                ts(c["cd"]),
                ts(c["due"]),
                c["rework"],
                c["returns"],
                c["extensions"],
                ts(c["updated"]),
            )
        )

    def appeal(self, cid: int, channel: str, r: int) -> tuple:
        """The citizen's appeal of case ``cid``: a tracking code unique by construction (five
        random characters, then the case id in base 31), a phone number, no rating yet."""
        rng, n, tail = self.rng, cid, []
        for _ in range(5):
            n, digit = divmod(n, len(CODE_ALPHABET))
            tail.append(CODE_ALPHABET[digit])
        code = "".join(rng.choices(CODE_ALPHABET, k=5)) + "".join(reversed(tail))
        open311 = channel == Appeal.Channel.OPEN311
        return (
            cid,
            cid,
            code,
            channel,
            self.ts(r),
            f"13{rng.randrange(10**9):09d}",
            "",
            False,
            False,
            "",
            self.empty,
            None,
            self.w.open311_client if open311 else None,
            "",
            "",
            None,
            "",
            "",
            None,
            None,
            0,
            self.js([]),
            "",
            None,
            None,
        )

    def _run(self, cid, cat, region_id, r, c, parts, event, photo, hdeadline, out) -> None:
        """The loop as far as ``now``: fills ``c`` (the case's fields), parts, events and photos."""
        rng, ts, now, dl, w = self.rng, self.ts, self.now, self.dl, self.w
        S, A = Case.Status, CaseEvent.Action
        dispatcher, dunit = w.dispatcher, w.dispatch_unit
        u = rng.random()
        if u < P_REJECT + P_MERGE:
            t = r + self.lag(3 * 3600)
            if t > now:
                return
            c["ended"], c["due"] = t, None
            if u < P_REJECT or cid <= self.floor:
                c["status"] = S.REJECTED
                event(A.REJECT, t, dispatcher, "dispatcher", dunit, reason="非城市管理问题，不予立案")
            else:
                c["status"], c["merged_into"] = (
                    S.MERGED,
                    cid - rng.randrange(1, min(cid - self.floor, 200) + 1),
                )
                event(A.MERGE, t, dispatcher, "dispatcher", dunit, reason="重复上报")
            return
        a = r + self.lag(40 * 60)
        if a > now:
            return
        c["status"], c["accepted"] = S.ACCEPTED, a
        c["dd"] = c["due"] = dl.add(a, 1)
        event(A.ACCEPT, a, dispatcher, "dispatcher", dunit)
        d = a + self.lag(50 * 60)
        if d > now:
            return
        joint = rng.random() < P_JOINT
        returned = not joint and rng.random() < P_RETURN
        lead = self.lead_unit(cat, region_id)
        units = [lead]
        if joint:
            units += rng.sample(w.departments, rng.randint(1, 2))
        deadline = hdeadline(d)
        part_ids = self._dispatch(cid, units, d, deadline, parts, event, c, reported=r)
        c["dispatched"] = d
        if returned:
            t = d + self.lag(4 * 3600)
            if t > now:
                return
            p = list(parts[0])
            p[4], p[9] = CasePart.Status.RETURNED, ts(t)
            parts[0] = tuple(p)
            c["status"], c["lead"], c["returns"] = S.RETURNED, None, 1
            c["due"] = dl.add(t, 1)
            event(A.RETURN, t, w.handler.get(lead), "handler", lead, part_ids[0], reason="不属于本单位职责")
            d2 = t + self.lag(2 * 3600)
            if d2 > now:
                return
            lead = self.lead_unit(cat, region_id)
            while lead == units[0] and len(w.departments) > 1:
                lead = rng.choice(w.departments)
            units = [lead]
            deadline = hdeadline(d2)
            part_ids = self._dispatch(cid, units, d2, deadline, parts, event, c, first=len(parts), reported=r)
            d = d2
        state = {
            pid: {"status": CasePart.Status.DISPATCHED, "started": None, "handled": None} for pid in part_ids
        }
        ext_days = 0
        # Start, maybe extend, handle: every active part the same way, a little apart.
        starts = {pid: d + self.lag(3 * 3600) for pid in part_ids}
        if min(starts.values()) > now:
            self._finish_parts(parts, state, deadline, ext_days)
            return
        for pid, unit in zip(part_ids, units, strict=True):
            if starts[pid] <= now:
                state[pid]["status"], state[pid]["started"] = CasePart.Status.HANDLING, starts[pid]
                event(A.START, starts[pid], w.handler.get(unit), "handler", unit, pid)
        c["status"] = S.HANDLING
        if not joint and rng.random() < P_EXTENSION:
            req = starts[part_ids[0]] + self.lag(86400)
            if req <= now:
                ext_days = rng.choice((2, 3, 5))
                decided = req + self.lag(3 * 3600)
                approved = decided <= now
                out.extensions.append(
                    (
                        cid * EXTENSION_BLOCK,
                        part_ids[0],
                        ext_days,
                        "施工量大，需协调相关部门",
                        ExtensionRequest.Status.APPROVED if approved else ExtensionRequest.Status.PENDING,
                        w.handler.get(lead),
                        ts(req),
                        dispatcher if approved else None,
                        ts(decided) if approved else None,
                        "同意" if approved else "",
                    )
                )
                event(
                    A.REQUEST_EXTENSION,
                    req,
                    w.handler.get(lead),
                    "handler",
                    lead,
                    part_ids[0],
                    reason="施工量大",
                )
                if approved:
                    deadline = dl.add(deadline, ext_days)
                    c["extensions"] = 1
                    c["hd"] = c["due"] = deadline
                    c["cd"] = dl.add(deadline, 2)
                    event(A.APPROVE_EXTENSION, decided, dispatcher, "dispatcher", dunit, part_ids[0])
                else:
                    ext_days = 0
        rounds = 2 if rng.random() < P_REWORK else 1
        for round_ in range(rounds):
            handled_at = {}
            for pid, unit in zip(part_ids, units, strict=True):
                begun = starts[pid]
                late = rng.random()
                if late < P_LATE:
                    # A tenth of the late ones linger for weeks: the overdue lists are never empty.
                    h = max(begun + 600, deadline + self.lag((20 if late < P_LATE / 10 else 2) * 86400))
                else:
                    h = begun + int(rng.random() * max(600, deadline - begun))
                if h > now or state[pid]["started"] is None:
                    continue
                state[pid]["status"], state[pid]["handled"] = CasePart.Status.HANDLED, h
                handled_at[pid] = h
                ev = event(A.HANDLE, h, w.handler.get(unit), "handler", unit, pid, reason="已处置完毕")
                photo(CasePhoto.Kind.AFTER, ev, h, w.handler.get(unit))
            if len(handled_at) < len(part_ids):
                self._finish_parts(parts, state, deadline, ext_days)
                return
            h = max(handled_at.values())
            c["status"], c["handled"] = S.HANDLED, h
            c["vd"] = c["due"] = dl.add(h, 2)
            v = h + self.lag(8 * 3600)
            if v > now:
                self._finish_parts(parts, state, deadline, ext_days)
                return
            c["verified"] = v
            if round_ + 1 < rounds:
                c["rework"] = 1
                deadline = hdeadline(v)
                c["status"], c["hd"], c["due"] = S.HANDLING, deadline, deadline
                event(A.REWORK, v, dispatcher, "dispatcher", dunit, reason="现场复核未整改到位")
                for pid in part_ids:
                    state[pid].update(status=CasePart.Status.HANDLING, handled=None)
                    starts[pid] = v
                continue
            c["status"], c["closed"], c["due"] = S.CLOSED, v, None
            event(A.CLOSE, v, dispatcher, "dispatcher", dunit, reason="核查通过")
        self._finish_parts(parts, state, deadline, ext_days)

    def _dispatch(self, cid, units, d, deadline, parts, event, c, first=0, reported=None) -> list[int]:
        ts = self.ts
        ids = []
        # A unit's first part of the case carries the case's report time (the unit list's index).
        holding = {p[2] for p in parts}
        for k, unit in enumerate(units):
            pid = cid * PART_BLOCK + first + k
            ids.append(pid)
            parts.append(
                (
                    pid,
                    cid,
                    unit,
                    k == 0,
                    CasePart.Status.DISPATCHED,
                    ts(d),
                    ts(deadline),
                    None,
                    None,
                    None,
                    0,
                    "",
                    None if unit in holding else ts(reported),
                    c["rule"],
                    c["limit"],
                    self.dl.provisional(d, deadline),
                )
            )
            holding.add(unit)
        c["status"], c["lead"] = Case.Status.DISPATCHED, units[0]
        c["hd"] = c["due"] = deadline
        c["cd"] = self.dl.add(deadline, 2)
        data = {"lead_unit": units[0], "co_units": units[1:]} if len(units) > 1 else None
        event(
            CaseEvent.Action.DISPATCH,
            d,
            self.w.dispatcher,
            "dispatcher",
            self.w.dispatch_unit,
            data=data and self.js(data),
        )
        return ids

    def _finish_parts(self, parts, state, deadline, ext_days) -> None:
        """Write the final state of the active parts (returned ones were written when returned)."""
        ts = self.ts
        for k, p in enumerate(parts):
            s = state.get(p[0])
            if s is None:
                continue
            parts[k] = (
                p[0],
                p[1],
                p[2],
                p[3],
                s["status"],
                p[5],
                ts(deadline),
                ts(s["started"]),
                ts(s["handled"]),
                None,
                ext_days if p[3] else 0,
                "已处置完毕" if s["handled"] else "",
                p[12],
                p[13],
                p[14],
                p[15],
            )


# ---------------------------------------------------------------------------------------------
# Loading


class Timestamps:
    """Epoch seconds to the UTC text both databases take ("2026-03-05 10:00:00"): a day table
    and a time-of-day table, because formatting half a million datetimes a second is the
    generator's hottest path."""

    def __init__(self, first_day: int, last_day: int):
        self.days = {
            d: time.strftime("%Y-%m-%d ", time.gmtime(d * 86400)) for d in range(first_day, last_day + 1)
        }
        self.clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]

    def __call__(self, t: int | None) -> str | None:
        if t is None:
            return None
        day, second = divmod(t, 86400)
        return self.days[day] + self.clock[second]


def _pg_worker(
    conninfo: dict,
    plan: Plan,
    world: World,
    deadlines: Deadlines,
    stamps: Timestamps,
    now: int,
    batch: int,
    replica: bool,
) -> None:
    import psycopg

    sim = Simulator(world, deadlines, now, plan, stamps, json.dumps)
    rows = Rows()
    with psycopg.connect(**conninfo) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET TIME ZONE 'UTC'")
        if replica:
            # Foreign keys are checked once for the whole load afterwards (check_foreign_keys),
            # not by one trigger per row.
            cur.execute("SET session_replication_role = replica")
        numbers = dict(plan.numbers)
        case_id = plan.first_id

        def flush():
            for model, cols in TABLES:
                data = getattr(rows, _ROWS_ATTR[model])
                if not data:
                    continue
                copy_sql = f"COPY {model._meta.db_table} ({', '.join(_columns(model, cols))}) FROM STDIN"
                with cur.copy(copy_sql) as copy:
                    for row in _with_constants(model, data):
                        copy.write_row(row)
            conn.commit()
            rows.clear()

        for day_start, count in plan.days:
            case_id = sim.day(day_start, count, case_id, numbers, rows)
            if len(rows) >= batch:
                flush()
        flush()


_ROWS_ATTR = {
    Case: "cases",
    CasePart: "parts",
    CaseEvent: "events",
    CasePhoto: "photos",
    ExtensionRequest: "extensions",
    Appeal: "appeals",
}


def _sqlite_load(
    plan: Plan, world: World, deadlines: Deadlines, stamps: Timestamps, now: int, batch: int
) -> None:
    sim = Simulator(world, deadlines, now, plan, stamps, json.dumps)
    rows = Rows()
    numbers = dict(plan.numbers)
    case_id = plan.first_id
    connection.ensure_connection()
    raw = connection.connection
    statements = {
        model: f"INSERT INTO {model._meta.db_table} ({', '.join(_columns(model, cols))}) "
        f"VALUES ({', '.join('?' * len(_columns(model, cols)))})"
        for model, cols in TABLES
    }

    def flush() -> None:
        # One transaction per batch: a single transaction of millions of rows makes the WAL
        # grow to gigabytes, and every read and write slows down as it grows.
        with transaction.atomic():
            for model, _ in TABLES:
                raw.executemany(statements[model], _with_constants(model, getattr(rows, _ROWS_ATTR[model])))
        rows.clear()

    raw.execute("PRAGMA synchronous=OFF")
    try:
        for day_start, count in plan.days:
            case_id = sim.day(day_start, count, case_id, numbers, rows)
            if len(rows) >= batch:
                flush()
        flush()
    finally:
        raw.execute("PRAGMA synchronous=NORMAL")


def _secondary_indexes() -> list[tuple[str, str]]:
    """(name, definition) of the indexes of the loaded tables that no constraint owns."""
    tables = [model._meta.db_table for model, _ in TABLES]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [tables],
        )
        return list(cur.fetchall())


def _rebuild_indexes(indexes: list[tuple[str, str]]) -> None:
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cur.execute(definition)


def _is_superuser() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(cur.fetchone()[0])


BLOCKS = {
    Case: 1,
    CasePart: PART_BLOCK,
    CaseEvent: EVENT_BLOCK,
    CasePhoto: PHOTO_BLOCK,
    ExtensionRequest: EXTENSION_BLOCK,
    Appeal: 1,
}


def check_foreign_keys(first_case: int, last_case: int) -> None:
    """Every foreign key of the rows just loaded points at an existing row (one anti-join per key)."""
    with connection.cursor() as cur:
        for model, _ in TABLES:
            low, high = first_case * BLOCKS[model], (last_case + 1) * BLOCKS[model] - 1
            for f in model._meta.concrete_fields:
                if not f.is_relation:
                    continue
                target = f.related_model._meta  # type: ignore[union-attr]  # a relation: a model
                cur.execute(
                    f"SELECT count(*) FROM {model._meta.db_table} t LEFT JOIN {target.db_table} r "
                    f"ON r.{target.pk.column} = t.{f.column} "
                    f"WHERE t.id BETWEEN %s AND %s AND t.{f.column} IS NOT NULL AND r.{target.pk.column} IS NULL",
                    [low, high],
                )
                broken = cur.fetchone()[0]
                if broken:
                    raise RuntimeError(f"{broken} rows of {model._meta.db_table}.{f.column} point nowhere")


def day_counts(n: int, first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """How many reports each day gets: a summer peak, fewer at weekends and on holidays."""
    from workdays.calendar import WorkCalendar

    cal = WorkCalendar(first, last)
    days, weights = [], []
    day = first
    while day <= last:
        doy = day.timetuple().tm_yday
        weight = (1 + 0.35 * math.sin(2 * math.pi * (doy - 105) / 365)) * (
            1.0 if cal.is_workday(day) else 0.55
        )
        days.append(int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()))
        weights.append(weight)
        day += dt.timedelta(days=1)
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    # Largest remainders get the rest, so the total is exactly n.
    rest = sorted(range(len(exact)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in rest[: n - sum(counts)]:
        counts[i] += 1
    return [(d, c) for d, c in zip(days, counts, strict=True) if c]


def _split(days: list[tuple[int, int]], parts: int) -> list[list[tuple[int, int]]]:
    total = sum(c for _, c in days)
    out: list[list[tuple[int, int]]] = [[] for _ in range(parts)]
    done = 0
    for d, c in days:
        out[min(parts - 1, done * parts // max(total, 1))].append((d, c))
        done += c
    return [p for p in out if p]


def _load_in_processes(conninfo, plans, world, deadlines, stamps, now_t, batch, replica) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_pg_worker, args=(conninfo, plan, world, deadlines, stamps, now_t, batch, replica))
        for plan in plans
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode for p in procs):
        raise RuntimeError("a loader process failed")


def generate(
    n: int,
    *,
    months: int = 12,
    now: dt.datetime | None = None,
    seed: int = 1,
    workers: int | None = None,
    batch: int = 20_000,
    total_units: int = TOTAL_UNITS,
) -> dict:
    """Add ``n`` cases reported over the last ``months`` months; return counts and timings."""
    check_columns()
    started = time.perf_counter()
    ensure_world(total_units)
    world = load_world()
    moment = now or timezone.now()
    now_t = int(moment.timestamp())
    last = timezone.localdate(moment)
    first = last - dt.timedelta(days=round(months * 30.44))
    longest = max(c[3] for c in world.categories) + 5  # the longest limit and extension
    deadlines = Deadlines(first - dt.timedelta(days=2), last + dt.timedelta(days=120), longest)
    days = day_counts(n, first, last)
    stamps = Timestamps(first.toordinal() - 719164, last.toordinal() - 719163 + 150)
    prepared = time.perf_counter()

    last_id = max(
        Case.objects.order_by("-id").values_list("id", flat=True).first() or 0,
        (CasePart.objects.order_by("-id").values_list("id", flat=True).first() or 0) // PART_BLOCK,
        (CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0) // EVENT_BLOCK,
        (CasePhoto.objects.order_by("-id").values_list("id", flat=True).first() or 0) // PHOTO_BLOCK,
        (ExtensionRequest.objects.order_by("-id").values_list("id", flat=True).first() or 0)
        // EXTENSION_BLOCK,
        Appeal.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    )
    numbers = last_case_numbers()  # counter rows and, on PostgreSQL, the intake sequences
    postgres = connection.vendor == "postgresql"
    slices = _split(days, (workers or os.cpu_count() or 1) if postgres else 1)
    plans, next_id = [], last_id + 1
    for k, slice_ in enumerate(slices):
        plans.append(Plan(slice_, next_id, dict(numbers), seed * 1000 + k))
        for d, c in slice_:
            year = time.gmtime(d).tm_year
            numbers[year] = numbers.get(year, 0) + c
        next_id += sum(c for _, c in slice_)

    # The map's per-cell counts are rebuilt once at the end instead of a delta per row.
    with mapcells.paused():
        loaded = _load(plans, world, deadlines, stamps, now_t, batch, n)
    with transaction.atomic():
        for year, last_number in numbers.items():
            CaseCounter.objects.update_or_create(year=year, defaults={"last": last_number})
    if postgres:
        indexed = time.perf_counter()
        if _is_superuser():
            check_foreign_keys(last_id + 1, next_id - 1)
        with connection.cursor() as cur:
            for model, _ in TABLES:
                table = model._meta.db_table
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"GREATEST((SELECT max(id) FROM {table}), 1))"
                )
            for model, _ in TABLES:
                # As autovacuum would: statistics for the planner, and a visibility map so
                # index-only scans need not visit the heap.
                cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    counted = time.perf_counter()
    mapcells.rebuild()
    if postgres:
        with connection.cursor() as cur:
            cur.execute(f"VACUUM ANALYZE {MapCell._meta.db_table}")
    finished = time.perf_counter()
    counts = {model._meta.db_table: model._default_manager.count() for model, _ in TABLES}
    return {
        "cases": n,
        "database": connection.vendor,
        "loaders": len(plans),
        "prepare_s": round(prepared - started, 2),
        "load_s": round(loaded - prepared, 2),
        "index_s": round(indexed - loaded, 2) if postgres else 0.0,
        "map_cells_s": round(finished - counted, 2),
        "finish_s": round(finished - loaded, 2),
        "total_s": round(finished - started, 2),
        "cases_per_s": round(n / max(loaded - prepared, 1e-9)),
        "rows": counts,
    }


def _load(plans, world, deadlines, stamps, now_t, batch, n) -> float:
    """Load the plans (PostgreSQL: one process per plan, secondary indexes built once at the end
    when loading at least as many cases as there are); the moment loading ended."""
    if connection.vendor == "postgresql":
        conninfo = connection.get_connection_params()
        conninfo.pop("cursor_factory", None)
        conninfo.pop("context", None)
        replica = _is_superuser()
        # Loading at least as many cases as there are: build the secondary indexes once at the
        # end (as pg_restore does) rather than row by row.
        dropped = _secondary_indexes() if n >= Case.objects.count() else []
        with connection.cursor() as cur:
            for name, _definition in dropped:
                cur.execute(f"DROP INDEX {name}")
        connection.close()
        try:
            if len(plans) == 1:
                _pg_worker(conninfo, plans[0], world, deadlines, stamps, now_t, batch, replica)
            else:
                _load_in_processes(conninfo, plans, world, deadlines, stamps, now_t, batch, replica)
        finally:
            loaded = time.perf_counter()
            _rebuild_indexes(dropped)
    else:
        _sqlite_load(plans[0], world, deadlines, stamps, now_t, batch)
        loaded = time.perf_counter()
    return loaded
