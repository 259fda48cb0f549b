"""Staff pages: masked contact details, logged reveals, clerk entry, call-back before closing,
the dispatcher's decision on an unsatisfied rating, classification and the resolution rate page."""

import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from appeals.models import Appeal, unsure_category
from appeals.services import rate_appeal, submit_appeal
from cases import services as loop
from cases.models import Case
from org.audit import Actor
from org.errors import ActionRefused
from org.models import AuditLog, Role
from org.tests.factories import UnitFactory, member

from .conftest import IN_DISTRICT, actor, jpeg

PHONE, NAME = "13812345678", "王小明"
SECRETS = (PHONE, NAME)


def _appeal(world, channel=Appeal.Channel.WEB, category="garbage", **kwargs) -> Appeal:
    clerk = channel in Appeal.CLERK_CHANNELS
    return submit_appeal(
        actor(world.dispatcher) if clerk else Actor(user=None, via="public"),
        channel=channel,
        category=getattr(world, category) if category else None,
        description="垃圾没人清",
        phone=PHONE,
        name=NAME,
        lat=IN_DISTRICT[0],
        lng=IN_DISTRICT[1],
        **kwargs,
    )


def _handled(world, appeal: Appeal) -> Case:
    case = loop.accept_case(actor(world.dispatcher), appeal.case)
    case = loop.dispatch_case(actor(world.dispatcher), case, world.dept)
    return loop.handle_part(actor(world.handler), case, [jpeg("after.jpg")])


def test_lists_and_details_mask_contact_details_for_every_role(client, world):
    appeal = _appeal(world)
    loop.accept_case(actor(world.dispatcher), appeal.case)
    loop.dispatch_case(actor(world.dispatcher), Case.objects.get(pk=appeal.case_id), world.dept)
    for user in (world.dispatcher, world.hq, world.handler):
        client.force_login(user)
        for url in ("/appeals/", f"/appeals/{appeal.pk}/"):
            page = client.get(url).content.decode()
            assert "138****5678" in page and "王**" in page, (user, url)
            assert not any(s in page for s in SECRETS), (user, url)
        case_page = client.get(f"/cases/{appeal.case_id}/").content.decode()
        assert not any(s in case_page for s in SECRETS), user
    assert not AuditLog.objects.filter(action="appeal.read_contact").exists()


def test_only_a_dispatcher_reveals_contact_details_and_the_read_is_logged(client, world):
    appeal = _appeal(world)
    client.force_login(world.hq)
    assert "显示完整联系方式" not in client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert client.post(f"/appeals/{appeal.pk}/contact/").status_code == 403
    client.force_login(world.dispatcher)
    assert "显示完整联系方式" in client.get(f"/appeals/{appeal.pk}/").content.decode()
    page = client.post(f"/appeals/{appeal.pk}/contact/", REMOTE_ADDR="10.1.2.3").content.decode()
    assert PHONE in page and NAME in page and "本次查看已记录" in page
    log = AuditLog.objects.get(action="appeal.read_contact")
    assert (log.actor, log.ip, log.object_id) == (world.dispatcher, "10.1.2.3", str(appeal.pk))


def test_units_see_only_their_own_appeals_and_other_roles_none(client, world):
    appeal = _appeal(world)
    loop.accept_case(actor(world.dispatcher), appeal.case)
    loop.dispatch_case(actor(world.dispatcher), Case.objects.get(pk=appeal.case_id), world.dept)
    client.force_login(world.handler)
    page = client.get("/appeals/").content.decode()
    assert appeal.code in page
    # On a phone each row is a card whose cells carry their column's name (app.css: table.stack).
    assert (
        '<table class="stack">' in page
        and f'<td data-label="查询码"><a href="/appeals/{appeal.pk}/">' in page
    )
    client.force_login(world.other_handler)
    assert appeal.code not in client.get("/appeals/").content.decode()
    assert client.get(f"/appeals/{appeal.pk}/").status_code == 404
    clerk = member(UnitFactory(), Role.REPORT_CLERK)
    client.force_login(clerk)
    assert client.get("/appeals/").status_code == 403
    assert client.get("/appeals/stats/").status_code == 403


def test_a_dispatcher_enters_a_hotline_appeal_into_the_loop(client, world):
    client.force_login(world.dispatcher)
    page = client.get("/appeals/new/").content.decode()
    assert "热线电话" in page and "网上" not in page
    response = client.post(
        "/appeals/new/",
        {
            "channel": "hotline",
            "category": "",
            "description": "电话反映：路灯不亮",
            "address": "一社区北门",
            "phone": "0827-5261234",
            "name": "赵六",
        },
        follow=True,
    )
    appeal = Appeal.objects.get()
    assert f"已登记，查询码 {appeal.code}" in response.content.decode()
    assert (appeal.channel, appeal.entered_by, appeal.phone) == ("hotline", world.dispatcher, "08275261234")
    assert (appeal.case.source, appeal.case.status, appeal.case.reporter) == (
        "clerk",
        "reported",
        world.dispatcher,
    )
    assert appeal.needs_follow_up
    client.force_login(world.hq)
    assert client.get("/appeals/new/").status_code == 403


