"""Demo appeals for 巴州区: citizens' appeals by every channel, taken through the case loop by
the real services (so every step has its event and audit row), in every state, with ratings,
call-backs, an unsatisfied rating waiting for the dispatcher and one already reopened.

Every demo citizen left the phone number ``DEMO_PHONE``, so any tracking code from the staff
list can be followed on the public pages. Loading twice changes nothing.
"""

import io
import random
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases import services as loop
from cases.models import Case, Category
from cases.routing import suggest_unit
from org.audit import Actor
from org.models import Grid, Membership, Role, Unit, User

from .models import Appeal, Open311Client
from .services import classify_appeal, rate_appeal, record_follow_up, review_unsatisfied, submit_appeal

DEMO_PHONE = "13800138000"
COUNT = 60
SEED = 20261123
TEXTS = {
    "0102": "小区门口垃圾堆了好几天没人清运，气味很大",
    "0201": "楼道和电线杆上贴满了小广告",
    "0504": "门面把货摆到人行道上，行人只能走机动车道",
    "0506": "电动车乱停，把盲道全占了",
    "0505": "轿车长期停在人行道上",
    "0303": "路面坑洼，下雨积水，骑车容易摔",
    "0108": "有人把旧沙发丢在路边",
}
NAMES = ["王女士", "李先生", "张阿姨", "刘师傅", "陈同学", "", "杨先生", "赵女士"]
CHANNELS = [
    (Appeal.Channel.WEB, 50),
    (Appeal.Channel.HOTLINE, 25),
    (Appeal.Channel.OPEN311, 10),
    (Appeal.Channel.MAIL, 10),
    (Appeal.Channel.VISIT, 5),
]
# How far each appeal gets: stop after this many steps of the loop (7 = closed and rated).
STAGES = [(0, 10), (1, 6), (2, 10), (3, 10), (4, 10), (5, 6), (6, 12), (7, 36)]


def _photo(rng: random.Random) -> SimpleUploadedFile:
    image = Image.new("RGB", (320, 240), tuple(rng.randrange(60, 200) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg")


def _point(rng: random.Random, grid: Grid) -> tuple[Decimal, Decimal]:
    boundary = grid.boundary or []
    lngs, lats = [p[0] for p in boundary], [p[1] for p in boundary]
    lat = min(lats) + (max(lats) - min(lats)) * rng.uniform(0.2, 0.8)
    lng = min(lngs) + (max(lngs) - min(lngs)) * rng.uniform(0.2, 0.8)
    q = Decimal("0.000001")
    return Decimal(lat).quantize(q), Decimal(lng).quantize(q)


def _handler_of(unit_id: int) -> User | None:
    membership = Membership.objects.filter(unit_id=unit_id, role=Role.HANDLER).select_related("user").first()
    return membership.user if membership else None


def load() -> None:
    if Appeal.objects.exists():
        return
    dispatcher = User.objects.filter(username="dispatcher").first()
    fallback = Membership.objects.filter(user__username="handler", role=Role.HANDLER).first()
    grids = list(Grid.objects.exclude(boundary=None).select_related("community")[:40])
    categories = {c.code: c for c in Category.objects.filter(kind=Category.Kind.EVENT, code__in=TEXTS)}
    if dispatcher is None or fallback is None or not grids or not categories:
        return
    rng = random.Random(SEED)
    office = Actor.system(via="demo", user=dispatcher)
    citizen = Actor.system(via="demo")
    # A client app for the Open311 appeals; its key is never shown (issue real ones with open311_key).
    client, _created = Open311Client.objects.get_or_create(
        name="演示客户端（随手拍）", defaults={"prefix": "demo", "key_hash": "demo-key-never-issued"}
    )
    for i in range(COUNT):
        channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
        code = rng.choice(sorted(categories))
        grid = rng.choice(grids)
        lat, lng = _point(rng, grid)
        unsure = rng.random() < 0.1
        appeal = submit_appeal(
            office if channel in Appeal.CLERK_CHANNELS else citizen,
            channel=channel,
            category=None if unsure else categories[code],
            description=TEXTS[code],
            phone=DEMO_PHONE,
            name=NAMES[i % len(NAMES)],
            lat=lat,
            lng=lng,
            address=f"{grid.community.name}附近",
            photos_uploaded=[_photo(rng)] if channel == Appeal.Channel.WEB else [],
            client=client,
        )
        stage = rng.choices([s for s, _ in STAGES], weights=[w for _, w in STAGES])[0]
        _advance(rng, office, appeal, stage, categories[code], fallback.unit)


def _advance(
    rng: random.Random, office: Actor, appeal: Appeal, stage: int, category: Category, fallback: Unit
):
    """Take the appeal ``stage`` steps through the loop, each by the person whose step it is."""
    case = appeal.case
    if stage == 0:
        return
    if stage == 1 and rng.random() < 0.5:
        loop.reject_case(office, case, "经核实不属于城市管理范围，已转相关部门")
        return
    if appeal.category_unsure:
        appeal = classify_appeal(office, appeal, category)
        case = appeal.case
    case = loop.accept_case(office, case)
    if stage == 1:
        return
    unit = suggest_unit(case.category, case.region, case.grid)
    handler = _handler_of(unit.pk) if unit is not None else None
    if unit is None or handler is None:
        unit, handler = fallback, _handler_of(fallback.pk)
    case = loop.dispatch_case(office, case, unit)
    if stage == 2:
        return
    worker = Actor.system(via="demo", user=handler)
    case = loop.start_handling(worker, case)
    if stage == 3:
        return
    case = loop.handle_part(worker, case, [_photo(rng)], note="已处理完毕")
    if stage == 4:
        return
    if appeal.channel in Appeal.CLERK_CHANNELS:
        record_follow_up(office, appeal, "已电话告知群众处理结果")
    if stage == 5:
        return
    case = loop.verify_case(office, Case.objects.get(pk=case.pk))
    if stage == 6:
        return
    rating = rng.choices(["satisfied", "basic", "unsatisfied"], weights=[70, 20, 10])[0]
    comment = "问题依旧，希望再处理一下" if rating == "unsatisfied" else ""
    if appeal.channel in Appeal.CLERK_CHANNELS:
        appeal = rate_appeal(office, appeal, rating, comment)
    else:
        appeal = rate_appeal(Actor.system(via="demo"), appeal, rating, comment, phone=DEMO_PHONE)
    if rating == "unsatisfied" and rng.random() < 0.5:
        review_unsatisfied(office, appeal, reopen=True, note="请彻底处理")
