"""The demo world: 巴中市巴州区 (Bazhou district) as the seeds describe it.

6 urban streets with 27 communities, 16 townships with villages, 121 resident groups, 12 farmers'
markets and other inspection sites, 93 units, 28 district leaders contracting the streets,
communities, townships and markets (包保), every unit contracting resident groups, grids with grid
workers, street segments with street chiefs, and one demo login per role. Names are synthetic
where the seeds are silent. Loading twice changes nothing.
"""

import datetime as dt
import math
import zlib
from functools import cached_property

from django.contrib.auth.hashers import make_password
from django.db import transaction

from .models import Contract, Grid, Membership, Region, Role, Site, StreetSegment, Unit, User

DEMO_PASSWORD = "Demo@2026"
DISTRICT_CODE = "511902"
CENTER = (31.8587, 106.7478)
CAMPAIGN_START = dt.date(2026, 1, 1)

STREETS = {
    "回风街道": ["回风社区", "南池社区", "北龛社区", "红碑社区", "朝阳社区"],
    "东城街道": ["东城社区", "新华社区", "塔子山社区", "五里社区", "滨河社区"],
    "西城街道": ["西城社区", "龙舌坝社区", "南门社区", "光华社区", "莲花社区"],
    "江北街道": ["江北社区", "花溪社区", "马家湾社区", "兴隆社区"],
    "宕梁街道": ["宕梁社区", "凤凰社区", "兴旺社区", "黄家坡社区"],
    "兴文街道": ["兴文社区", "彩虹社区", "巴人社区", "廊桥社区"],
}
TOWNSHIPS = [
    "化成镇",
    "清江镇",
    "梁永镇",
    "曾口镇",
    "水宁寺镇",
    "三江镇",
    "大茅坪镇",
    "鼎山镇",
    "平梁镇",
    "光辉镇",
    "枣林镇",
    "天马山镇",
    "凤溪镇",
    "玉山镇",
    "大和乡",
    "金碑乡",
]
VILLAGE_SUFFIXES = ["一村", "二村", "三村"]
DEPARTMENTS = [
    ("城管局", "区城市管理综合执法局"),
    ("住建局", "区住房和城乡建设局"),
    ("市场监管局", "区市场监督管理局"),
    ("交通局", "区交通运输局"),
    ("交警大队", "公安巴州区分局交通警察大队"),
    ("公安分局", "公安巴州区分局"),
    ("教科局", "区教育科技局"),
    ("卫健局", "区卫生健康局"),
    ("民政局", "区民政局"),
    ("商务局", "区商务局"),
    ("文广旅局", "区文化广播电视和旅游局"),
    ("生态环境分局", "巴中市巴州生态环境分局"),
    ("自然资源分局", "巴中市自然资源和规划局巴州分局"),
    ("水利局", "区水利局"),
    ("应急局", "区应急管理局"),
    ("人社局", "区人力资源和社会保障局"),
    ("财政局", "区财政局"),
    ("司法局", "区司法局"),
    ("农业农村局", "区农业农村局"),
    ("发改局", "区发展和改革局"),
    ("经信局", "区经济和信息化局"),
    ("退役军人局", "区退役军人事务局"),
    ("医保局", "区医疗保障局"),
    ("统计局", "区统计局"),
    ("林业局", "区林业局"),
    ("机关事务中心", "区机关事务服务中心"),
    ("融媒体中心", "区融媒体中心"),
    ("宣传部", "中共巴州区委宣传部"),
    ("组织部", "中共巴州区委组织部"),
    ("政法委", "中共巴州区委政法委员会"),
    ("团区委", "共青团巴州区委员会"),
    ("妇联", "巴州区妇女联合会"),
    ("总工会", "巴州区总工会"),
    ("残联", "巴州区残疾人联合会"),
    ("税务局", "国家税务总局巴中市巴州区税务局"),
    ("消防大队", "巴州区消防救援大队"),
    ("文明实践中心", "巴州区新时代文明实践中心"),
]
ENTERPRISES = [
    ("供电公司", "国网巴中供电公司巴州分公司"),
    ("自来水公司", "巴州区自来水有限公司"),
    ("燃气公司", "巴州区燃气有限公司"),
    ("电信公司", "中国电信巴州分公司"),
    ("移动公司", "中国移动巴州分公司"),
]
MARKETS = [
    "回风农贸市场",
    "南池农贸市场",
    "东城农贸市场",
    "新华农贸市场",
    "西城农贸市场",
    "南门农贸市场",
    "江北农贸市场",
    "花溪农贸市场",
    "宕梁农贸市场",
    "兴文农贸市场",
    "巴人农贸市场",
    "滨河农贸市场",
]
OTHER_SITES = [
    (Site.Kind.STATION, "巴中汽车客运站"),
    (Site.Kind.STATION, "巴中火车站广场"),
    (Site.Kind.SCHOOL, "巴中中学周边"),
    (Site.Kind.SCHOOL, "巴州区第一小学周边"),
    (Site.Kind.SQUARE, "望王山公园"),
    (Site.Kind.SQUARE, "巴人广场"),
    (Site.Kind.COMPOUND, "南池老旧小区"),
    (Site.Kind.COMPOUND, "红碑路老旧小区"),
    (Site.Kind.BACK_STREET, "老街背街小巷"),
    (Site.Kind.BACK_STREET, "后河背街小巷"),
    (Site.Kind.HOSPITAL, "巴州区人民医院周边"),
    (Site.Kind.SQUARE, "江北滨河公园"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏飞宇浩然子轩梓涵思雨欣怡佳琪晨阳"
# One demo login per role: username, name, role, unit code (resolved below).
DEMO_LOGINS = [
    ("hq", "钟创文", Role.HQ_ADMIN, "HQ", "创文办管理员：全区任务、测评体系、考评与通报"),
    ("dispatcher", "罗受理", Role.DISPATCHER, "DISPATCH", "受理派遣员：立案、派单、核查、结案"),
    ("handler", "陈城管", Role.HANDLER, "D-城管局", "责任单位（区城管局）处置员"),
    ("street", "赵街道", Role.HANDLER, "S1", "街道（回风街道办）处置员"),
    ("community", "孙社区", Role.HANDLER, "S1C1", "社区（回风社区居委会）处置员"),
    ("collector", "周网格", Role.COLLECTOR, "S1C1", "信息采集员/网格员（回风社区第1网格）"),
    ("streetchief", "吴街巷", Role.STREET_CHIEF, "S1C1", "街巷长（回风社区）"),
    ("inspector", "郑督查", Role.INSPECTOR, "HQ", "督查员：晨查、暗访、督查"),
    ("clerk", "王网报", Role.REPORT_CLERK, "S1C2", "网报专员（南池社区）"),
    ("volunteer", "冯志愿", Role.VOLUNTEER, "S1C1", "志愿者（回风社区）"),
    ("practice", "文实践", Role.VOLUNTEER, "HQ", "新时代文明实践中心管理员：志愿服务派单、积分超市"),
    ("leader", "何包保", Role.LEADER, "HQ", "包保领导：回风街道等"),
]


def person_name(i: int) -> str:
    return (
        SURNAMES[i % len(SURNAMES)]
        + GIVEN[(i * 7) % len(GIVEN)]
        + (GIVEN[(i * 13 + 3) % len(GIVEN)] if i % 3 else "")
    )


def box(lat: float, lng: float, dlat: float, dlng: float) -> list[list[float]]:
    """A closed rectangular ring [[lng, lat], ...] with its south-west corner at (lat, lng)."""
    return [[lng, lat], [lng + dlng, lat], [lng + dlng, lat + dlat], [lng, lat + dlat], [lng, lat]]


def _region(code, name, level, parent, lat, lng, ring=None) -> Region:
    region, _ = Region.objects.update_or_create(
        code=code,
        defaults={"name": name, "level": level, "parent": parent, "lat": lat, "lng": lng, "boundary": ring},
    )
    return region


def _unit(code, name, short, kind, region) -> Unit:
    unit, _ = Unit.objects.update_or_create(
        code=code, defaults={"name": name, "short_name": short, "kind": kind, "region": region}
    )
    return unit


class _People:
    def __init__(self):
        self.count = 0

    @cached_property
    def password(self) -> str:
        # Hashed at most once per load, and only when someone new is created.
        return make_password(DEMO_PASSWORD)

    def user(self, username: str, name: str = "", staff: bool = False) -> User:
        """The demo person ``username``. The password is set only when the person is created, so
        reloading the demo never undoes a password someone changed."""
        self.count += 1
        phone = f"139{zlib.crc32(username.encode()) % 10**8:08d}"
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "display_name": name or person_name(self.count),
                "phone": phone,
                "is_staff": staff,
                "is_superuser": staff,
            },
            create_defaults={
                "display_name": name or person_name(self.count),
                "phone": phone,
                "is_staff": staff,
                "is_superuser": staff,
                "password": self.password,
            },
        )
        return user

    def member(self, user: User, unit: Unit, role: str, title: str = "") -> None:
        Membership.objects.get_or_create(user=user, unit=unit, role=role, defaults={"title": title})