def test_a_clerk_entered_appeal_closes_only_after_the_call_back(client, world):
    appeal = _appeal(world, channel=Appeal.Channel.HOTLINE)
    case = _handled(world, appeal)
    with pytest.raises(ActionRefused, match="请先回访"):
        loop.verify_case(actor(world.dispatcher), case)
    case.refresh_from_db()
    assert case.status == "handled" and case.closed_at is None
    assert not case.events.filter(action="close").exists()
    client.force_login(world.dispatcher)
    response = client.post(
        f"/appeals/{appeal.pk}/follow-up/", {"note": "已电话告知：垃圾已清运"}, follow=True
    )
    assert "已保存" in response.content.decode()
    case = loop.verify_case(actor(world.dispatcher), Case.objects.get(pk=case.pk))
    assert case.status == "closed"


def test_the_case_page_refuses_closing_before_the_call_back_with_the_reason(client, world):
    appeal = _appeal(world, channel=Appeal.Channel.MAIL)
    case = _handled(world, appeal)
    client.force_login(world.dispatcher)
    response = client.post(f"/cases/{case.pk}/verify/", {"note": ""}, follow=True)
    assert "请先回访" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == "handled"


def test_web_appeals_close_without_a_call_back(world):
    case = _handled(world, _appeal(world))
    assert loop.verify_case(actor(world.dispatcher), case).status == "closed"


def test_an_unsatisfied_rating_is_reopened_by_the_dispatcher(client, world):
    appeal = _appeal(world)
    old = loop.verify_case(actor(world.dispatcher), _handled(world, appeal))
    rate_appeal(Actor(user=None, via="public"), appeal, "unsatisfied", "垃圾又堆起来了", phone=PHONE)
    client.force_login(world.dispatcher)
    page = client.get("/appeals/?todo=review").content.decode()
    assert appeal.code in page and "待研判" in page
    response = client.post(
        f"/appeals/{appeal.pk}/review/", {"decision": "reopen", "note": "请彻底清理"}, follow=True
    )
    assert "已保存" in response.content.decode()
    appeal.refresh_from_db()
    new = appeal.case
    assert new.pk != old.pk
    assert (new.status, new.lead_unit, new.category) == ("dispatched", world.dept, world.garbage)
    assert old.number in new.description and "垃圾又堆起来了" in new.description
    assert (appeal.review, appeal.reopen_count, appeal.rating) == ("reopened", 1, "")
    assert appeal.history[0]["case"] == old.number and appeal.history[0]["rating"] == "unsatisfied"
    assert Case.objects.get(pk=old.pk).status == "closed"
    # Deciding twice is refused.
    response = client.post(f"/appeals/{appeal.pk}/review/", {"decision": "uphold", "note": "x"}, follow=True)
    assert "该诉求没有待研判的不满意评价" in response.content.decode()


def test_upholding_needs_a_reason(client, world):
    appeal = _appeal(world)
    loop.verify_case(actor(world.dispatcher), _handled(world, appeal))
    rate_appeal(Actor(user=None, via="public"), appeal, "unsatisfied", "不满意", phone=PHONE)
    client.force_login(world.dispatcher)
    response = client.post(f"/appeals/{appeal.pk}/review/", {"decision": "uphold", "note": ""}, follow=True)
    assert "维持结案时请说明理由" in response.content.decode()
    client.post(f"/appeals/{appeal.pk}/review/", {"decision": "uphold", "note": "已按标准清理，属新产生垃圾"})
    appeal.refresh_from_db()
    assert appeal.review == "upheld" and appeal.case.status == "closed"


def test_a_dispatcher_classifies_an_unsure_appeal_before_dispatch(client, world):
    appeal = _appeal(world, category=None)
    assert appeal.category_unsure and appeal.case.category.code == "9900"
    client.force_login(world.dispatcher)
    assert appeal.code in client.get("/appeals/?todo=unsure").content.decode()
    client.post(f"/appeals/{appeal.pk}/classify/", {"category": world.garbage.pk})
    appeal.refresh_from_db()
    assert appeal.case.category == world.garbage and not appeal.category_unsure
    assert AuditLog.objects.filter(action="appeal.classify").count() == 1
    event = appeal.case.events.get(action="reclassify")  # through the case loop's 改类 step
    assert event.actor == world.dispatcher and appeal.code in event.reason
    assert event.data["category"] == world.garbage.pk
    loop.accept_case(actor(world.dispatcher), appeal.case)
    loop.dispatch_case(actor(world.dispatcher), Case.objects.get(pk=appeal.case_id), world.dept)
    response = client.post(f"/appeals/{appeal.pk}/classify/", {"category": world.garbage.pk}, follow=True)
    assert "案件已派遣，不能再改类别" in response.content.decode()


