"""A small world with boundaries for the case tests, a clock, and photo uploads."""

import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases import geo
from cases.tests.factories import category
from org.audit import Actor
from org.tests.world import SHANGHAI, at, bounded_district  # noqa: F401  (re-exported to the tests)


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
    """The shared test district (``org.tests.world.bounded_district``) with three categories of
    the catalogue: 暴露垃圾 (1 working day), 道路破损 (5), 燃气管道破裂 (1, or 1 hour when urgent)."""
    geo.clear_cache()
    w = bounded_district()
    w.garbage = category("0102")
    w.road = category("0303")
    w.gas = category("0403")
    return w


def actor(user) -> Actor:
    return Actor(user=user, ip="127.0.0.1", via="web")
