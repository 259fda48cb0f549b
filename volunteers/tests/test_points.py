"""The points bank 文明银行: an append-only ledger whose sum is the balance, never below zero,
redemptions within balance and stock (also concurrently), pick-up, refunds, adjustments, expiry."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from org.audit import Actor
from org.errors import ActionRefused
from volunteers import services
from volunteers.models import Goods, PointsEntry, Redemption, Volunteer

from .conftest import actor

pytestmark = pytest.mark.django_db


def _grant(world, volunteer, points):
    services.adjust_points(actor(world.hq), volunteer, points, "测试发放")
    volunteer.refresh_from_db()


def _ledger_sum(volunteer) -> int:
    return volunteer.points_entries.aggregate(s=Sum("points"))["s"] or 0


def test_a_redemption_runs_to_pick_up(world):
    _grant(world, world.alice, 100)
    redemption = services.redeem(actor(world.alice.user), world.goods, 2)
    world.alice.refresh_from_db()
    world.goods.refresh_from_db()
    assert (world.alice.points_balance, world.goods.stock, redemption.points) == (40, 1, 60)
    with pytest.raises(PermissionDenied):
        services.confirm_pickup(actor(world.alice.user), redemption)
    redemption = services.confirm_pickup(actor(world.station_staff), redemption)
    assert redemption.status == "picked_up"
    with pytest.raises(ActionRefused):
        services.cancel_redemption(actor(world.alice.user), redemption)


def test_redeeming_more_than_the_balance_or_the_stock_changes_nothing(world):
    _grant(world, world.alice, 50)
    with pytest.raises(ActionRefused, match="积分余额不足"):
        services.redeem(actor(world.alice.user), world.goods, 2)
    _grant(world, world.alice, 500)
    with pytest.raises(ActionRefused, match="库存不足"):
        services.redeem(actor(world.alice.user), world.goods, 4)
    with pytest.raises(ValidationError):
        services.redeem(actor(world.alice.user), world.goods, 0)
    world.goods.refresh_from_db()
    world.alice.refresh_from_db()
    assert (world.goods.stock, world.alice.points_balance) == (3, 550)
    assert not Redemption.objects.exists()


def test_cancelling_refunds_points_and_stock(world):
    _grant(world, world.alice, 30)
    redemption = services.redeem(actor(world.alice.user), world.goods)
    with pytest.raises(PermissionDenied):
        services.cancel_redemption(actor(world.bob.user), redemption)
    services.cancel_redemption(actor(world.alice.user), redemption, "不要了")
    world.alice.refresh_from_db()
    world.goods.refresh_from_db()
    assert (world.alice.points_balance, world.goods.stock) == (30, 3)
    assert list(world.alice.points_entries.order_by("pk").values_list("kind", "points")) == [
        ("adjust", 30), ("redeem", -30), ("refund", 30),
    ]  # fmt: skip


def test_adjustments_need_hq_a_reason_and_keep_the_balance_non_negative(world):
    with pytest.raises(PermissionDenied):
        services.adjust_points(actor(world.station_staff), world.alice, 10, "奖励")
    with pytest.raises(ValidationError):
        services.adjust_points(actor(world.hq), world.alice, 10, " ")
    _grant(world, world.alice, 10)
    with pytest.raises(ActionRefused, match="积分余额不足"):
        services.adjust_points(actor(world.hq), world.alice, -11, "扣减")
    world.alice.refresh_from_db()
    assert world.alice.points_balance == 10 == _ledger_sum(world.alice)


def test_the_ledger_is_append_only(world):
    _grant(world, world.alice, 10)
    entry = PointsEntry.objects.get()
    entry.points = 1000
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_old_unspent_points_expire_oldest_first(world, settings):
    settings.VOLUNTEER_POINTS_EXPIRE_MONTHS = 12
    _grant(world, world.alice, 100)
    PointsEntry.objects.filter(volunteer=world.alice).update(at=timezone.now() - dt.timedelta(days=400))
    _grant(world, world.alice, 50)  # recent
    services.redeem(actor(world.alice.user), world.goods)  # spends 30 of the old 100 first
    assert services.expire_points(Actor.system()) == 70
    world.alice.refresh_from_db()
    assert world.alice.points_balance == 50 == _ledger_sum(world.alice)
    assert services.expire_points(Actor.system()) == 0  # nothing expires twice
    with pytest.raises(PermissionDenied):
        services.expire_points(actor(world.alice.user))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("adjust"), st.integers(min_value=-80, max_value=120)),
        st.tuples(st.just("redeem"), st.integers(min_value=1, max_value=3)),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=5)),
        st.tuples(st.just("pickup"), st.integers(min_value=0, max_value=5)),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_balances_always_equal_the_ledger_and_never_go_negative(world, ops):
    with transaction.atomic():  # each example starts from the fixture's state
        _run(world, ops)
        transaction.set_rollback(True)


def _run(world, ops):
    volunteer = Volunteer.objects.get(pk=world.alice.pk)
    goods = Goods.objects.get(pk=world.goods.pk)
    stock_before = goods.stock
    for op, value in ops:
        redemptions = list(Redemption.objects.filter(volunteer=volunteer, status="waiting").order_by("pk"))
        try:
            if op == "adjust" and value:
                services.adjust_points(actor(world.hq), volunteer, value, "随机")
            elif op == "redeem":
                services.redeem(actor(volunteer.user), goods, value)
            elif op == "cancel" and redemptions:
                services.cancel_redemption(actor(volunteer.user), redemptions[value % len(redemptions)])
            elif op == "pickup" and redemptions:
                services.confirm_pickup(actor(world.station_staff), redemptions[value % len(redemptions)])
        except ActionRefused:
            pass
        volunteer.refresh_from_db()
        goods.refresh_from_db()
        assert volunteer.points_balance == _ledger_sum(volunteer) >= 0
        assert goods.stock >= 0
        held = (
            Redemption.objects.filter(goods=goods)
            .exclude(status="cancelled")
            .aggregate(q=Sum("quantity"))["q"]
        )
        assert goods.stock + (held or 0) == stock_before
    last = volunteer.points_entries.order_by("-pk").first()
    assert last is None or last.balance_after == volunteer.points_balance


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_redemptions_never_overdraw_balance_or_stock(world):
    """On PostgreSQL the threads redeem at once on their own connections (row locks queue them);
    SQLite has one writer at a time, so there they redeem in turn."""
    concurrent = connection.vendor == "postgresql"
    _grant(world, world.alice, 100)  # enough for 3 of 6 attempts at 30 points
    Goods.objects.filter(pk=world.goods.pk).update(stock=10)
    outcomes: list[str] = []
    start = threading.Barrier(6 if concurrent else 1)

    def work():
        try:
            start.wait()
            services.redeem(actor(world.alice.user), world.goods)
            outcomes.append("ok")
        except ActionRefused:
            outcomes.append("refused")
        finally:
            if concurrent:
                connection.close()

    if concurrent:
        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for _ in range(6):
            work()
    world.alice.refresh_from_db()
    world.goods.refresh_from_db()
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 3
    assert world.alice.points_balance == 10 == _ledger_sum(world.alice)
    assert world.goods.stock == 7


def test_the_expiry_command(world, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.VOLUNTEER_POINTS_EXPIRE_MONTHS = 1
    _grant(world, world.bob, 25)
    PointsEntry.objects.filter(volunteer=world.bob).update(at=timezone.now() - dt.timedelta(days=60))
    out = StringIO()
    call_command("expire_points", stdout=out)
    assert out.getvalue().strip() == "expired 25 points"
    world.bob.refresh_from_db()
    assert world.bob.points_balance == 0 == _ledger_sum(world.bob)