def test_a_dispatcher_records_a_phone_rating(client, world):
    appeal = _appeal(world, channel=Appeal.Channel.VISIT)
    case = _handled(world, appeal)
    client.force_login(world.dispatcher)
    client.post(f"/appeals/{appeal.pk}/follow-up/", {"note": "已当面答复"})
    loop.verify_case(actor(world.dispatcher), Case.objects.get(pk=case.pk))
    client.post(f"/appeals/{appeal.pk}/phone-rating/", {"rating": "basic", "comment": "还可以"})
    appeal.refresh_from_db()
    assert appeal.rating == "basic"


def test_the_resolution_rate_page(client, world):
    resolved = _appeal(world)
    loop.verify_case(actor(world.dispatcher), _handled(world, resolved))
    _appeal(world, channel=Appeal.Channel.HOTLINE)
    client.force_login(world.hq)
    today = timezone.localdate().isoformat()
    page = client.get("/appeals/stats/", {"start": today, "end": today, "by": "channel"}).content.decode()
    assert "诉求化解率" in page and "50.00%" in page
    assert "热线电话" in page and "网上（手机/网页）" in page and "100.00%" in page and "0.00%" in page
    link = f"/appeals/?start={today}&end={today}&by=channel&key=web&count=resolved"
    assert link in html.unescape(page)
    listed = client.get(link).content.decode()
    assert resolved.code in listed and "1 条" not in listed
    hotline = Appeal.objects.get(channel="hotline")
    assert hotline.code not in listed
    assert (
        hotline.code
        in client.get(link.replace("key=web", "key=hotline").replace("resolved", "received")).content.decode()
    )
    page = client.get("/appeals/stats/", {"start": "2020-01-01", "end": "2020-01-31"}).content.decode()
    assert "无数据" in page
    assert (
        "开始日期不能晚于结束日期"
        in client.get("/appeals/stats/", {"start": today, "end": "2020-01-01"}).content.decode()
    )
    assert client.get("/appeals/stats/").status_code == 200


def test_the_stats_form_renders_iso_dates_and_can_be_resubmitted(client, world):
    client.force_login(world.hq)
    today = timezone.localdate()
    page = client.get("/appeals/stats/").content.decode()
    first = today.replace(day=1).isoformat()
    assert f'type="date" name="start" value="{first}"' in page
    assert f'type="date" name="end" value="{today.isoformat()}"' in page
    assert "<label>开始日期 <input" in page and "<label>分组 <select" in page
    # What the page shows is what the form accepts back.
    start = re.search(r'name="start" value="([^"]+)"', page)
    end = re.search(r'name="end" value="([^"]+)"', page)
    assert start and end
    again = client.get("/appeals/stats/", {"start": start[1], "end": end[1], "by": "unit"})
    assert again.status_code == 200 and again.context["form"].is_valid()


def test_the_menu_offers_appeals_to_staff(client, world):
    client.force_login(world.dispatcher)
    page = client.get("/").content.decode()
    assert 'href="/appeals/"' in page and 'href="/appeals/stats/"' in page and "坐席录入诉求" in page


def test_the_admin_shows_appeals_read_only_and_masked(client, world):
    from org.tests.factories import UserFactory

    appeal = _appeal(world)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in ("/admin/appeals/appeal/", f"/admin/appeals/appeal/{appeal.pk}/change/"):
        page = client.get(url).content.decode()
        assert "138****5678" in page, url
        assert not any(s in page for s in SECRETS), url
    assert client.get("/admin/appeals/appeal/add/").status_code == 403


def test_the_unsure_category_is_for_citizens_only(client, world):
    unsure = unsure_category()
    assert unsure.public_only  # set by migration 0004
    taken_down = _appeal(world, channel=Appeal.Channel.HOTLINE, category=None)  # a clerk, for a citizen
    assert taken_down.case.category == unsure and taken_down.category_unsure
    with pytest.raises(ValidationError, match="仅供群众"):
        loop.report_case(
            actor(world.dispatcher), category=unsure, description="x", lat=IN_DISTRICT[0], lng=IN_DISTRICT[1]
        )
    with pytest.raises(ValidationError, match="仅供群众"):
        loop.reclassify_case(actor(world.dispatcher), _appeal(world).case, unsure, "不清楚")
    client.force_login(world.dispatcher)
    listed = {c["id"] for c in client.get("/api/v1/cases/categories").json()}
    assert world.garbage.pk in listed and unsure.pk not in listed


def test_the_appeal_list_offers_clerk_entry_only_to_those_who_may_use_it(client, world):
    client.force_login(world.dispatcher)
    assert 'href="/appeals/new/"' in client.get("/appeals/").content.decode()
    client.force_login(world.handler)
    page = client.get("/appeals/").content.decode()
    assert 'href="/appeals/new/"' not in page
    assert client.get("/appeals/new/").status_code == 403
