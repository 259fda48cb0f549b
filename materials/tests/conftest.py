import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from indicators.models import Criterion
from indicators.tests.factories import CriterionFactory, IndexItemFactory, IndexSystemFactory
from materials import services
from org.audit import Actor
from org.models import Role, Unit
from org.tests.factories import UnitFactory, member, region_tree

MONTH = dt.date(2026, 11, 1)


class World:
    """HQ, an inspector (the reviewer), a street office with two communities and their report
    clerks, a department, and an active index system with 材料审核 criteria of several frequencies."""

    def __init__(self):
        regions = region_tree()
        self.regions = regions
        self.hq_unit = UnitFactory(code="HQ", name="创文办", kind=Unit.Kind.HQ, region=regions["district"])
        self.hq = member(self.hq_unit, Role.HQ_ADMIN, username="hq")
        self.inspector = member(self.hq_unit, Role.INSPECTOR, username="inspector")
        self.inspector2 = member(self.hq_unit, Role.INSPECTOR, username="inspector2")
        self.street = UnitFactory(
            code="S1", name="一街道办", kind=Unit.Kind.STREET_OFFICE, region=regions["s1"]
        )
        self.c1 = UnitFactory(
            code="S1C1", name="一社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=regions["c1"]
        )
        self.c2 = UnitFactory(
            code="S2C1", name="二社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=regions["c2"]
        )
        self.dept = UnitFactory(code="D1", name="城管局", region=regions["district"])
        self.clerk = member(self.c1, Role.REPORT_CLERK, username="clerk")
        self.clerk2 = member(self.c2, Role.REPORT_CLERK, username="clerk2")
        self.street_clerk = member(self.street, Role.REPORT_CLERK, username="streetclerk")
        self.handler = member(self.c1, Role.HANDLER, username="handler")
        self.system = IndexSystemFactory(name="测试体系", is_active=True, campaign_year=2026)
        self.item = IndexItemFactory(project__system=self.system, name="理论学习", code="A01")
        self.monthly = CriterionFactory(
            item=self.item,
            code="A01-1",
            text="学习有计划、有记录",
            points=Decimal(6),
            method=Criterion.Method.MATERIAL,
            frequency=Criterion.Frequency.MONTHLY,
        )
        self.quarterly = CriterionFactory(
            item=self.item,
            code="A01-2",
            text="季度宣讲台账",
            points=Decimal(4),
            method=Criterion.Method.MATERIAL,
            frequency=Criterion.Frequency.QUARTERLY,
        )
        self.field = CriterionFactory(
            item=self.item,
            code="A01-3",
            text="宣传栏",
            points=Decimal(3),
            method=Criterion.Method.FIELD,
            frequency=Criterion.Frequency.MONTHLY,
        )

    def actor(self, user, via="web"):
        return Actor(user, ip="10.0.0.1", via=via)

    def requirement(self, month=MONTH, units=None, **kwargs):
        spec = services.Spec(
            title=kwargs.pop("title", "文明实践活动记录"),
            points=kwargs.pop("points", Decimal(10)),
            reviewer=kwargs.pop("reviewer", self.inspector),
            **{"needs_text": True, "min_photos": 1, **kwargs},
        )
        return services.create_requirement(self.actor(self.hq), month, spec, units or [self.c1, self.c2])


NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing, mid-month


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The tests' month is November 2026, seen from the tenth; a test moves the clock with
    ``clock.set(moment)``."""

    class Clock:
        now = NOW

        def set(self, moment):
            self.now = moment

    c = Clock()
    monkeypatch.setattr(timezone, "now", lambda: c.now)
    return c


@pytest.fixture
def world(db):
    return World()


def png_bytes(color="red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (8, 8), "blue")
    exif = image.getexif()
    exif[0x010F] = "TestCamera"  # Make
    exif[0x8825] = {2: (30.0, 40.0, 50.0)}  # GPS info
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def xlsx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def photo(name="activity.png", data=None):
    return SimpleUploadedFile(name, data or png_bytes(), content_type="image/png")


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def complete(world, submission, user=None, text="本月开展理论学习 2 次"):
    """Text and a photo, then submit: the clerk's usual month."""
    actor = world.actor(user or world.clerk)
    services.add_files(actor, submission, [photo()])
    return services.submit(actor, submission, text)
