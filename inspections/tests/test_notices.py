"""A finding on a site reaches the site's responsible unit and the leader contracting it through the
outbox to the inbox; an 暗访's only once HQ publishes the round; another unit gets nothing."""

from inspections import services
from inspections.models import Round
from notices.kinds import Kind
from notices.models import Notice, Receipt
from org.models import Role
from org.tests.factories import member

from .conftest import actor, lines, plan
from .test_services import submit


def _receivers(notice: Notice) -> set[int]:
    return set(Receipt.objects.filter(notice=notice).values_list("user_id", flat=True))


def test_findings_go_to_the_responsible_unit_and_the_contracting_leader(world, insp):
    clerk = member(world.dept, Role.REPORT_CLERK, username="deptclerk")  # not a handler: not told
    round_ = plan(world, insp, kind=Round.Kind.SUPERVISION)
    inspection, _ = submit(world, insp, round_)
    notice = Notice.objects.get(kind=Kind.INSPECTION_FINDING)
    assert notice.key == f"inspection:{inspection.pk}:findings"
    assert _receivers(notice) == {world.handler.pk, insp.leader.pk}
    assert not {world.handler2.pk, world.collector.pk, clerk.pk} & _receivers(notice)
    assert notice.title == "督查发现问题 一号市场"
    assert "发现 2 个问题（扣 8 分），责任单位" in notice.body
    assert "市场内无暴露垃圾、无活禽宰杀" in notice.body
    assert notice.link == f"/inspections/records/{inspection.pk}/"
    assert notice.unit == world.dept


def test_a_site_without_findings_tells_nobody(world, insp):
    round_ = plan(world, insp, kind=Round.Kind.MORNING)
    submit(world, insp, round_, marked=lines(insp, a="pass", c="pass"))
    assert not Notice.objects.exists()


def test_an_unannounced_visit_is_told_when_published(world, insp):
    round_ = plan(world, insp, kind=Round.Kind.UNANNOUNCED, sites=[insp.m1, insp.m2])
    inspection, _ = submit(world, insp, round_)
    assert not Notice.objects.exists()  # the inspected must not learn of it before
    services.publish_round(actor(world.hq), round_)
    notice = Notice.objects.get(kind=Kind.INSPECTION_FINDING)
    assert notice.key == f"inspection:{inspection.pk}:findings"
    assert _receivers(notice) == {world.handler.pk, insp.leader.pk}
