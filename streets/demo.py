"""The demo's street patrols: rosters for every community committee over the last eight weeks and
this week (from their segments' chiefs and grids' workers), eight weeks of past patrols with GPS
tracks and check-ins (about one duty in seven missed, a few patrols off the roster, a few GPS
jumps), 六必到 visits and social 六必报 reports; today one chief of 回风社区 has patrolled through
the services (one report became a case, one went to the community list). The ``streetchief`` and
``collector`` logins have duties today and no patrol yet. Loading twice changes nothing.
"""

import datetime as dt
import io
import random
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from org.audit import Actor
from org.models import Membership, Role, StreetSegment, Unit, User

from . import services
from .models import CheckIn, Duty, Patrol, Report, TrackPoint, Visit

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


def load() -> None:
    hq = User.objects.filter(memberships__role=Role.HQ_ADMIN).order_by("pk").first()
    if hq is None or Patrol.objects.exists():
        return
    rng = random.Random(SEED)
    actor = Actor.system(user=hq)
    today = timezone.localdate()
    this_monday = today - dt.timedelta(days=today.weekday())
    committees = list(Unit.objects.filter(kind=Unit.Kind.COMMUNITY_COMMITTEE).select_related("region"))
    for unit in committees:
        for week in range(WEEKS, -1, -1):
            services.generate_week(actor, unit, this_monday - dt.timedelta(weeks=week))
    _history(rng, today)
    _today(rng, committees)


def _history(rng: random.Random, today: dt.date) -> None:
    """Past patrols written directly (the services stamp the present moment)."""
    tz = timezone.get_current_timezone()
    duties = Duty.objects.filter(
        day__lt=today, day__gte=today - dt.timedelta(weeks=WEEKS), segment__isnull=False
    ).select_related("segment__region")
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
        patrol = Patrol.objects.create(
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
        )
        step = Decimal("0.000300")
        points = [
            TrackPoint(
                patrol=patrol,
                at=start + dt.timedelta(minutes=i * minutes // 5),
                lat=lat + step * i if not (jump and i == 3) else lat + Decimal("0.2"),
                lng=lng,
                jump=jump and i == 3,
            )
            for i in range(6)
        ]
        TrackPoint.objects.bulk_create(points)
        CheckIn.objects.create(
            patrol=patrol, segment=segment, at=start + dt.timedelta(minutes=5), lat=lat, lng=lng
        )
        visits = 0
        if rng.random() < 0.08:
            Visit.objects.create(
                user=duty.user,
                patrol=patrol,
                kind=rng.choice(Visit.Kind.values),
                place=f"{segment.name}{rng.randrange(1, 80)}号",
                at=start + dt.timedelta(minutes=20),
                lat=lat,
                lng=lng,
                note="到场了解情况",
            )
            visits = 1
        social = 0
        if rng.random() < 0.03:
            Report.objects.create(
                patrol=patrol,
                kind=rng.choice(Report.SOCIAL_KINDS),
                reporter=duty.user,
                reported_at=start + dt.timedelta(minutes=25),
                lat=lat,
                lng=lng,
                description="巡查中发现，已告知社区",
                community=segment.region,
                person_name=rng.choice(NAMES) + rng.choice("明华强芳丽军"),
                person_phone=f"13{rng.randrange(10**8, 10**9)}",
            )
            social = 1
        patrol.summary = {
            "segments": 1,
            "minutes": minutes,
            "points": 6,
            "jumps": int(jump),
            "distance_m": patrol.distance_m,
            "reports": social,
            "cases": 0,
            "social": social,
            "visits": visits,
        }
        patrol.off_roster = rng.random() < 0.03
        patrol.save(update_fields=["summary", "off_roster"])


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
    image = Image.new("RGB", (80, 60), (rng.randrange(256), 90, 60))
    out = io.BytesIO()
    image.save(out, "JPEG")
    photo = SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg")
    services.report(
        actor, patrol, kind="litter", description="路口垃圾桶满溢", lat=lat, lng=lng, photos_uploaded=[photo]
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
