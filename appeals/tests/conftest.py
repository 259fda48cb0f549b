"""A small district for the appeal tests: boundaries (so points locate), the people of the loop,
an Open311 client, photos with GPS in their EXIF, and a citizen's browser."""

import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from appeals.services import issue_open311_key
from cases import geo
from cases.tests.factories import category
from org.audit import Actor
from org.demo import box
from org.models import Role, Unit
from org.tests.factories import RegionFactory, UnitFactory, member

IN_DISTRICT = ("31.845000", "106.730000")


def jpeg(name: str = "photo.jpg", gps: bool = True) -> SimpleUploadedFile:
    """A JPEG whose EXIF carries a camera make and a GPS position (what a phone camera writes)."""
    image = Image.new("RGB", (64, 48), (200, 80, 40))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[0x8825] = {1: "N", 2: (31.0, 51.0, 30.0), 3: "E", 4: (106.0, 44.0, 52.0)}
    image.save(out, "JPEG", exif=exif)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def world(db):
    geo.clear_cache()
    district = RegionFactory(
        code="D",
        name="测试区",
        level="district",
        boundary=box(31.80, 106.70, 0.10, 0.10),
        lat=31.81,
        lng=106.71,
    )
    s1 = RegionFactory(
        code="S1", name="一街道", level="street", parent=district, boundary=box(31.84, 106.72, 0.02, 0.04)
    )
    c1 = RegionFactory(
        code="S1C1", name="一社区", level="community", parent=s1, boundary=box(31.84, 106.72, 0.02, 0.02)
    )
    command = UnitFactory(code="DISPATCH", name="指挥中心", region=district)
    dept = UnitFactory(code="D-1", name="区城管局", region=district)
    other = UnitFactory(code="D-2", name="区住建局", region=district)
    committee = UnitFactory(code="S1C1", name="一社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=c1)
    client, key = issue_open311_key(Actor.system(), "随手拍")
    return SimpleNamespace(
        district=district,
        s1=s1,
        c1=c1,
        dept=dept,
        other=other,
        committee=committee,
        dispatcher=member(command, Role.DISPATCHER, username="dispatcher"),
        hq=member(UnitFactory(code="HQ", kind=Unit.Kind.HQ, region=district), Role.HQ_ADMIN, username="hq"),
        handler=member(dept, Role.HANDLER, username="handler"),
        other_handler=member(other, Role.HANDLER, username="other_handler"),
        leader=member(command, Role.LEADER, username="leader"),
        garbage=category("0102"),
        client=client,
        key=key,
    )


def actor(user, via: str = "web") -> Actor:
    return Actor(user=user, ip="127.0.0.1", via=via)
