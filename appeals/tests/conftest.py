"""A small district for the appeal tests: boundaries (so points locate), the people of the loop,
an Open311 client, photos with GPS in their EXIF, and a citizen's browser."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from appeals.services import issue_open311_key
from cases import geo
from cases.tests.factories import category
from org.audit import Actor
from org.models import Role
from org.tests.factories import member
from org.tests.world import bounded_district

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
    """The shared test district (``org.tests.world.bounded_district``) with the 暴露垃圾 category
    and an Open311 client; ``other``/``other_handler`` are the second department and its handler."""
    geo.clear_cache()
    w = bounded_district()
    w.other, w.other_handler = w.dept2, w.handler2
    w.leader = member(w.command, Role.LEADER, username="leader")
    w.garbage = category("0102")
    w.client, w.key = issue_open311_key(Actor.system(), "随手拍")
    return w


def actor(user, via: str = "web") -> Actor:
    return Actor(user=user, ip="127.0.0.1", via=via)
