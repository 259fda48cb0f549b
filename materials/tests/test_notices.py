"""Materials due, returned and carded reach the unit's report clerks (a red card also the unit's
leader) through the outbox to the inbox, and nobody of another unit."""

import datetime as dt

from materials import notices, services
from materials.models import Submission
from materials.tests.conftest import NOW, complete
from notices.kinds import Kind
from notices.models import Notice, Receipt, UnitPreference

OCT = dt.date(2026, 10, 1)


def _told(kind: str) -> dict[str, set[int]]:
    return {
        n.key: set(Receipt.objects.filter(notice=n).values_list("user_id", flat=True))
        for n in Notice.objects.filter(kind=kind)
    }


def test_due_within_one_working_day_told_once_to_the_units_clerks(world):
    # Tuesday 10 November 2026: due Wednesday is within one working day, due Friday is not.
    soon = world.requirement(title="理论学习记录", due_date=dt.date(2026, 11, 11))
    world.requirement(title="志愿服务台账", due_date=dt.date(2026, 11, 13))
    done = world.requirement(title="宣传栏照片", due_date=dt.date(2026, 11, 11), units=[world.c1])
    complete(world, Submission.objects.get(requirement=done, unit=world.c1))
    assert notices.materials_due(NOW) == "2 份"
    assert notices.materials_due(NOW) == "0 份"  # once per submission and due date
    told = _told(Kind.MATERIAL_DUE)
    c1 = Submission.objects.get(requirement=soon, unit=world.c1)
    c2 = Submission.objects.get(requirement=soon, unit=world.c2)
    assert told == {
        f"material:{c1.pk}:due:2026-11-11": {world.clerk.pk},
        f"material:{c2.pk}:due:2026-11-11": {world.clerk2.pk},
    }
    notice = Notice.objects.get(key=f"material:{c1.pk}:due:2026-11-11")
    assert notice.link == f"/materials/submissions/{c1.pk}/"
    assert "一社区居委会的网报资料“理论学习记录”（2026年11月）将于 11月11日 截止" in notice.body


def test_due_on_friday_is_told_on_the_working_day_before(world, clock):
    req = world.requirement(title="季度宣讲台账", due_date=dt.date(2026, 11, 16), units=[world.c1])
    assert notices.materials_due(dt.datetime(2026, 11, 12, 2, tzinfo=dt.UTC)) == "0 份"  # Thursday
    # Friday 13th: the next working day is Monday 16th.
    assert notices.materials_due(dt.datetime(2026, 11, 13, 2, tzinfo=dt.UTC)) == "1 份"
    sub = Submission.objects.get(requirement=req, unit=world.c1)
    assert Notice.objects.get().key == f"material:{sub.pk}:due:2026-11-16"


def test_returned_goes_to_the_clerks_of_the_unit_only(world):
    req = world.requirement(units=[world.c1, world.c2])
    sub = complete(world, Submission.objects.get(requirement=req, unit=world.c1))
    services.return_submission(
        world.actor(world.inspector), sub, "照片模糊，请重拍（联系 13812345678）", version=1
    )
    notice = Notice.objects.get(kind=Kind.MATERIAL_RETURNED)
    assert set(Receipt.objects.filter(notice=notice).values_list("user_id", flat=True)) == {world.clerk.pk}
    assert notice.title == "网报资料被退回 文明实践活动记录"
    assert "第 1 版" in notice.body and "照片模糊" in notice.body
    assert "13812345678" not in notice.body and "[号码已隐去]" in notice.body
    assert notice.link == f"/materials/submissions/{sub.pk}/"


def test_cards_go_to_the_clerks_and_a_red_one_also_to_the_unit_leader(world):
    UnitPreference.objects.create(unit=world.c1, leader=world.handler)
    hq = world.actor(world.hq)
    yellow = services.issue_card(hq, world.c1, OCT, "yellow", "宣传栏照片未报送")
    red = services.issue_card(hq, world.c1, OCT, "red", "连续两次未报送")
    told = _told(Kind.MATERIAL_CARD)
    assert told == {
        f"material-card:{yellow.pk}": {world.clerk.pk},
        f"material-card:{red.pk}": {world.clerk.pk, world.handler.pk},
    }
    notice = Notice.objects.get(key=f"material-card:{red.pk}")
    assert notice.title == "一社区居委会被亮红牌 2026年10月"
    assert world.clerk2.pk not in told[f"material-card:{red.pk}"]


def test_monthly_cards_are_told_in_the_job(world):
    req = world.requirement(month=OCT, units=[world.c1, world.c2])
    Submission.objects.filter(requirement=req, unit=world.c1).update(state=Submission.State.ACCEPTED, score=9)
    issued = services.issue_monthly_cards(world.actor(world.hq), OCT)
    assert [(c.unit, c.color) for c in issued] == [(world.c2, "yellow")]
    assert _told(Kind.MATERIAL_CARD) == {f"material-card:{issued[0].pk}": {world.clerk2.pk}}
