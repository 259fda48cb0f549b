"""The demo's street patrols: rosters for every community committee over the last eight weeks and
this week (from their segments' chiefs and grids' workers), eight weeks of past patrols with GPS
tracks and check-ins (about one duty in seven missed, a few patrols off the roster, a few GPS
jumps), 六必到 visits and social 六必报 reports; today one chief of 回风社区 has patrolled through
the services (one report became a case, one went to the community list). The ``streetchief`` and
``collector`` logins have duties today and no patrol yet.

Field verification 现场核查: 暴露垃圾 and 道路破损 are checked on site; recent closed cases of
those categories carry their passed field check; today the ``collector`` has a handled case of
their grid to check, and another they passed waits for the dispatcher to close. Joint actions
集中联合执法: eight weeks of weekly community actions and monthly street actions with the "5+3"
forces (sign-ins, a few far, some no-shows, findings handled on the spot); today the
``streetchief`` has planned one for 回风社区 (two units signed in, one far; a finding became a
case, one was handled on the spot). Service teams 市容/环卫/市政 for every street and township,
so every segment's public sign has its teams. Each part loads once: loading twice changes nothing.
"""

import datetime as dt
import io
import random
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cases import photos
from cases import services as case_services
from cases.models import Case, CaseEvent, Category, FieldCheck
from cases.routing import suggest_unit
from org.audit import Actor
from org.models import Membership, Region, Role, StreetSegment, Unit, User

from . import services
from .models import (
    CheckIn,
    Duty,
    JointAction,
    JointFinding,
    JointSummons,
    Patrol,
    Report,
    ServiceTeam,
    TrackPoint,
    Visit,
)

SEED = 17
WEEKS = 8
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def _centre(ring) -> tuple[Decimal, Decimal]:
    """The centre of a rectangular boundary ring [[lng, lat], ...]."""
    lngs = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    q = Decimal("0.000001")
    return (
        Decimal(str((min(lats) + max(lats)) / 2)).quantize(q),
        Decimal(str((min(lngs) + max(lngs)) / 2)).quantize(q),
    )


# The "5+3" forces of the demo district: five enforcement units and three that support them.
FORCES = [
    "D-城管局",
    "D-公安分局",
    "D-市场监管局",
    "D-交通局",
    "D-交警大队",
    "D-住建局",
    "D-自然资源分局",
    "D-应急局",
]
# Categories checked on site by the grid's collector (kind, code): 暴露垃圾, 道路破损.
FIELD_CATEGORIES = [(Category.Kind.EVENT, "0102"), (Category.Kind.EVENT, "0303")]
FIELD_HISTORY = 40


def load() -> None:
    hq = User.objects.filter(memberships__role=Role.HQ_ADMIN).order_by("pk").first()
    if hq is None:
        return
    rng = random.Random(SEED)
    today = timezone.localdate()
    if not Patrol.objects.exists():
        actor = Actor.system(user=hq)
        this_monday = today - dt.timedelta(days=today.weekday())
        committees = list(Unit.objects.filter(kind=Unit.Kind.COMMUNITY_COMMITTEE).select_related("region"))
        for unit in committees:
            for week in range(WEEKS, -1, -1):
                services.generate_week(actor, unit, this_monday - dt.timedelta(weeks=week))
        _history(rng, today)
        _today(rng, committees)
    if not ServiceTeam.objects.exists():
        _service_teams()
    if not FieldCheck.objects.exists():
        _field_checks(rng)
    if not JointAction.objects.exists():
        _joint_actions(rng, hq, today)


def _photo(rng: random.Random) -> SimpleUploadedFile:
    image = Image.new("RGB", (80, 60), (rng.randrange(256), 90, 60))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg")


