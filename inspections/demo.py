"""The demo's inspections: about 80 more sites 点位 over the six urban streets (with contracting
units and leaders), a checklist 测评表 per site type from the demo index system's 实地考察
criteria, and eight weeks of rounds — weekly 督查 drawn at random, 晨查 twice a week by the
leaders, a weekly 暗访 (published once its week is over; this week's is not) and a weekly 复查 —
submitted through the services with photos and check-ins, so findings sit in every state: open,
overdue, turned into cases at every step of the loop, rectified on time and late, failed
re-checks. The ``inspector`` login has sites left to inspect today. Loading twice changes nothing.
"""

import datetime as dt
import io
import random
import uuid
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cases import services as case_services
from cases.models import Case, CasePart, Category
from indicators.models import IndexSystem
from org.audit import Actor
from org.models import Contract, Membership, Region, Role, Site, Unit, User

from . import services
from .models import CheckItem, Checklist, Finding, Round, RoundSite

SEED = 15
WEEKS = 8
NOTE = "演示数据"
CONTRACT_START = dt.date(2026, 1, 1)

# Per street: (site type, name pattern, contracting department); {c} the community, {s} the street.
EXTRA_SITES = [
    (Site.Kind.SCHOOL, "{c}小学周边", "教科局"),
    (Site.Kind.SCHOOL, "{c}中学周边", "教科局"),
    (Site.Kind.BACK_STREET, "{c}一巷", "城管局"),
    (Site.Kind.BACK_STREET, "{c}后街", "城管局"),
    (Site.Kind.COMPOUND, "{c}老旧小区", "住建局"),
    (Site.Kind.COMPOUND, "{c}家属院", "住建局"),
    (Site.Kind.STATION, "{s}公交枢纽站", "交通局"),
    (Site.Kind.HOSPITAL, "{s}社区卫生服务中心周边", "卫健局"),
    (Site.Kind.SQUARE, "{c}文化广场", "文广旅局"),
    (Site.Kind.WINDOW, "{s}便民服务中心", "人社局"),
    (Site.Kind.WINDOW, "{s}派出所户籍窗口", "公安分局"),
    (Site.Kind.ROAD, "{s}主干道", "城管局"),
    (Site.Kind.ROAD, "{c}大道", "交警大队"),
    (Site.Kind.CONSTRUCTION, "{s}安置房工地", "住建局"),
]

# Site type → the 实地考察 criteria (codes of the shipped sample) its checklist is built from.
CHECKLISTS = {
    Site.Kind.MARKET: ["C02-1", "C03-1", "C07-1", "C07-2", "D09-1", "F03-1"],
    Site.Kind.SCHOOL: ["B08-1", "D01-1", "E05-1", "D09-1"],
    Site.Kind.BACK_STREET: ["E02-1", "C08-1", "F03-1", "E09-1"],
    Site.Kind.COMPOUND: ["E03-1", "F03-1", "E08-1", "D01-1", "B06-1"],
    Site.Kind.STATION: ["E10-1", "E06-1", "D09-1", "E05-1", "E04-1"],
    Site.Kind.HOSPITAL: ["E05-1", "E04-1", "D09-1", "E09-1"],
    Site.Kind.SQUARE: ["F04-1", "D01-1", "E04-1", "D09-1", "E09-1"],
    Site.Kind.WINDOW: ["A04-1", "A05-1", "A03-1", "E09-1"],
    Site.Kind.ROAD: ["E01-1", "B07-1", "B07-2", "D01-1", "E05-1"],
    Site.Kind.CONSTRUCTION: ["F01-2", "E10-1", "B06-1"],
}
# Criterion → the case category (kind, code) a finding of it becomes; the rest need one chosen.
CASE_CATEGORIES = {
    "C07-1": ("event", "0102"),
    "D09-1": ("event", "0102"),
    "C07-2": ("event", "0205"),
    "D01-1": ("event", "0205"),
    "E10-1": ("event", "0205"),
    "C08-1": ("event", "0504"),
    "E01-1": ("event", "0303"),
    "E02-1": ("event", "0104"),
    "E03-1": ("event", "0103"),
    "E05-1": ("event", "0505"),
    "B07-2": ("event", "0506"),
    "F01-2": ("event", "0302"),
    "F04-1": ("event", "0106"),
    "E04-1": ("component", "0301"),
    "F03-1": ("component", "0309"),
    "B06-1": ("component", "0115"),
}
# Lines judged at a counter (service, manners) need no photo.
NO_PHOTO = {"A03-1", "A04-1", "A05-1"}
PROBLEMS = ["地面有垃圾未清理", "设施破损未修复", "宣传栏内容过期", "车辆乱停乱放", "占道经营", "标识缺失"]
ROTATION = [
    (Site.Kind.MARKET, Site.Kind.COMPOUND),
    (Site.Kind.BACK_STREET, Site.Kind.SCHOOL),
    (Site.Kind.ROAD, Site.Kind.STATION),
    (Site.Kind.WINDOW, Site.Kind.SQUARE),
    (Site.Kind.HOSPITAL, Site.Kind.CONSTRUCTION),
]


