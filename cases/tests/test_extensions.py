"""Extensions in hours 延期（小时）: an urgent part (clock hours) takes hours only, a part under the
working-hours clock days or working hours, a legal-day part days only; each adds exactly what was
asked to the current deadline (hand-worked), on the page, in the API and when recounted."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from cases.deadlines import recompute_open_deadlines
from cases.models import CaseEvent, CasePart, ExtensionRequest
from cases.services import accept_case, decide_extension, dispatch_case, request_extension
from cases.tests.conftest import actor, at
from cases.tests.test_workflow import dispatched, refused, report
from notices.kinds import Kind
from notices.models import Notice
from org.audit import Actor
from workdays.models import DeadlineRule

pytestmark = pytest.mark.django_db


def _urgent(w):
    case = report(w, category=w.gas, urgent=True)  # 燃气管道破裂: 1 clock hour when urgent
    return dispatch_case(actor(w.dispatcher), accept_case(actor(w.dispatcher), case), w.dept)


def test_an_urgent_part_is_extended_by_exactly_the_clock_hours_asked(world, clock):
    w = world
    clock.set(at(2026, 10, 1, 20))  # National Day: clock hours run through the holiday
    case = _urgent(w)
    assert case.handle_deadline == at(2026, 10, 1, 21)
    with pytest.raises(ValidationError, match="紧急案件的处置时限按自然小时计算，请按小时申请延期"):
        request_extension(actor(w.handler), case, 1, "抢修需要时间")
    refused(ValidationError, request_extension, case, actor(w.handler), case, 0, "x", hours=73)  # > 72
    refused(ValidationError, request_extension, case, actor(w.handler), case, 1, "x", hours=2)  # both
    ext = request_extension(actor(w.handler), case, 0, "需燃气公司配合", hours=14)
    assert (ext.days, ext.hours, ext.amount_text) == (0, 14, "14 小时")
    decide_extension(actor(w.dispatcher), case, ext, True, "同意")
    part = CasePart.objects.get(pk=ext.part_id)
    # 21:00 on 1 Oct + 14 h = 11:00 on 2 Oct, holiday or not.
    assert part.deadline == at(2026, 10, 2, 11)
    assert (part.extension_days, part.extension_hours, part.deadline_rule) == (0, 14, "clock_hours")
    event = case.events.get(action=CaseEvent.Action.APPROVE_EXTENSION)
    assert (event.data["days"], event.data["hours"]) == (0, 14)
    notice = Notice.objects.get(kind=Kind.EXTENSION_DECIDED)
    assert f"对案件 {case.number} 申请延期 14 小时，审批结果：已批准" in notice.body
    assert recompute_open_deadlines(Actor.system()) == 0  # the recount adds the same 14 h


def test_a_working_hours_part_is_extended_in_working_hours(world, clock):
    w = world
    # Friday 18 Sep 10:00, 5 working days: due Thursday 24 Sep 10:00 (see test_workflow).
    clock.set(at(2026, 9, 18, 10))
    case = dispatched(w)
    assert case.handle_deadline == at(2026, 9, 24, 10)
    ext = request_extension(actor(w.handler), case, None, "需协调供电部门", hours=8)
    assert ext.amount_text == "8 个工作时"
    decide_extension(actor(w.dispatcher), case, ext, True)
    # From 24 Sep 10:00: 2 h to 12:00, 3.5 h from 14:30 to 18:00 (5.5 h); Mid-Autumn 25–27 off;
    # 2.5 h on Monday 28 Sep from 08:30: 11:00.
    part = case.parts.get()
    assert part.deadline == at(2026, 9, 28, 11)
    assert (part.extension_days, part.extension_hours) == (0, 8)
    # A later extension in days adds whole working days from there: + 1 day (7 h) = 29 Sep 11:00.
    decide_extension(actor(w.dispatcher), case, request_extension(actor(w.handler), case, 1, "再延"), True)
    part.refresh_from_db()
    assert part.deadline == at(2026, 9, 29, 11)
    assert recompute_open_deadlines(Actor.system()) == 0  # days then hours: the same moment


def test_a_legal_day_part_takes_days_only(world, clock):
    w = world
    w.road.deadline_rule = DeadlineRule.LEGAL_DAYS
    w.road.save()
    clock.set(at(2026, 9, 18, 10))
    case = dispatched(w)
    with pytest.raises(ValidationError, match="该案件的处置时限按法定日计算，只能按工作日申请延期"):
        request_extension(actor(w.handler), case, 0, "x", hours=3)
    assert not ExtensionRequest.objects.exists()
    assert request_extension(actor(w.handler), case, 2, "需采购").amount_text == "2 个工作日"


def test_hours_on_the_page_and_in_the_api(world, clock):
    w = world
    clock.set(at(2026, 10, 1, 20))
    case = _urgent(w)
    client = Client()
    client.force_login(w.handler)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'name="hours" value="1"' in page and "或延期小时" in page
    response = client.post(
        reverse("cases:act", args=[case.pk, "request_extension"]),
        {"days": "1", "reason": "抢修"},
        follow=True,
    )
    assert "请按小时申请延期" in response.content.decode() and not ExtensionRequest.objects.exists()
    client.post(reverse("cases:act", args=[case.pk, "request_extension"]), {"hours": "3", "reason": "抢修"})
    assert ExtensionRequest.objects.get().hours == 3
    client.force_login(w.dispatcher)
    assert "申请延期 <b>3 小时</b>" in client.get(reverse("cases:extensions")).content.decode()
    ExtensionRequest.objects.all().delete()

    url = f"/api/v1/cases/cases/{case.pk}/extensions"
    client.force_login(w.handler)
    r = client.post(url, {"days": 1, "reason": "抢修"}, content_type="application/json")
    assert r.status_code == 400 and "请按小时申请延期" in r.json()["detail"]
    r = client.post(url, {"hours": 5, "reason": "抢修"}, content_type="application/json")
    assert r.status_code == 201 and (r.json()["days"], r.json()["hours"]) == (0, 5)