def _history(rng: random.Random, today: dt.date) -> None:
    """Past patrols written directly (the services stamp the present moment)."""
    tz = timezone.get_current_timezone()
    duties = Duty.objects.filter(
        day__lt=today, day__gte=today - dt.timedelta(weeks=WEEKS), segment__isnull=False
    ).select_related("segment__region")
    patrols: list[Patrol] = []
    extras: list[tuple[Patrol, StreetSegment, Decimal, Decimal, dt.datetime, int, bool, bool, bool]] = []
    for duty in duties.iterator():
        if rng.random() < 0.14:
            continue  # missed
        segment = duty.segment
        ring = segment.region.boundary if segment is not None else None
        if segment is None or not ring:
            continue
        lat, lng = _centre(ring)
        start = dt.datetime.combine(duty.day, dt.time(8 + rng.randrange(9), rng.randrange(60)), tz)
        minutes = 30 + rng.randrange(60)
        jump = rng.random() < 0.04
        visit = rng.random() < 0.08
        social = rng.random() < 0.03
        patrol = Patrol(
            user=duty.user,
            day=duty.day,
            status=Patrol.Status.ENDED,
            started_at=start,
            start_lat=lat,
            start_lng=lng,
            ended_at=start + dt.timedelta(minutes=minutes),
            end_lat=lat,
            end_lng=lng,
            jumps=int(jump),
            distance_m=float(minutes * 40),
            summary={
                "segments": 1,
                "minutes": minutes,
                "points": 6,
                "jumps": int(jump),
                "distance_m": float(minutes * 40),
                "reports": int(social),
                "cases": 0,
                "social": int(social),
                "visits": int(visit),
            },
            off_roster=rng.random() < 0.03,
        )
        patrols.append(patrol)
        extras.append((patrol, segment, lat, lng, start, minutes, jump, visit, social))
    # Written in bulk: a patrol, its track, its check-in and what it found, a few statements in all.
    Patrol.objects.bulk_create(patrols, batch_size=1000)
    step = Decimal("0.000300")
    points, checkins, visits, reports = [], [], [], []
    for patrol, segment, lat, lng, start, minutes, jump, visit, social in extras:
        points += [
            TrackPoint(
                patrol=patrol,
                at=start + dt.timedelta(minutes=i * minutes // 5),
                lat=lat + step * i if not (jump and i == 3) else lat + Decimal("0.2"),
                lng=lng,
                jump=jump and i == 3,
            )
            for i in range(6)
        ]
        checkins.append(
            CheckIn(patrol=patrol, segment=segment, at=start + dt.timedelta(minutes=5), lat=lat, lng=lng)
        )
        if visit:
            visits.append(
                Visit(
                    user=patrol.user,
                    patrol=patrol,
                    kind=rng.choice(Visit.Kind.values),
                    place=f"{segment.name}{rng.randrange(1, 80)}号",
                    at=start + dt.timedelta(minutes=20),
                    lat=lat,
                    lng=lng,
                    note="到场了解情况",
                )
            )
        if social:
            reports.append(
                Report(
                    patrol=patrol,
                    kind=rng.choice(Report.SOCIAL_KINDS),
                    reporter=patrol.user,
                    reported_at=start + dt.timedelta(minutes=25),
                    lat=lat,
                    lng=lng,
                    description="巡查中发现，已告知社区",
                    community=segment.region,
                    person_name=rng.choice(NAMES) + rng.choice("明华强芳丽军"),
                    person_phone=f"13{rng.randrange(10**8, 10**9)}",
                )
            )
    TrackPoint.objects.bulk_create(points, batch_size=2000)
    CheckIn.objects.bulk_create(checkins, batch_size=1000)
    Visit.objects.bulk_create(visits, batch_size=1000)
    Report.objects.bulk_create(reports, batch_size=1000)


def _today(rng: random.Random, committees: list[Unit]) -> None:
    """One chief of the first community patrols today through the services (the demo logins
    ``streetchief`` and ``collector`` are left their own duties)."""
    first = next((u for u in committees if u.code == "S1C1"), None)
    if first is None:
        return
    segment = (
        StreetSegment.objects.filter(region=first.region, chief__isnull=False)
        .exclude(chief__username="streetchief")
        .select_related("chief", "region")
        .first()
    )
    if segment is None or not segment.region.boundary or segment.chief is None:
        return
    if not Membership.objects.filter(user=segment.chief, role=Role.STREET_CHIEF).exists():
        return
    lat, lng = _centre(segment.region.boundary)
    actor = Actor.system(via="web", user=segment.chief)
    patrol = services.start_patrol(actor, lat, lng)
    services.check_in(actor, patrol, segment, lat, lng)
    services.report(
        actor,
        patrol,
        kind="litter",
        description="路口垃圾桶满溢",
        lat=lat,
        lng=lng,
        photos_uploaded=[_photo(rng)],
    )
    services.report(
        actor,
        patrol,
        kind="newcomer",
        description="3号楼新搬来一户，已登记",
        lat=lat,
        lng=lng,
        person_name="冯晓梅",
        person_phone="13812340000",
    )
    services.log_visit(
        actor, kind="mutual_aid", place=f"{segment.name}12号", note="帮助独居老人", patrol=patrol
    )
    services.end_patrol(actor, patrol, lat, lng)


def _service_teams() -> None:
    """市容, 环卫 and 市政 teams for every street and township; 回风社区 keeps its own cleaners."""
    teams = []
    regions = Region.objects.filter(level__in=(Region.Level.STREET, Region.Level.TOWNSHIP)).order_by("path")
    for i, region in enumerate(regions):
        short = region.name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        teams += [
            ServiceTeam(
                region=region,
                kind=ServiceTeam.Kind.CITY_APPEARANCE,
                name=f"{short}城管执法中队",
                leader=NAMES[i % len(NAMES)] + "队长",
                phone=f"139{8000_0000 + i * 7:08d}",
                extension=f"{100 + i}1",
            ),
            ServiceTeam(
                region=region,
                kind=ServiceTeam.Kind.SANITATION,
                name=f"{short}环卫所",
                leader=NAMES[(i + 3) % len(NAMES)] + "所长",
                phone=f"138{7000_0000 + i * 11:08d}",
                extension=f"{100 + i}2",
            ),
            ServiceTeam(
                region=region,
                kind=ServiceTeam.Kind.MUNICIPAL,
                name="区市政设施养护中心",
                leader="",
                phone="0827-5266100",
                extension="3",
            ),
        ]
    first = Unit.objects.filter(code="S1C1").select_related("region").first()
    if first is not None:
        teams.append(
            ServiceTeam(
                region=first.region,
                kind=ServiceTeam.Kind.SANITATION,
                name=f"{first.region.name}保洁队",
                leader="何师傅",
                phone="13608275566",
                extension="1012",
            )
        )
    ServiceTeam.objects.bulk_create(teams)


def _handler_of(unit: Unit) -> User | None:
    member = Membership.objects.filter(unit=unit, role=Role.HANDLER).select_related("user").order_by("pk")
    first = member.first()
    return first.user if first is not None else None


def _field_checks(rng: random.Random) -> None:
    """Field verification: the categories, the history of recent closed cases, today's work."""
    categories = [Category.objects.filter(kind=k, code=c).first() for k, c in FIELD_CATEGORIES]
    chosen = [c for c in categories if c is not None]
    Category.objects.filter(pk__in=[c.pk for c in chosen]).update(field_verification=True)
    closed = (
        Case.objects.filter(status=Case.Status.CLOSED, category__in=chosen, grid__isnull=False)
        .select_related("category", "grid")
        .order_by("-closed_at")[:FIELD_HISTORY]
    )
    with photos.atomic():
        for case in closed:
            verifier, grid = case_services.field_verifier(case)
            if verifier is None or case.verified_at is None:
                continue
            checked = case.verified_at
            check = FieldCheck.objects.create(
                case=case,
                round=case.rework_count,
                verifier=verifier,
                grid=grid,
                status=FieldCheck.Status.PASSED,
                assigned_at=case.handled_at or checked,
                checked_at=checked,
                lat=case.lat,
                lng=case.lng,
                distance_m=float(rng.randrange(3, 60)),
                note="现场已整改到位",
            )
            event = CaseEvent.objects.create(
                case=case,
                action=CaseEvent.Action.FIELD_CHECK,
                actor=verifier,
                actor_role=Role.COLLECTOR,
                at=checked,
                reason=check.note,
                via="web",
                data={"passed": True, "distance_m": check.distance_m, "far": False},
            )
            photos.store(case, photos.validate(_photo(rng)), "check", event=event, user=verifier)
    _field_checks_today(rng, chosen)


def _field_checks_today(rng: random.Random, categories: list[Category]) -> None:
    """The ``collector`` login: two cases of their grid handled today through the services; one
    waits for their check, the other they passed and it waits for the dispatcher."""
    collector = User.objects.filter(username="collector").first()
    dispatcher = User.objects.filter(username="dispatcher").first()
    grid = collector.grids.exclude(boundary=None).first() if collector is not None else None
    if collector is None or dispatcher is None or grid is None or not categories:
        return
    ring = grid.boundary or []
    lats, lngs = [p[1] for p in ring], [p[0] for p in ring]
    q = Decimal("0.000001")
    lat = Decimal(str((min(lats) + max(lats)) / 2)).quantize(q)
    lng = Decimal(str((min(lngs) + max(lngs)) / 2)).quantize(q)
    by_collector = Actor.system(via="web", user=collector)
    command = Actor.system(via="web", user=dispatcher)
    done = []
    for i, text in enumerate(["人行道地砖松动，行人易绊倒", "绿化带内堆放建筑垃圾"]):
        category = categories[-1] if i == 0 else categories[0]
        case = case_services.report_case(
            by_collector,
            category=category,
            description=text,
            lat=lat + Decimal("0.0003") * i,
            lng=lng,
            address=f"{grid.name}内",
            photos_uploaded=[_photo(rng)],
        )
        case = case_services.accept_case(command, case)
        lead = suggest_unit(case.category, case.region, case.grid) or Unit.objects.get(code="D-城管局")
        case = case_services.dispatch_case(command, case, lead)
        handler = _handler_of(lead)
        if handler is None:
            continue
        case = case_services.handle_part(
            Actor.system(via="web", user=handler), case, [_photo(rng)], "已按要求处置完毕"
        )
        done.append(case)
    if len(done) == 2:
        case_services.field_check_case(
            by_collector,
            done[1],
            passed=True,
            photos_uploaded=[_photo(rng)],
            lat=done[1].lat,
            lng=done[1].lng,
            note="建筑垃圾已清运",
        )


def _joint_actions(rng: random.Random, hq: User, today: dt.date) -> None:
    forces = list(Unit.objects.filter(code__in=FORCES).order_by("code"))
    if len(forces) < 4:
        return
    committees = list(
        Unit.objects.filter(kind=Unit.Kind.COMMUNITY_COMMITTEE).select_related("region").order_by("code")[:3]
    )
    streets = list(
        Unit.objects.filter(kind=Unit.Kind.STREET_OFFICE).select_related("region").order_by("code")[:2]
    )
    tz = timezone.get_current_timezone()
    plans: list[tuple[Unit, dt.date]] = []
    for week in range(WEEKS, 0, -1):
        monday = today - dt.timedelta(days=today.weekday(), weeks=week)
        plans += [(unit, monday + dt.timedelta(days=2)) for unit in committees]  # weekly, Wednesdays
        if week % 4 == 0:
            plans += [(unit, monday + dt.timedelta(days=4)) for unit in streets]  # monthly, Fridays
    with photos.atomic():
        for organiser, day in plans:
            centre = services.region_centre(organiser.region)
            if centre is None:
                continue
            lead = services.next_lead(organiser, forces) or forces[0]
            others = rng.sample([f for f in forces if f.pk != lead.pk], rng.randrange(2, 5))
            start = dt.datetime.combine(day, dt.time(9, 0), tz)
            action = JointAction.objects.create(
                organiser=organiser,
                title=rng.choice(
                    ["占道经营集中整治", "背街小巷环境整治", "违规广告牌清理", "渣土车辆联合检查"]
                ),
                day=day,
                start_time=dt.time(9, 0),
                place=f"{organiser.region.name}主街",
                lat=centre[0],
                lng=centre[1],
                lead_unit=lead,
                created_by=hq,
                created_at=start - dt.timedelta(days=3),
            )
            summons = []
            for unit in [lead, *others]:
                came = rng.random() < 0.85
                far = came and rng.random() < 0.1
                offset = Decimal("0.008") if far else Decimal("0.0002")
                summons.append(
                    JointSummons(
                        action=action,
                        unit=unit,
                        signed_in_at=start + dt.timedelta(minutes=rng.randrange(-15, 20)) if came else None,
                        signed_in_by=_handler_of(unit) if came else None,
                        lat=centre[0] + offset if came else None,
                        lng=centre[1] if came else None,
                        distance_m=round(float(offset) * 111_195, 1) if came else None,
                        far=far,
                    )
                )
            JointSummons.objects.bulk_create(summons)
            attended = [s for s in summons if s.signed_in_at is not None and s.signed_in_by is not None]
            for s in attended[: rng.randrange(0, 3)]:
                recorder = s.signed_in_by
                if recorder is None:
                    continue
                files = photos.store_files(photos.validate(_photo(rng)), "streets")
                JointFinding.objects.create(
                    action=action,
                    outcome=JointFinding.Outcome.ON_SPOT,
                    description=rng.choice(
                        ["劝离流动摊贩", "清理占道杂物", "拆除违规横幅", "责令店主收回外摆"]
                    ),
                    lat=centre[0],
                    lng=centre[1],
                    recorded_by=recorder,
                    recorded_at=start + dt.timedelta(minutes=40),
                    unit=s.unit,
                    photo_original=files.original,
                    photo=files.image,
                    photo_thumbnail=files.thumbnail,
                )
    _joint_today(rng, forces)


def _joint_today(rng: random.Random, forces: list[Unit]) -> None:
    """The ``streetchief`` login's action today in 回风社区: planned, two units signed in (one far
    from the place), a finding that became a case and one handled on the spot."""
    chief = User.objects.filter(username="streetchief").first()
    organiser = Unit.objects.filter(code="S1C1").select_related("region").first()
    if chief is None or organiser is None:
        return
    segment = StreetSegment.objects.filter(chief=chief).select_related("region").first()
    centre = services.region_centre(segment.region if segment is not None else organiser.region)
    if centre is None:
        return
    lat, lng = centre
    lead = services.next_lead(organiser, forces) or forces[0]
    units = [lead, *[f for f in forces if f.pk != lead.pk][:3]]
    by_chief = Actor.system(via="web", user=chief)
    action = services.plan_action(
        by_chief,
        organiser,
        title="回风社区背街小巷联合整治",
        day=timezone.localdate(),
        start_time=dt.time(9, 30),
        place=f"{segment.name if segment else organiser.region.name}沿线",
        lat=lat,
        lng=lng,
        units=units,
        lead_unit=lead,
        note="整治占道经营、乱堆乱放和违规广告",
    )
    for unit, offset in ((units[0], Decimal("0")), (units[1], Decimal("0.008"))):
        handler = _handler_of(unit)
        if handler is not None:
            services.sign_in(Actor.system(via="web", user=handler), action, unit, lat + offset, lng)
    category = Category.objects.filter(kind=Category.Kind.EVENT, code="0102").first()
    if category is not None:
        services.record_finding(
            by_chief,
            action,
            outcome=JointFinding.Outcome.CASE,
            description="巷内长期堆放废旧家具",
            lat=lat,
            lng=lng,
            category=category,
            photos_uploaded=[_photo(rng)],
        )
    handler = _handler_of(units[0])
    if handler is not None:
        services.record_finding(
            Actor.system(via="web", user=handler),
            action,
            outcome=JointFinding.Outcome.ON_SPOT,
            description="劝离占道摆摊商户 3 户",
            lat=lat,
            lng=lng,
            unit=units[0],
            photos_uploaded=[_photo(rng)],
        )
