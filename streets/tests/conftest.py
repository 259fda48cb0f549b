"""The case tests' small world, with street segments and a community committee's staff."""

from types import SimpleNamespace

import pytest

from cases.tests import conftest as case_fixtures
from cases.tests.conftest import actor, at, jpeg
from org.models import Role, StreetSegment
from org.tests.factories import member

__all__ = ["actor", "at", "jpeg"]

world = case_fixtures.world
clock = case_fixtures.clock


@pytest.fixture
def st(world, clock):
    """Segments 一街 (chief: world.chief) and 二街 (no chief) in 一社区, 三街 in 二社区; staff of
    both committees; a place inside 一社区 and its grid (``world.in_grid``), one in 二社区."""
    seg1 = StreetSegment.objects.create(code="SEG1", name="一街", region=world.c1, chief=world.chief)
    seg2 = StreetSegment.objects.create(code="SEG2", name="二街", region=world.c1)
    seg3 = StreetSegment.objects.create(code="SEG3", name="三街", region=world.c2)
    return SimpleNamespace(
        seg1=seg1,
        seg2=seg2,
        seg3=seg3,
        staff=member(world.committee, Role.HANDLER, username="c1staff"),
        staff2=member(world.committee2, Role.REPORT_CLERK, username="c2staff"),
    )
