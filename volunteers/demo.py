"""Demo volunteer services for 巴州区, in the seed's shape: 1 practice centre 文明实践中心 on the
district, 22 stations 所 on the 6 streets and 16 townships, 296 points 站 on the communities and
villages, 324 volunteer organisations, 181 teams (5 of the centre, 8 per station), a few thousand
volunteers, a menu of services per point, orders in every state taken through the real services
(so every step has its event), activities with enrolments and confirmed hours, points earned and
spent, and a stocked shop.

The ``volunteer`` login (冯志愿) leads the 回风社区 team: orders to accept, staff and complete,
hours to confirm, activities to sign in to, points to spend. The ``practice`` login manages the
centre (assigns orders, hands out redeemed goods). Every demo citizen left the phone number
``DEMO_PHONE``. Loading twice changes nothing.
"""

import datetime as dt
import random
import zlib
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from org.audit import Actor
from org.models import Region, User

from . import services
from .models import (
    Activity,
    Attendance,
    Goods,
    Order,
    Organisation,
    PointsRule,
    Service,
    ServiceKind,
    Station,
    Team,
    TeamMember,
    Volunteer,
)
from .privacy import _ID_CHECK, _ID_WEIGHTS

DEMO_PHONE = "13800138001"
SEED = 20261201
VOLUNTEERS = 3000
POINTS_TOTAL = 296
ORGANISATIONS = 324
CENTRE_TEAMS = ["理论宣讲", "医疗健康", "法律咨询", "文化文艺", "文明交通"]
STATION_TEAMS = [
    "理论宣讲",
    "文明交通",
    "环境卫生",
    "助老助残",
    "文化文艺",
    "医疗健康",
    "法律咨询",
    "关爱帮扶",
]
KIND_OF_TEAM = {
    "理论宣讲": ServiceKind.THEORY,
    "文明交通": ServiceKind.TRAFFIC,
    "环境卫生": ServiceKind.ENVIRONMENT,
    "助老助残": ServiceKind.ELDERLY,
    "文化文艺": ServiceKind.CULTURE,
    "医疗健康": ServiceKind.HEALTH,
    "法律咨询": ServiceKind.LEGAL,
    "关爱帮扶": ServiceKind.OTHER,
}
MENU = [
    (ServiceKind.THEORY, "政策理论宣讲进小区", "辖区居民、单位"),
    (ServiceKind.ELDERLY, "上门助老（打扫、代购、陪伴）", "独居、空巢老人"),
    (ServiceKind.ENVIRONMENT, "小区环境清洁", "居民小区、院落"),
    (ServiceKind.HEALTH, "义诊与健康讲座", "辖区居民"),
    (ServiceKind.LEGAL, "法律咨询与调解", "辖区居民"),
    (ServiceKind.CULTURE, "文艺演出进社区", "社区、村组"),
    (ServiceKind.TRAFFIC, "文明交通劝导", "路口、学校周边"),
]
NEEDS = {
    ServiceKind.THEORY: "想请宣讲员给院坝会讲讲新出台的惠民政策",
    ServiceKind.ELDERLY: "家里老人独居行动不便，想请志愿者帮忙打扫和代购",
    ServiceKind.ENVIRONMENT: "院落公共区域杂物多，想请志愿者一起清理",
    ServiceKind.HEALTH: "小区老人多，希望来一次量血压、测血糖的义诊",
    ServiceKind.LEGAL: "邻里因漏水起了纠纷，想请律师志愿者帮忙调解",
    ServiceKind.CULTURE: "重阳节想请文艺队来社区演出",
    ServiceKind.TRAFFIC: "学校门口放学时段车辆乱停，想请志愿者劝导",
}
GOODS = [
    ("洗衣液", "2 升装", 30, 120),
    ("食用油", "5 升装", 120, 40),
    ("大米", "10 斤装", 100, 60),
    ("毛巾两条", "", 20, 200),
    ("保温杯", "", 80, 50),
    ("雨伞", "", 60, 80),
    ("文明实践帆布袋", "", 15, 300),
    ("体检套餐券", "区人民医院基础体检", 300, 10),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏飞宇浩然子轩梓涵思雨欣怡佳琪晨阳"
SKILLS = ["theory", "traffic", "environment", "elderly", "culture", "health", "legal"]


def _id_number(serial: int) -> str:
    """A valid ID number, distinct for every serial below 16,000 (birth day and sequence differ)."""
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=serial * 37 % 16000)
    body = f"511902{birth:%Y%m%d}{serial % 1000:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _name(i: int) -> str:
    return (
        SURNAMES[i % len(SURNAMES)]
        + GIVEN[(i * 7) % len(GIVEN)]
        + (GIVEN[(i * 11 + 5) % len(GIVEN)] if i % 3 else "")
    )