def _photo(rng: random.Random) -> SimpleUploadedFile:
    image = Image.new("RGB", (80, 60), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg")


def _inside(rng: random.Random, region: Region) -> tuple[float, float]:
    ring = region.boundary or [[region.lng, region.lat]]
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    lat = min(lats) + (max(lats) - min(lats)) * rng.uniform(0.2, 0.8)
    lng = min(lngs) + (max(lngs) - min(lngs)) * rng.uniform(0.2, 0.8)
    return round(lat, 6), round(lng, 6)


def load_sites() -> None:
    """84 sites (14 per street), each with a contracting department and the street's leader."""
    rng = random.Random(SEED)
    streets = list(Region.objects.filter(level=Region.Level.STREET, boundary__isnull=False).order_by("code"))
    units = {u.short_name: u for u in Unit.objects.filter(kind=Unit.Kind.DEPARTMENT)}
    market_unit = units.get("市场监管局")
    for s_index, street in enumerate(streets, start=1):
        communities = list(street.children.filter(level=Region.Level.COMMUNITY).order_by("code"))
        if not communities:
            continue
        leader_contract = Contract.objects.filter(region=street, leader__isnull=False).order_by("pk").first()
        for n, (kind, pattern, unit_name) in enumerate(EXTRA_SITES, start=1):
            community = communities[(n + s_index) % len(communities)]
            lat, lng = _inside(rng, community)
            site, _ = Site.objects.update_or_create(
                code=f"Q{s_index}{n:02d}",
                defaults={
                    "name": pattern.format(
                        c=community.name.removesuffix("社区"), s=street.name.removesuffix("街道")
                    ),
                    "kind": kind,
                    "region": community,
                    "address": f"{street.name}{community.name}",
                    "lat": lat,
                    "lng": lng,
                },
            )
            if unit_name in units:
                Contract.objects.get_or_create(
                    unit=units[unit_name], site=site, defaults={"start": CONTRACT_START}
                )
            if leader_contract is not None:
                Contract.objects.get_or_create(
                    leader=leader_contract.leader, site=site, defaults={"start": CONTRACT_START}
                )
    if market_unit is not None:
        for market in Site.objects.filter(kind=Site.Kind.MARKET):
            Contract.objects.get_or_create(unit=market_unit, site=market, defaults={"start": CONTRACT_START})


def load_checklists(actor: Actor, system: IndexSystem) -> None:
    """A checklist per site type, with deduction rules, case categories and photo rules varied."""
    criteria = {c.code: c for c in services.field_criteria(system)}
    categories = {(c.kind, c.code): c for c in Category.objects.all()}
    for kind, codes in CHECKLISTS.items():
        if Checklist.objects.filter(system=system, site_kind=kind).exists():
            continue
        chosen = [criteria[c] for c in codes if c in criteria]
        if not chosen:
            continue
        checklist = services.build_checklist(actor, system, kind, chosen)
        for position, item in enumerate(checklist.items.all()):
            rule = (CheckItem.Rule.PER_OCCURRENCE, CheckItem.Rule.FIXED, CheckItem.Rule.FAIL_ALL)[
                position % 3
            ]
            if item.points <= 3:
                rule = CheckItem.Rule.FAIL_ALL
            services.update_check_item(
                actor,
                item,
                text=item.text,
                points=item.points,
                rule=rule,
                unit_deduction=min(
                    item.points, Decimal(1) if rule == CheckItem.Rule.PER_OCCURRENCE else Decimal(2)
                ),
                cap=item.points - 1 if rule == CheckItem.Rule.PER_OCCURRENCE and item.points > 2 else None,
                photo_required=item.code not in NO_PHOTO,
                category=categories.get(CASE_CATEGORIES.get(item.code, ("", ""))),
            )


class _Demo:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.rng = random.Random(SEED)
        self.hq = Actor.system(via="demo", user=User.objects.get(username="hq"))
        self.inspector = User.objects.get(username="inspector")
        self.leaders = list(User.objects.filter(username__startswith="leader").order_by("username"))
        self.streets = list(Region.objects.filter(level=Region.Level.STREET).order_by("code"))
        self.quality = {s.pk: self.rng.uniform(0.04, 0.3) for s in Site.objects.order_by("pk")}

    def moment(self, day: dt.date, hour: int) -> dt.datetime:
        zone = timezone.get_current_timezone()
        return dt.datetime.combine(day, dt.time(hour, self.rng.randrange(60)), tzinfo=zone)

    def plan(self, title, kind, start, end, inspectors, sites=(), draw=None) -> Round:
        return services.plan_round(
            self.hq,
            title=title,
            kind=kind,
            starts_on=start,
            ends_on=end,
            inspectors=inspectors,
            sites=list(sites),
            draw=draw,
            note=NOTE,
        )

    def inspect(self, round_: Round, site: Site, who: User, at: dt.datetime) -> None:
        """One visit: each line passes, fails (photo, note, 1–3 occurrences) or does not apply."""
        checklist = services.checklist_for(round_, site)
        lines = []
        for item in checklist.items.all() if checklist else []:
            roll = self.rng.random()
            if roll < self.quality[site.pk]:
                lines.append(
                    services.Line(
                        item.pk,
                        "fail",
                        occurrences=self.rng.randint(1, 3),
                        note=self.rng.choice(PROBLEMS),
                        photos=[_photo(self.rng)] if item.photo_required else [],
                    )
                )
            else:
                lines.append(services.Line(item.pk, "na" if roll > 0.97 else "pass"))
        rechecks = {}
        if round_.kind == Round.Kind.REINSPECTION:
            lines = []
            rechecks = {f.pk: self.rng.random() < 0.7 for f in services.open_findings_at(site, round_)}
        far = self.rng.random()
        lat = lng = None
        if far >= 0.03 and site.lat is not None and site.lng is not None:  # 3% without GPS
            lat = site.lat + (0.005 if far > 0.93 else self.rng.uniform(-0.0002, 0.0002))  # 7% far off
            lng = site.lng + self.rng.uniform(-0.0002, 0.0002)
        services.submit_inspection(
            Actor.system(via="demo", user=who),
            round_,
            site,
            uid=uuid.UUID(int=self.rng.getrandbits(128)),
            lines=lines,
            rechecks=rechecks,
            lat=lat,
            lng=lng,
            device="演示数据 · 手机浏览器",
            at=at,
        )

    def visit_all(self, round_: Round, who, days: list[dt.date], hour_range=(9, 17), leave: int = 0) -> None:
        sites = [rs.site for rs in RoundSite.objects.filter(round=round_).select_related("site")]
        visits = sites[: len(sites) - leave] if leave else sites
        for index, site in enumerate(visits):
            at = self.moment(days[index % len(days)], self.rng.randrange(*hour_range))
            if at < self.now:
                person = who[index % len(who)] if isinstance(who, list) else who
                self.inspect(round_, site, person, at)

    def week(self, monday: dt.date, number: int, current: bool) -> None:
        sunday = monday + dt.timedelta(days=6)
        kinds = ROTATION[number % len(ROTATION)]
        draw = services.Draw(
            seed=SEED * 1000 + number,
            kinds=tuple(kinds),
            street_codes=tuple(s.code for s in self.streets),
            per_group=1,
        )
        label = f"{monday:%m月%d日}当周"
        supervision = self.plan(
            f"{label}督查", Round.Kind.SUPERVISION, monday, sunday, [self.inspector], draw=draw
        )
        weekdays = [monday + dt.timedelta(days=d) for d in range(4)]
        self.visit_all(
            supervision, self.inspector, weekdays if not current else [monday], leave=4 if current else 0
        )

        for offset in (1, 4):  # 晨查 on Tuesday and Friday at six, by the street's leaders
            day = monday + dt.timedelta(days=offset)
            street = self.streets[(number + offset) % len(self.streets)]
            sites = list(
                Site.objects.filter(
                    region__path__startswith=street.path, kind__in=(Site.Kind.MARKET, Site.Kind.BACK_STREET)
                ).order_by("code")
            )
            if not sites:
                continue
            leaders = (
                list(
                    User.objects.filter(contracts__region=street, contracts__leader__isnull=False).distinct()
                )
                or self.leaders[:1]
            )
            chosen = self.rng.sample(sites, min(3, len(sites)))
            morning = self.plan(
                f"{day:%m月%d日}晨查（{street.name}）", Round.Kind.MORNING, day, day, leaders, chosen
            )
            self.visit_all(morning, leaders, [day], hour_range=(6, 7))

        wednesday = monday + dt.timedelta(days=2)
        pool = list(Site.objects.filter(kind__in=(Site.Kind.MARKET, Site.Kind.WINDOW, Site.Kind.STATION)))
        visit = self.plan(
            f"{label}暗访",
            Round.Kind.UNANNOUNCED,
            monday,
            sunday,
            [self.inspector],
            self.rng.sample(pool, min(4, len(pool))),
        )
        self.visit_all(
            visit,
            self.inspector,
            [monday if current else wednesday],
            hour_range=(10, 16),
            leave=2 if current else 0,
        )

        friday = monday + dt.timedelta(days=4)
        if friday < timezone.localdate(self.now):
            open_sites = (
                Site.objects.filter(
                    pk__in=Finding.objects.exclude(status=Finding.Status.RECTIFIED).values("site_id")
                )
                .exclude(
                    pk__in=Finding.objects.filter(
                        inspection__round__kind=Round.Kind.UNANNOUNCED,
                        inspection__round__published_at__isnull=True,
                        inspection__round__starts_on=monday,
                    ).values("site_id")
                )
                .order_by("code")
            )
            chosen = list(open_sites[:6])
            if chosen:
                recheck = self.plan(
                    f"{label}复查", Round.Kind.REINSPECTION, friday, sunday, [self.inspector], chosen
                )
                self.visit_all(recheck, self.inspector, [friday], hour_range=(9, 12))

        if not current:
            for round_ in Round.objects.filter(starts_on__gte=monday, starts_on__lte=sunday, note=NOTE):
                if round_.kind == Round.Kind.UNANNOUNCED:
                    services.publish_round(self.hq, round_, "每周暗访、每月通报")
                services.close_round(self.hq, round_)

    def cases(self) -> None:
        """Recent open findings become cases; the units take some through the loop."""
        recent = (
            Finding.objects.filter(
                case__isnull=True,
                item__category__isnull=False,
                found_at__gte=self.now - dt.timedelta(days=15),
            )
            .exclude(status=Finding.Status.RECTIFIED)
            .exclude(
                inspection__round__kind=Round.Kind.UNANNOUNCED, inspection__round__published_at__isnull=True
            )
            .exclude(photos__isnull=True)
            .select_related("site", "item", "inspection__round")
            .order_by("pk")
        )
        dispatcher = User.objects.filter(username="dispatcher").first()
        for index, finding in enumerate(list(recent)):
            if index % 3 == 2:
                continue  # left on the list for HQ to turn into a case
            case = services.finding_to_case(self.hq, finding)
            step = index % 4
            part = CasePart.objects.filter(case=case, is_lead=True).first()
            handler = (
                Membership.objects.filter(unit_id=part.unit_id, role=Role.HANDLER)
                .select_related("user")
                .first()
                if part
                else None
            )
            if handler is None or step == 0:
                continue
            unit_actor = Actor.system(via="demo", user=handler.user)
            case_services.start_handling(unit_actor, case)
            if step >= 2:
                case_services.handle_part(
                    unit_actor, Case.objects.get(pk=case.pk), [_photo(self.rng)], "已整改"
                )
            if step == 3 and dispatcher is not None:
                case_services.verify_case(
                    Actor.system(via="demo", user=dispatcher), Case.objects.get(pk=case.pk)
                )


def load() -> None:
    hq = User.objects.filter(username="hq").first()
    system = IndexSystem.active()
    if hq is None or system is None or not User.objects.filter(username="inspector").exists():
        return
    load_sites()
    load_checklists(Actor.system(via="demo", user=hq), system)
    if Round.objects.filter(note=NOTE).exists():
        return
    demo = _Demo(timezone.now())
    today = timezone.localdate()
    this_monday = today - dt.timedelta(days=today.weekday())
    for number in range(WEEKS):
        monday = this_monday - dt.timedelta(weeks=WEEKS - 1 - number)
        demo.week(monday, number, current=monday == this_monday)
    demo.cases()
