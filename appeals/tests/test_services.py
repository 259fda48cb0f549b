"""Rating, the call-back record and contact reads: who may, when, and what each leaves behind."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from appeals.models import Appeal
from appeals.services import rate_appeal, read_contact, record_follow_up
from cases.models import Case
from org.audit import Actor
from org.errors import ActionRefused
from org.models import AuditLog, Role
from org.tests.factories import UnitFactory, member

from .factories import AppealFactory

pytestmark = pytest.mark.django_db
CITIZEN = Actor(user=None, ip="203.0.113.9", via="public")


def _closed(**kwargs) -> Appeal:
    appeal = AppealFactory(**kwargs)
    Case.objects.filter(pk=appeal.case_id).update(status=Case.Status.CLOSED, closed_at=timezone.now())
    appeal.case.refresh_from_db()
    return appeal


def test_the_citizen_rates_a_closed_appeal_once():
    appeal = _closed()
    rate_appeal(CITIZEN, appeal, Appeal.Rating.BASIC, "还行", phone="138 1234 5678")
    appeal.refresh_from_db()
    assert (appeal.rating, appeal.rating_comment, appeal.review) == ("basic", "还行", "")
    assert appeal.rated_at is not None
    with pytest.raises(ActionRefused, match="不能重复评价"):
        rate_appeal(CITIZEN, appeal, Appeal.Rating.SATISFIED, phone="13812345678")
    appeal.refresh_from_db()
    assert appeal.rating == "basic"


def test_an_unsatisfied_rating_needs_a_reason_and_goes_to_the_dispatcher():
    appeal = _closed()
    with pytest.raises(ValidationError):
        rate_appeal(CITIZEN, appeal, Appeal.Rating.UNSATISFIED, " ", phone="13812345678")
    rate_appeal(CITIZEN, appeal, Appeal.Rating.UNSATISFIED, "垃圾还在", phone="13812345678")
    appeal.refresh_from_db()
    assert (appeal.rating, appeal.review) == ("unsatisfied", "pending")


def test_rating_is_refused_before_closing_and_for_another_phone():
    appeal = AppealFactory()
    with pytest.raises(ActionRefused, match="办结后才能评价"):
        rate_appeal(CITIZEN, appeal, Appeal.Rating.SATISFIED, phone="13812345678")
    closed = _closed()
    with pytest.raises(PermissionDenied):
        rate_appeal(CITIZEN, closed, Appeal.Rating.SATISFIED, phone="13900000000")
    handler = member(UnitFactory(), Role.HANDLER)
    with pytest.raises(PermissionDenied):
        rate_appeal(Actor(user=handler), closed, Appeal.Rating.SATISFIED)
    closed.refresh_from_db()
    assert closed.rating == ""


def test_a_dispatcher_records_a_rating_taken_on_the_phone():
    appeal = _closed(channel=Appeal.Channel.HOTLINE)
    dispatcher = member(UnitFactory(), Role.DISPATCHER)
    rate_appeal(Actor(user=dispatcher), appeal, Appeal.Rating.SATISFIED)
    appeal.refresh_from_db()
    assert appeal.rating == "satisfied"


def test_follow_up_is_recorded_by_a_dispatcher_once_the_work_is_done():
    appeal = AppealFactory(channel=Appeal.Channel.HOTLINE)
    assert appeal.needs_follow_up
    dispatcher = member(UnitFactory(), Role.DISPATCHER)
    with pytest.raises(ActionRefused):
        record_follow_up(Actor(user=dispatcher), appeal, "已电话告知")
    Case.objects.filter(pk=appeal.case_id).update(status=Case.Status.HANDLED)
    with pytest.raises(PermissionDenied):
        record_follow_up(Actor(user=member(UnitFactory(), Role.HANDLER)), appeal, "已电话告知")
    with pytest.raises(ValidationError):
        record_follow_up(Actor(user=dispatcher), appeal, "")
    record_follow_up(Actor(user=dispatcher), appeal, "已电话告知处理结果，群众认可")
    appeal.refresh_from_db()
    assert not appeal.needs_follow_up
    assert appeal.followed_up_by == dispatcher
    assert AuditLog.objects.filter(action="appeal.follow_up", object_id=str(appeal.pk)).count() == 1


def test_web_appeals_need_no_follow_up():
    assert not AppealFactory(channel=Appeal.Channel.WEB).needs_follow_up


def test_contact_details_are_read_only_by_dispatchers_and_every_read_is_logged():
    appeal = AppealFactory()
    unit = UnitFactory()
    for role in (Role.HQ_ADMIN, Role.HANDLER, Role.LEADER):
        with pytest.raises(PermissionDenied):
            read_contact(Actor(user=member(unit, role)), appeal)
    dispatcher = member(unit, Role.DISPATCHER)
    assert read_contact(Actor(user=dispatcher, ip="10.0.0.8"), appeal) == {
        "phone": "13812345678",
        "name": "张三丰",
    }
    log = AuditLog.objects.get(action="appeal.read_contact")
    assert (log.actor, log.ip, log.object_id) == (dispatcher, "10.0.0.8", str(appeal.pk))