@transaction.atomic
def load() -> None:
    district = Region.objects.filter(level=Region.Level.DISTRICT).first()
    if district is None or Station.objects.exists():
        return
    rng = random.Random(SEED)
    centre, stations, points = _network(district)
    teams = _teams(centre, stations)
    _register(rng, teams)
    _menu(points)
    _shop()
    _work(rng, centre, teams)


def _network(district: Region) -> tuple[Station, list[Station], list[Station]]:
    centre = Station.objects.create(
        code="WM",
        name="巴州区新时代文明实践中心",
        kind=Station.Kind.CENTRE,
        region=district,
        address="巴州区江北大道",
    )
    practice = User.objects.filter(username="practice").first()
    if practice is not None:
        centre.managers.add(practice)
    tops = list(
        Region.objects.filter(parent=district, level__in=(Region.Level.STREET, Region.Level.TOWNSHIP))
    )
    stations = Station.objects.bulk_create(
        Station(
            code=f"WM{r.code}",
            name=f"{r.name}新时代文明实践所",
            kind=Station.Kind.STATION,
            region=r,
            parent=centre,
        )
        for r in tops
    )
    by_region = {s.region_id: s for s in stations}
    bases = list(
        Region.objects.filter(level__in=(Region.Level.COMMUNITY, Region.Level.VILLAGE)).order_by("path")
    )
    rows = []
    for i in range(POINTS_TOTAL):
        region = bases[i % len(bases)]
        n = i // len(bases)
        name = f"{region.name}新时代文明实践站" if n == 0 else f"{region.name}文明实践点{n}"
        rows.append(
            Station(
                code=f"WM{region.code}-{n}",
                name=name,
                kind=Station.Kind.POINT,
                region=region,
                parent=by_region[region.parent_id or 0],
            )  # fmt: skip
        )
    return centre, stations, Station.objects.bulk_create(rows)


def _teams(centre: Station, stations: list[Station]) -> list[Team]:
    organisations = Organisation.objects.bulk_create(
        Organisation(code=f"ORG{i:03d}", name=f"巴州区志愿服务组织{i:03d}")
        for i in range(1, ORGANISATIONS + 1)
    )
    rows = [
        Team(
            code=f"T-WM-{i}",
            name=f"区{label}志愿服务队",
            station=centre,
            skills=KIND_OF_TEAM[label],
            organisation=organisations[i],
        )  # fmt: skip
        for i, label in enumerate(CENTRE_TEAMS)
    ]
    for s_index, station in enumerate(stations):
        for t_index, label in enumerate(STATION_TEAMS):
            name = f"{station.region.name}{label}志愿服务队"
            skills = KIND_OF_TEAM[label] + ("、environment" if label == "助老助残" else "")
            organisation = organisations[
                (len(CENTRE_TEAMS) + s_index * len(STATION_TEAMS) + t_index) % ORGANISATIONS
            ]
            rows.append(Team(code=f"T-{station.code}-{t_index}", name=name, station=station, skills=skills,
                             organisation=organisation))  # fmt: skip
    return Team.objects.bulk_create(rows)


def _register(rng: random.Random, teams: list[Team]) -> None:
    """Volunteers in one or two teams; each team's first member leads it and has a login (the
    leaders act through the services below). ``volunteer`` leads 回风街道's 助老助残 team."""
    password = make_password(None)
    now = timezone.now()
    regions = {t.pk: t.station.region_id for t in teams}
    volunteers = Volunteer.objects.bulk_create(
        Volunteer(
            number=f"BZ{i:06d}",
            name=_name(i),
            id_number=_id_number(i),
            phone=f"13{rng.randrange(3, 10)}{zlib.crc32(str(i).encode()) % 10**8:08d}",
            skills="、".join(rng.sample(SKILLS, rng.randint(1, 3))),
            region_id=regions[teams[i % len(teams)].pk],
            availability=rng.choice(["周末", "工作日晚上", "随时", "节假日"]),
            registered_at=now - dt.timedelta(days=rng.randrange(30, 900)),
        )
        for i in range(1, VOLUNTEERS + 1)
    )
    members = []
    for i, volunteer in enumerate(volunteers):
        members.append(TeamMember(team=teams[i % len(teams)], volunteer=volunteer, is_leader=i < len(teams)))
        if i % 4 == 0:
            members.append(TeamMember(team=teams[(i * 7 + 3) % len(teams)], volunteer=volunteer))
    TeamMember.objects.bulk_create(members, ignore_conflicts=True)
    users = User.objects.bulk_create(
        User(username=f"vt-{t.code.lower()}", display_name=f"{t.name}队长", password=password) for t in teams
    )
    for volunteer, user in zip(volunteers, users, strict=False):
        volunteer.user = user
    Volunteer.objects.bulk_update(volunteers[: len(users)], ["user"])
    demo = User.objects.filter(username="volunteer").first()
    home_team = Team.objects.filter(station__region__name="回风街道", name__contains="助老助残").first()
    if demo is not None and home_team is not None:
        volunteer = Volunteer.objects.create(
            number="BZ000000", user=demo, name=demo.display_name or "冯志愿", id_number=_id_number(0),
            phone=demo.phone or "13900000000", skills="elderly、environment", region=home_team.station.region,
            availability="周末",
        )  # fmt: skip
        TeamMember.objects.filter(team=home_team, is_leader=True).update(is_leader=False)
        TeamMember.objects.create(team=home_team, volunteer=volunteer, is_leader=True)


