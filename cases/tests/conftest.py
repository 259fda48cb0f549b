"""A small world with boundaries for the case tests, a clock, and photo uploads."""

import datetime as dt
import io
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases import geo
from cases.tests.factories import category
from org.audit import Actor
from org.demo import box
from org.models import Role, Unit
from org.tests.factories import GridFactory, RegionFactory, UnitFactory, member

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    """A moment in local (Beijing) time."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


def jpeg(name: str = "photo.jpg", size=(64, 48), exif_gps: bool = False) -> SimpleUploadedFile:
    image = Image.new("RGB", size, (200, 80, 40))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (31.0, 51.0, 30.0)}  # GPSInfo
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def clock(monkeypatch):
    """Set the time services see: ``clock.set(at(2026, 2, 13, 10))``."""
    state = SimpleNamespace(now=at(2026, 3, 2, 9))

    def set_(moment):
        state.now = moment

    monkeypatch.setattr("django.utils.timezone.now", lambda: state.now)
    return SimpleNamespace(set=set_, state=state)


@pytest.fixture
def world(db):
    """District → street S1 → community C1 (with grid G1) and community C2, boundaries as boxes
    around (31.85, 106.74); a collector of C1, a dispatcher, HQ, two department handlers."""
    geo.clear_cache()
    district = RegionFactory(
        code="D", name="测试区", level="district", boundary=box(31.80, 106.70, 0.10, 0.10)
    )
    s1 = RegionFactory(
        code="S1", name="一街道", level="street", parent=district, boundary=box(31.84, 106.72, 0.02, 0.04)
    )
    c1 = RegionFactory(
        code="S1C1", name="一社区", level="community", parent=s1, boundary=box(31.84, 106.72, 0.02, 0.02)
    )
    c2 = RegionFactory(
        code="S1C2", name="二社区", level="community", parent=s1, boundary=box(31.84, 106.74, 0.02, 0.02)
    )
    grid = GridFactory(code="S1C1G1", community=c1, boundary=box(31.84, 106.72, 0.01, 0.02))
    committee = UnitFactory(code="S1C1", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=c1)
    committee2 = UnitFactory(code="S1C2", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=c2)
    command = UnitFactory(code="DISPATCH", region=district)
    dept, dept2, dept3 = (UnitFactory(code=c, region=district) for c in ("D-1", "D-2", "D-3"))
    collector = member(committee, Role.COLLECTOR, username="collector")
    grid.workers.add(collector)
    w = SimpleNamespace(
        district=district,
        s1=s1,
        c1=c1,
        c2=c2,
        grid=grid,
        committee=committee,
        committee2=committee2,
        dept=dept,
        dept2=dept2,
        dept3=dept3,
        collector=collector,
        collector2=member(committee2, Role.COLLECTOR, username="collector2"),
        chief=member(committee, Role.STREET_CHIEF, username="chief"),
        inspector=member(command, Role.INSPECTOR, username="inspector"),
        dispatcher=member(command, Role.DISPATCHER, username="dispatcher"),
        hq=member(UnitFactory(code="HQ", kind=Unit.Kind.HQ, region=district), Role.HQ_ADMIN, username="hq"),
        handler=member(dept, Role.HANDLER, username="handler"),
        handler2=member(dept2, Role.HANDLER, username="handler2"),
        handler3=member(dept3, Role.HANDLER, username="handler3"),
        garbage=category("0102"),  # 暴露垃圾, 1 working day
        road=category("0303"),  # 道路破损, 5 working days
        gas=category("0403"),  # 燃气管道破裂, 1 working day or 1 hour when urgent
        in_grid=("31.845000", "106.730000"),
        in_c2=("31.850000", "106.750000"),
    )
    return w


def actor(user) -> Actor:
    return Actor(user=user, ip="127.0.0.1", via="web")