@transaction.atomic
def load() -> None:
    people = _People()
    lat0, lng0 = CENTER
    district = _region(DISTRICT_CODE, "巴州区", Region.Level.DISTRICT, None, lat0, lng0)
    hq = _unit("HQ", "巴州区创建全国文明城市指挥部办公室", "区创文办", Unit.Kind.HQ, district)
    dispatch = _unit(
        "DISPATCH", "巴州区数字化城市管理监督指挥中心", "数字城管中心", Unit.Kind.DEPARTMENT, district
    )
    departments = [
        _unit(f"D-{short}", name, short, Unit.Kind.DEPARTMENT, district) for short, name in DEPARTMENTS
    ] + [_unit(f"E-{short}", name, short, Unit.Kind.ENTERPRISE, district) for short, name in ENTERPRISES]

    # Urban streets: a 3 × 2 block of boxes around the centre; communities split each street
    # west to east, each community split into three grids south to north.
    street_lat, street_lng = 0.016, 0.02
    streets, communities, community_units, territorial = [], [], [], []
    groups: list[Region] = []
    for s_index, (street_name, community_names) in enumerate(STREETS.items(), start=1):
        row, col = divmod(s_index - 1, 3)
        s_lat = lat0 - street_lat + row * street_lat
        s_lng = lng0 - 1.5 * street_lng + col * street_lng
        code = f"{DISTRICT_CODE}{s_index:03d}"
        street = _region(
            code,
            street_name,
            Region.Level.STREET,
            district,
            s_lat + street_lat / 2,
            s_lng + street_lng / 2,
            box(s_lat, s_lng, street_lat, street_lng),
        )
        streets.append(street)
        office = _unit(f"S{s_index}", f"{street_name}办事处", street_name, Unit.Kind.STREET_OFFICE, street)
        territorial.append(office)
        width = street_lng / len(community_names)
        for c_index, community_name in enumerate(community_names, start=1):
            c_lng = s_lng + (c_index - 1) * width
            community = _region(
                f"{code}{c_index:03d}",
                community_name,
                Region.Level.COMMUNITY,
                street,
                s_lat + street_lat / 2,
                c_lng + width / 2,
                box(s_lat, c_lng, street_lat, width),
            )
            communities.append(community)
            committee = _unit(
                f"S{s_index}C{c_index}",
                f"{community_name}居民委员会",
                community_name,
                Unit.Kind.COMMUNITY_COMMITTEE,
                community,
            )
            community_units.append(committee)
            for g in range(1, 4):
                g_lat = s_lat + (g - 1) * street_lat / 3
                grid, _ = Grid.objects.update_or_create(
                    code=f"{community.code}G{g}",
                    defaults={
                        "name": f"{community_name}第{g}网格",
                        "community": community,
                        "boundary": box(g_lat, c_lng, street_lat / 3, width),
                    },
                )
                worker = people.user(f"gw{community.code[-6:]}{g}")
                people.member(worker, committee, Role.COLLECTOR, "网格员")
                grid.workers.add(worker)
            for n in range(1, 3):
                segment_name = f"{community_name.removesuffix('社区')}{['路', '巷'][n - 1]}"
                chief = people.user(f"sc{community.code[-6:]}{n}")
                people.member(chief, committee, Role.STREET_CHIEF, "街巷长")
                StreetSegment.objects.update_or_create(
                    code=f"{community.code}L{n}",
                    defaults={"name": segment_name, "region": community, "chief": chief},
                )

    # 121 resident groups: four per community, a fifth in the first thirteen.
    for c_index, community in enumerate(communities):
        for g in range(1, 6 if c_index < 13 else 5):
            groups.append(
                _region(
                    f"{community.code}{g:03d}",
                    f"{community.name}第{g}居民小组",
                    Region.Level.GROUP,
                    community,
                    community.lat,
                    community.lng,
                )
            )

    # Townships in a ring beyond the town, each with three villages of one grid each.
    townships = []
    for t_index, township_name in enumerate(TOWNSHIPS, start=1):
        code = f"{DISTRICT_CODE}{100 + t_index:03d}"
        angle = 2 * math.pi * t_index / len(TOWNSHIPS)
        t_lat, t_lng = lat0 + 0.12 * math.sin(angle), lng0 + 0.14 * math.cos(angle)
        township = _region(
            code,
            township_name,
            Region.Level.TOWNSHIP,
            district,
            t_lat + 0.02,
            t_lng + 0.025,
            box(t_lat, t_lng, 0.04, 0.05),
        )
        townships.append(township)
        government = _unit(
            f"T{t_index}", f"{township_name}人民政府", township_name, Unit.Kind.TOWNSHIP_GOVERNMENT, township
        )
        territorial.append(government)
        for v_index, suffix in enumerate(VILLAGE_SUFFIXES, start=1):
            v_lng = t_lng + (v_index - 1) * 0.05 / 3
            village_name = township_name.rstrip("镇乡") + suffix
            village = _region(
                f"{code}{v_index:03d}",
                village_name,
                Region.Level.VILLAGE,
                township,
                t_lat + 0.02,
                v_lng + 0.05 / 6,
                box(t_lat, v_lng, 0.04, 0.05 / 3),
            )
            grid, _ = Grid.objects.update_or_create(
                code=f"{village.code}G1",
                defaults={"name": f"{village_name}网格", "community": village, "boundary": village.boundary},
            )
            worker = people.user(f"gw{village.code[-6:]}1")
            people.member(worker, government, Role.COLLECTOR, "网格员")
            grid.workers.add(worker)

    units = [hq, dispatch, *departments, *territorial, *community_units]
    assert len(units) == 93, len(units)

    # Sites: 12 farmers' markets in the urban communities, and other inspection points.
    markets = []
    for m_index, market_name in enumerate(MARKETS, start=1):
        community = communities[(m_index * 2) % len(communities)]
        site, _ = Site.objects.update_or_create(
            code=f"M{m_index:02d}",
            defaults={
                "name": market_name,
                "kind": Site.Kind.MARKET,
                "region": community,
                "address": f"{community.parent.name if community.parent else ''}{community.name}",
                "lat": community.lat,
                "lng": community.lng,
            },
        )
        markets.append(site)
    for o_index, (kind, site_name) in enumerate(OTHER_SITES, start=1):
        community = communities[(o_index * 5) % len(communities)]
        Site.objects.update_or_create(
            code=f"P{o_index:02d}",
            defaults={
                "name": site_name,
                "kind": kind,
                "region": community,
                "address": f"{community.parent.name if community.parent else ''}{community.name}",
                "lat": community.lat,
                "lng": community.lng,
            },
        )

    # 28 leaders contracting 6 streets, 27 communities, 16 townships and 12 markets (61 links).
    leaders = [people.user(f"leader{i:02d}", staff=False) for i in range(1, 29)]
    for leader in leaders:
        people.member(leader, hq, Role.LEADER, "区领导")
    targets: list[Region | Site] = [*streets, *communities, *townships, *markets]
    for t_index, target in enumerate(targets):
        leader = leaders[t_index % len(leaders)]
        kwargs = {"region": target} if isinstance(target, Region) else {"site": target}
        Contract.objects.get_or_create(leader=leader, **kwargs, defaults={"start": CAMPAIGN_START})

    # 93 units contracting 121 resident groups: every unit one, the first 28 a second.
    for g_index, group in enumerate(groups):
        Contract.objects.get_or_create(
            unit=units[g_index % len(units)], region=group, defaults={"start": CAMPAIGN_START}
        )

    # Every unit has a handler so dispatched work has someone to do it.
    for unit in units:
        handler = people.user(f"h-{unit.code.lower()}")
        people.member(handler, unit, Role.HANDLER, "联络员")

    for username, name, role, unit_code, _description in DEMO_LOGINS:
        user = people.user(username, name, staff=(role == Role.HQ_ADMIN))
        people.member(user, Unit.objects.get(code=unit_code), role)
    demo_collector = User.objects.get(username="collector")
    Grid.objects.get(code=f"{communities[0].code}G1").workers.add(demo_collector)
    demo_chief = User.objects.get(username="streetchief")
    StreetSegment.objects.filter(code=f"{communities[0].code}L1").update(chief=demo_chief)
    demo_leader = User.objects.get(username="leader")
    for target in (streets[0], communities[0], markets[0]):
        kwargs = {"region": target} if isinstance(target, Region) else {"site": target}
        Contract.objects.get_or_create(leader=demo_leader, **kwargs, defaults={"start": CAMPAIGN_START})