def _menu(points: list[Station]) -> None:
    Service.objects.bulk_create(
        Service(station=p, kind=kind, name=name, audience=audience, area=p.region.name)
        for i, p in enumerate(points)
        for j, (kind, name, audience) in enumerate(MENU)
        if (i + j) % 3 == 0 or kind == ServiceKind.ELDERLY
    )


def _shop() -> None:
    PointsRule.objects.bulk_create(
        [
            PointsRule(kind="", points_per_hour=10),
            PointsRule(kind=ServiceKind.ELDERLY, points_per_hour=15),
            PointsRule(kind=ServiceKind.HEALTH, points_per_hour=15),
        ]  # fmt: skip
    )
    Goods.objects.bulk_create(
        Goods(name=name, description=text, points=cost, stock=stock) for name, text, cost, stock in GOODS
    )


def _as(user: User | None) -> Actor:
    return Actor.system(via="demo", user=user)


def _serve(order: Order, volunteers: list[Volunteer], hours: int) -> None:
    """Put volunteers on an accepted order and have them sign in and out ``hours`` apart."""
    leader = _as(order.team.members.get(is_leader=True).volunteer.user)  # type: ignore[union-attr]
    records = services.staff_order(leader, order, volunteers)
    for record in records:
        record = services.sign_in(_as(record.volunteer.user), record)
        services.sign_out(_as(record.volunteer.user), record)
    started = timezone.now() - dt.timedelta(hours=hours)
    Attendance.objects.filter(order=order, signed_out_at__isnull=False).update(
        signed_in_at=started, hours=Decimal(hours)
    )


def _work(rng: random.Random, centre: Station, teams: list[Team]) -> None:
    """Orders in every state, activities and the points they earn, through the services."""
    manager = User.objects.filter(username="practice").first() or User.objects.filter(username="hq").first()
    if manager is None:
        return
    staff = _as(manager)
    citizen = Actor.system(via="demo")
    home_team = (
        Team.objects.filter(members__volunteer__number="BZ000000").first() or teams[len(CENTRE_TEAMS) + 3]
    )
    home_services = list(Service.objects.filter(station__parent=home_team.station).order_by("pk")[:12])
    other_services = rng.sample(
        list(Service.objects.exclude(station__parent=home_team.station).order_by("pk")), 60
    )
    members = list(Volunteer.objects.filter(teams=home_team, user__isnull=False))
    # Give the home team's members logins too, so their sign-ins go through the services.
    extra = list(Volunteer.objects.filter(teams=home_team, user__isnull=True)[:4])
    users = User.objects.bulk_create(
        User(username=f"vm-{v.number.lower()}", display_name=v.name, password=make_password(None))
        for v in extra
    )
    for v, u in zip(extra, users, strict=True):
        v.user = u
    Volunteer.objects.bulk_update(extra, ["user"])
    members += extra

    def order(service: Service, i: int) -> Order:
        return services.place_order(
            citizen if i % 3 else staff,
            service,
            description=NEEDS[ServiceKind(service.kind)],
            address=f"{service.station.region.name}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元",
            phone=DEMO_PHONE,
            name=rng.choice(["王阿姨", "李大爷", "张女士", "刘先生", ""]),
            people=rng.randint(1, 40),
            channel=Order.Channel.PUBLIC if i % 3 else Order.Channel.STAFF,
        )

    plan = (
        ["ordered"] * 3 + ["assigned"] * 3 + ["accepted"] * 2 + ["serving"] + ["served"] * 2 + ["rated"] * 5
    )
    for i, state in enumerate(plan * 2):
        service = home_services[i % len(home_services)] if home_services else other_services[i]
        _advance(order(service, i), state, home_team, staff, members, rng, i)
    for i, service in enumerate(other_services):
        team = rng.choice(
            list(Team.objects.filter(station__children=service.station).order_by("pk")) or [home_team]
        )
        _advance(order(service, i), ["ordered", "assigned", "rated", "rated", "served"][i % 5], team, staff,
                 list(Volunteer.objects.filter(teams=team, user__isnull=False)[:1]), rng, i)  # fmt: skip
    # A few orders ran late: their deadlines lie in the past.
    late = Order.objects.filter(status__in=Order.TIMED).order_by("pk")[:6]
    for o in late:
        Order.objects.filter(pk=o.pk).update(
            ordered_at=o.ordered_at - dt.timedelta(days=9), due_at=timezone.now() - dt.timedelta(days=2)
        )
    _activities(rng, home_team, members)
    volunteer = Volunteer.objects.filter(number="BZ000000").first()
    goods = Goods.objects.order_by("points").first()
    if volunteer is not None and goods is not None and volunteer.points_balance >= goods.points:
        services.redeem(_as(volunteer.user), goods)


