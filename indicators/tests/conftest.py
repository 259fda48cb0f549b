import io

import pytest
from PIL import Image

from indicators.tests.factories import CriterionFactory, IndexItemFactory, IndexSystemFactory
from org.audit import Actor
from org.models import Role, Unit
from org.tests.factories import UnitFactory, contract, member, region_tree


class World:
    """HQ, an inspector, two departments and a street office with a community, each with a handler,
    a leader contracting the first street, and one system with two items."""

    def __init__(self):
        regions = region_tree()
        self.regions = regions
        self.hq_unit = UnitFactory(code="HQ", name="创文办", kind=Unit.Kind.HQ, region=regions["district"])
        self.hq = member(self.hq_unit, Role.HQ_ADMIN, username="hq")
        self.inspector = member(self.hq_unit, Role.INSPECTOR, username="inspector")
        self.leader = member(self.hq_unit, Role.LEADER, username="leader")
        contract(leader=self.leader, region=regions["s1"])
        self.dept = UnitFactory(code="D1", name="城管局", region=regions["district"])
        self.other = UnitFactory(code="D2", name="住建局", region=regions["district"])
        self.street = UnitFactory(
            code="S1", name="一街道办", kind=Unit.Kind.STREET_OFFICE, region=regions["s1"]
        )
        self.community = UnitFactory(
            code="S1C1", name="一社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=regions["c1"]
        )
        self.handler = member(self.dept, Role.HANDLER, username="handler")
        self.other_handler = member(self.other, Role.HANDLER, username="other")
        self.street_handler = member(self.street, Role.HANDLER, username="street")
        self.community_handler = member(self.community, Role.HANDLER, username="community")
        self.system = IndexSystemFactory(name="测试体系", is_active=True)
        self.item = IndexItemFactory(project__system=self.system, name="主次干道环境")
        self.criterion = CriterionFactory(item=self.item, text="路面平整")
        self.item2 = IndexItemFactory(project=self.item.project, name="背街小巷")
        CriterionFactory(item=self.item2, text="照明完好")

    def actor(self, user, via="web"):
        return Actor(user, ip="10.0.0.1", via=via)


@pytest.fixture
def world(db):
    return World()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def photo():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("after.png", png_bytes(), content_type="image/png")
