"""An order assigned 派单 reaches the team's leader, an order rated 2 stars or fewer the station's
staff, through the outbox to the inbox; nobody else, and never the citizen's name, phone,
address or comment."""

import pytest

from notices.kinds import Kind
from notices.models import Notice, Receipt
from volunteers import services

from .conftest import CITIZEN, actor
from .test_orders import _order, _served

pytestmark = pytest.mark.django_db


def _receivers(notice: Notice) -> set[int]:
    return set(Receipt.objects.filter(notice=notice).values_list("user_id", flat=True))


def _private(notice: Notice) -> None:
    for text in (notice.title, notice.body):
        for secret in ("李大爷", "13800001111", "1111", "一社区 3 栋", "打扫卫生", "态度"):
            assert secret not in text


def test_an_assignment_goes_to_the_teams_leader_each_time(world):
    order = services.assign_order(actor(world.station_staff), _order(world), world.team)
    notice = Notice.objects.get(kind=Kind.ORDER_ASSIGNED)
    assert _receivers(notice) == {world.leader.user.pk}
    assert notice.title == "志愿服务派单 上门助老"
    assert "派给一队，请于" in notice.body and notice.link == f"/volunteers/orders/{order.pk}/"
    _private(notice)
    order = services.decline_order(actor(world.leader.user), order, "队员都在外地")
    services.assign_order(actor(world.station_staff), order, world.other_team)
    second = Notice.objects.filter(kind=Kind.ORDER_ASSIGNED).exclude(pk=notice.pk).get()
    assert _receivers(second) == {world.other_leader.user.pk}


def test_a_low_rating_goes_to_the_station_staff_and_a_good_one_to_nobody(world):
    good, _ = _served(world)
    services.rate_order(CITIZEN, good, 3, code=good.code, phone="13800001111")
    assert not Notice.objects.filter(kind=Kind.ORDER_RATED_LOW).exists()
    bad, _ = _served(world)
    services.rate_order(CITIZEN, bad, 2, "态度不好 13800001111", code=bad.code, phone="13800001111")
    notice = Notice.objects.get(kind=Kind.ORDER_RATED_LOW)
    # The order's point has no managers: the station above it (S1) is told, not S2 or the centre.
    assert _receivers(notice) == {world.station_staff.pk}
    assert notice.title == "志愿服务评价 2 星 上门助老"
    _private(notice)