def _advance(
    order: Order, state: str, team: Team, staff: Actor, members: list[Volunteer], rng, i: int
) -> None:
    if state == "ordered":
        if i % 4 == 1 and team.members.filter(is_leader=True).exists():  # declined once, back to assignment
            order = services.assign_order(staff, order, team)
            leader = _as(team.members.get(is_leader=True).volunteer.user)
            services.decline_order(leader, order, "本周队员外出集训，人手不足")
        return
    order = services.assign_order(staff, order, team)
    if state == "assigned":
        return
    leader = _as(team.members.get(is_leader=True).volunteer.user)
    order = services.accept_order(leader, order)
    if state == "accepted" or not members:
        return
    chosen = rng.sample(members, min(len(members), rng.randint(1, 3)))
    if state == "serving":
        records = services.staff_order(leader, order, chosen)
        services.sign_in(_as(records[0].volunteer.user), records[0])
        return
    _serve(order, chosen, rng.randint(1, 4))
    order.refresh_from_db()
    order = services.complete_order(leader, order, "已按需求完成服务，群众表示感谢")
    for record in order.attendances.all():
        services.confirm_hours(leader, record)
    if state == "rated":
        stars = rng.choice([5, 5, 5, 4, 4, 3])
        services.rate_order(Actor.system(via="demo"), order, stars, "志愿者很热心" if stars > 3 else "还可以",
                            code=order.code, phone=DEMO_PHONE)  # fmt: skip


def _activities(rng: random.Random, home_team: Team, members: list[Volunteer]) -> None:
    """Past activities with confirmed hours, and coming ones open for enrolment."""
    leader = _as(home_team.members.get(is_leader=True).volunteer.user)
    now = timezone.now()
    titles = [
        ("河道垃圾清理", ServiceKind.ENVIRONMENT), ("重阳敬老慰问", ServiceKind.ELDERLY),
        ("文明交通劝导", ServiceKind.TRAFFIC), ("社区义诊", ServiceKind.HEALTH),
        ("政策宣讲院坝会", ServiceKind.THEORY), ("广场舞展演", ServiceKind.CULTURE),
    ]  # fmt: skip
    for i, (title, kind) in enumerate(titles):
        start = now + dt.timedelta(days=2 + i * 3, hours=rng.randint(0, 6))
        activity = services.publish_activity(
            leader, home_team, title=title, kind=kind, place=f"{home_team.station.region.name}文化广场",
            starts_at=start, ends_at=start + dt.timedelta(hours=3), capacity=rng.choice([10, 20, 30]),
            lat=home_team.station.region.lat, lng=home_team.station.region.lng,
        )  # fmt: skip
        enrolled = [services.enrol(_as(v.user), activity) for v in members[1 : 1 + rng.randint(1, 4)]]
        if i < 3:  # these ran already: everyone signed in and out, the leader confirmed three hours
            for record in enrolled:
                record = services.sign_in(_as(record.volunteer.user), record)
                services.sign_out(_as(record.volunteer.user), record)
            ended = now - dt.timedelta(days=20 - i * 5)
            Activity.objects.filter(pk=activity.pk).update(
                starts_at=ended - dt.timedelta(hours=3), ends_at=ended
            )
            Attendance.objects.filter(activity=activity).update(
                signed_in_at=ended - dt.timedelta(hours=3), signed_out_at=ended, hours=Decimal(3)
            )
            for record in Attendance.objects.filter(activity=activity):
                services.confirm_hours(leader, record)
