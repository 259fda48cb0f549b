"""An unsatisfied rating 不满意 reaches the dispatchers and the unit that handled the case, without
the citizen's name, phone or comment; other ratings tell nobody."""

import pytest
from django.utils import timezone

from appeals.models import Appeal
from appeals.services import rate_appeal
from appeals.tests.factories import AppealFactory
from cases.models import Case
from notices.kinds import Kind
from notices.models import Notice, Receipt
from org.audit import Actor
from org.models import Role
from org.tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db
CITIZEN = Actor(user=None, ip="203.0.113.9", via="public")


def _closed(unit) -> Appeal:
    appeal = AppealFactory(phone="13812345678", name="张三丰")
    Case.objects.filter(pk=appeal.case_id).update(
        status=Case.Status.CLOSED, closed_at=timezone.now(), lead_unit=unit
    )
    appeal.case.refresh_from_db()
    return appeal


def test_unsatisfied_goes_to_the_dispatchers_and_the_handling_unit():
    unit = UnitFactory(code="D-1", short_name="城管局")
    dispatcher = member(UnitFactory(code="DISPATCH"), Role.DISPATCHER)
    handler, other = member(unit, Role.HANDLER), member(UnitFactory(code="D-2"), Role.HANDLER)
    satisfied = _closed(unit)
    rate_appeal(CITIZEN, satisfied, Appeal.Rating.SATISFIED, phone="13812345678")
    assert not Notice.objects.exists()
    appeal = _closed(unit)
    rate_appeal(
        CITIZEN, appeal, Appeal.Rating.UNSATISFIED, "张三丰说垃圾还在 13812345678", phone="13812345678"
    )
    notice = Notice.objects.get(kind=Kind.APPEAL_UNSATISFIED)
    assert notice.title == f"诉求评价不满意 {appeal.case.number}" and "城管局" in notice.body
    assert set(Receipt.objects.values_list("user", flat=True)) == {dispatcher.pk, handler.pk}
    assert other.pk not in set(Receipt.objects.values_list("user", flat=True))
    for text in (notice.title, notice.body):
        assert "张三丰" not in text and "13812345678" not in text and "垃圾还在" not in text
