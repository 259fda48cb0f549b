"""The case pages: the whole loop through the pages with photos, queues limited to scope, refused
steps that change nothing, the list's filters and a fixed number of queries per page."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cases.models import Case, CaseEvent, CasePart, CasePhoto, ExtensionRequest
from cases.tests.factories import CaseFactory, CasePartFactory, CategoryFactory, RoutingRuleFactory
from org.models import Role
from org.tests.factories import member

pytestmark = pytest.mark.django_db


def photo(kind: str = "PNG", name: str = "p.png", colour=(30, 120, 200)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, kind)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{kind.lower()}")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def post(client, user, url, data=None, **kwargs):
    client.force_login(user)
    return client.post(url, data or {}, follow=True, **kwargs)


def act(case, action: str) -> str:
    return reverse("cases:act", args=[case.pk, action])


def report(client, world, **extra):
    data = {
        "category": world.garbage.pk,
        "description": "路口堆放建筑垃圾",
        "address": "回风路 12 号",
        "lat": world.in_grid[0],
        "lng": world.in_grid[1],
        "photos": [photo(), photo("JPEG", "q.jpg", (200, 30, 30))],
        **extra,
    }
    return post(client, world.collector, reverse("cases:report"), data)


def test_a_case_walks_the_whole_loop_through_the_pages(client, world):
    RoutingRuleFactory(category=world.garbage, region=world.s1, unit=world.dept)

    # 上报: the collector reports from the phone page with two photos.
    client.force_login(world.collector)
    page = client.get(reverse("cases:report"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'accept="image/*"' in body and 'capture="environment"' in body and "multiple" in body
    assert "leaflet/leaflet.js" in body
    response = report(client, world)
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == reverse("cases:detail", args=[case.pk])
    assert case.status == Case.Status.REPORTED
    assert case.photos.filter(kind=CasePhoto.Kind.BEFORE).count() == 2

    # 立案 from the dispatcher's queue.
    client.force_login(world.dispatcher)
    queue = client.get(reverse("cases:dispatch_queue"))
    assert case.number in queue.content.decode()
    post(client, world.dispatcher, act(case, "accept"))
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED

    # 派单: the routing suggestion is preselected; a joint case with a co-unit.
    queue = client.get(reverse("cases:dispatch_queue") + "?tab=dispatch")
    assert re.search(rf'<option value="{world.dept.pk}" selected>', queue.content.decode())
    post(
        client,
        world.dispatcher,
        act(case, "dispatch"),
        {"lead_unit": world.dept.pk, "co_units": [world.dept2.pk]},
    )
    case.refresh_from_db()
    assert case.status == Case.Status.DISPATCHED
    assert set(case.parts.values_list("unit_id", "is_lead")) == {
        (world.dept.pk, True),
        (world.dept2.pk, False),
    }

    # The lead unit starts, asks for an extension; the dispatcher approves it.
    client.force_login(world.handler)
    assert case.number in client.get(reverse("cases:unit_queue")).content.decode()
    post(client, world.handler, act(case, "start"))
    lead = case.parts.get(is_lead=True)
    before = lead.deadline
    post(client, world.handler, act(case, "request_extension"), {"days": 2, "reason": "需要协调施工队"})
    request = ExtensionRequest.objects.get()
    client.force_login(world.dispatcher)
    assert "需要协调施工队" in client.get(reverse("cases:extensions")).content.decode()
    post(client, world.dispatcher, act(case, "decide_extension"), {"request": request.pk, "approve": "1"})
    lead.refresh_from_db()
    assert lead.deadline > before and lead.extension_days == 2

    # 处置: both units upload after-photos; the case waits for verification.
    post(client, world.handler, act(case, "handle"), {"photos": [photo()], "note": "已清运"})
    post(client, world.handler2, act(case, "handle"), {"photos": [photo("JPEG", "a.jpg")], "note": "已配合"})
    case.refresh_from_db()
    assert case.status == Case.Status.HANDLED

    # 返工 from the verification queue, handled again, then 核查 → 结案.
    client.force_login(world.dispatcher)
    assert case.number in client.get(reverse("cases:verify_queue")).content.decode()
    post(client, world.dispatcher, act(case, "rework"), {"reason": "仍有残留"})
    case.refresh_from_db()
    assert case.status == Case.Status.HANDLING and case.rework_count == 1
    post(client, world.handler, act(case, "handle"), {"photos": [photo()]})
    post(client, world.handler2, act(case, "handle"), {"photos": [photo()]})
    post(client, world.dispatcher, act(case, "verify"), {"note": "现场已清理"})
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED

    # The timeline shows every step with its actor, role and unit; photos never link the original.
    detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    for label in (
        "上报",
        "立案",
        "派单",
        "开始处置",
        "申请延期",
        "批准延期",
        "处置完成",
        "返工",
        "核查通过，结案",
    ):
        assert f"<b>{label}</b>" in detail
    for person in (world.collector, world.dispatcher, world.handler, world.handler2):
        assert str(person.display_name) in detail
    assert "受理派遣员" in detail and world.dept2.name in detail
    assert "仍有残留" in detail and "需要协调施工队" in detail
    assert CaseEvent.objects.filter(case=case).count() == 12
    for ph in case.photos.all():
        assert ph.thumbnail.url in detail and ph.image.url in detail
        assert ph.original.name not in detail
    assert "private/" not in detail
    assert case.photos.filter(kind=CasePhoto.Kind.AFTER).count() == 4


def test_a_wrong_dispatch_is_returned_and_dispatched_again(client, world):
    report(client, world)
    case = Case.objects.get()
    post(client, world.dispatcher, act(case, "accept"))
    post(client, world.dispatcher, act(case, "dispatch"), {"lead_unit": world.dept.pk})
    post(client, world.handler, act(case, "return"), {"reason": "不属于本单位职责"})
    case.refresh_from_db()
    assert case.status == Case.Status.RETURNED and case.return_count == 1
    client.force_login(world.dispatcher)
    assert case.number in client.get(reverse("cases:dispatch_queue") + "?tab=dispatch").content.decode()
    post(client, world.dispatcher, act(case, "dispatch"), {"lead_unit": world.dept2.pk})
    case.refresh_from_db()
    assert case.status == Case.Status.DISPATCHED and case.lead_unit == world.dept2


def test_reject_and_merge_from_the_queue(client, world):
    report(client, world)
    first = Case.objects.get()
    report(client, world, description="同一处垃圾")
    second = Case.objects.exclude(pk=first.pk).get()
    client.force_login(world.dispatcher)
    queue = client.get(reverse("cases:dispatch_queue")).content.decode()
    assert f"合并至 {first.number}" in queue  # the duplicate found at intake is offered
    post(client, world.dispatcher, act(second, "merge"), {"into": first.number})
    second.refresh_from_db()
    assert second.status == Case.Status.MERGED and second.merged_into == first
    post(client, world.dispatcher, act(first, "reject"), {"reason": "已由环卫日常清扫"})
    first.refresh_from_db()
    assert first.status == Case.Status.REJECTED
    assert first.events.get(action=CaseEvent.Action.REJECT).reason == "已由环卫日常清扫"


def test_a_dispatcher_reclassifies_a_case_from_its_page(client, world):
    report(client, world)
    case = Case.objects.get()
    other = CategoryFactory(name="道路破损")
    citizens_only = CategoryFactory(name="不确定（群众）", public_only=True)
    client.force_login(world.dispatcher)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "改类" in page and other.name in page and citizens_only.name not in page
    refused = post(client, world.dispatcher, act(case, "reclassify"), {"category": other.pk, "reason": ""})
    assert any("操作未完成" in m for m in messages_of(refused))
    case.refresh_from_db()
    assert case.category == world.garbage
    post(client, world.dispatcher, act(case, "reclassify"), {"category": other.pk, "reason": "应为道路设施"})
    case.refresh_from_db()
    assert case.category == other
    assert case.events.get(action=CaseEvent.Action.RECLASSIFY).reason == "应为道路设施"
    client.force_login(world.collector)
    assert citizens_only.name not in client.get(reverse("cases:report")).content.decode()


def test_bulk_accept_and_bulk_dispatch_to_the_suggestion(client, world):
    RoutingRuleFactory(category=world.garbage, unit=world.dept)
    unrouted = CategoryFactory(default_unit_kind="")
    for _ in range(3):
        report(client, world)
    report(client, world, category=unrouted.pk)
    ids = list(Case.objects.values_list("pk", flat=True))
    response = post(client, world.dispatcher, reverse("cases:bulk_accept"), {"ids": ids})
    assert "已立案 4 件" in messages_of(response)
    assert not Case.objects.exclude(status=Case.Status.ACCEPTED).exists()
    response = post(client, world.dispatcher, reverse("cases:bulk_dispatch"), {"ids": ids})
    text = " ".join(messages_of(response))
    assert "已派单 3 件" in text and "没有派单建议" in text
    assert Case.objects.filter(status=Case.Status.DISPATCHED, lead_unit=world.dept).count() == 3
    assert Case.objects.get(category=unrouted).status == Case.Status.ACCEPTED


def test_report_errors_stay_on_the_form(client, world):
    response = report(client, world, photos=[SimpleUploadedFile("x.jpg", b"not an image")])
    assert response.status_code == 200
    assert "不是有效的图片" in response.content.decode()
    response = report(client, world, lat="10.0", lng="10.0")
    assert "不在本区范围内" in response.content.decode()
    response = report(client, world, photos=[])
    assert "请上传问题照片" in response.content.decode()
    assert not Case.objects.exists()


def test_duplicates_endpoint_lists_nearby_open_cases(client, world):
    report(client, world)
    case = Case.objects.get()
    client.force_login(world.collector)
    url = reverse("cases:duplicates")
    near = client.get(url, {"category": world.garbage.pk, "lat": world.in_grid[0], "lng": world.in_grid[1]})
    assert [d["number"] for d in near.json()["results"]] == [case.number]
    far = client.get(url, {"category": world.garbage.pk, "lat": world.in_c2[0], "lng": world.in_c2[1]})
    assert far.json()["results"] == []
    other = client.get(url, {"category": world.road.pk, "lat": world.in_grid[0], "lng": world.in_grid[1]})
    assert other.json()["results"] == []
    assert client.get(url, {"category": world.garbage.pk}).status_code == 400


# ---------------------------------------------------------------------------------------------
# Refused steps change nothing


def test_a_step_outside_the_role_is_a_403_and_changes_nothing(client, world):
    report(client, world)
    case = Case.objects.get()
    response = post(client, world.collector, act(case, "accept"))
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == Case.Status.REPORTED and case.events.count() == 1
    client.force_login(world.handler)
    assert client.get(reverse("cases:dispatch_queue")).status_code == 403
    assert client.get(reverse("cases:verify_queue")).status_code == 403
    client.force_login(world.collector)
    assert client.get(reverse("cases:unit_queue")).status_code == 403


def test_a_step_refused_by_state_shows_an_error_and_changes_nothing(client, world):
    report(client, world)
    case = Case.objects.get()
    response = post(client, world.dispatcher, act(case, "verify"))
    assert any("操作未完成" in m for m in messages_of(response))
    response = post(client, world.dispatcher, act(case, "reject"), {"reason": ""})
    assert any("理由" in m for m in messages_of(response))
    case.refresh_from_db()
    assert case.status == Case.Status.REPORTED and case.events.count() == 1

    post(client, world.dispatcher, act(case, "accept"))
    post(client, world.dispatcher, act(case, "dispatch"), {"lead_unit": world.dept.pk})
    response = post(client, world.handler, act(case, "handle"), {"note": "没拍照"})
    assert any("操作未完成" in m for m in messages_of(response))
    case.refresh_from_db()
    assert (
        case.status == Case.Status.DISPATCHED and not case.photos.filter(kind=CasePhoto.Kind.AFTER).exists()
    )
    # The community sees the case in its area but holds no part of it: 403, nothing changes.
    community_handler = member(world.committee, Role.HANDLER, username="community")
    response = post(client, community_handler, act(case, "start"))
    assert response.status_code == 403
    assert case.parts.get().status == CasePart.Status.DISPATCHED


def test_unknown_action_is_404_and_get_is_refused(client, world):
    report(client, world)
    case = Case.objects.get()
    client.force_login(world.dispatcher)
    assert client.post(act(case, "explode")).status_code == 404
    assert client.get(act(case, "accept")).status_code == 405


# ---------------------------------------------------------------------------------------------
# Scope


def test_queues_and_pages_show_only_what_the_scope_allows(client, world):
    report(client, world)
    case = Case.objects.get()
    post(client, world.dispatcher, act(case, "accept"))
    post(client, world.dispatcher, act(case, "dispatch"), {"lead_unit": world.dept.pk})

    client.force_login(world.handler2)
    assert case.number not in client.get(reverse("cases:unit_queue")).content.decode()
    assert case.number not in client.get(reverse("cases:list")).content.decode()
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert client.post(act(case, "start")).status_code == 404

    client.force_login(world.collector2)  # another community's collector
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404

    client.force_login(world.handler)
    assert case.number in client.get(reverse("cases:unit_queue")).content.decode()
    detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "开始处置" in detail and "核查通过，结案</button>" not in detail

    client.force_login(world.collector)  # the reporter still follows the case
    detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert case.number in detail and 'id="actions"' not in detail


def test_unit_queue_is_sorted_by_deadline_with_overdue_first(client, world):
    now = timezone.now()
    late = CasePartFactory(
        unit=world.dept, deadline=now - dt.timedelta(hours=3), case__status=Case.Status.DISPATCHED
    )
    soon = CasePartFactory(
        unit=world.dept, deadline=now + dt.timedelta(hours=5), case__status=Case.Status.DISPATCHED
    )
    later = CasePartFactory(
        unit=world.dept, deadline=now + dt.timedelta(days=4), case__status=Case.Status.HANDLING
    )
    done = CasePartFactory(
        unit=world.dept, deadline=now, status=CasePart.Status.HANDLED, case__status=Case.Status.HANDLED
    )
    client.force_login(world.handler)
    body = client.get(reverse("cases:unit_queue")).content.decode()
    positions = [body.index(p.case.number) for p in (late, soon, later)]
    assert positions == sorted(positions)
    assert done.case.number not in body
    assert 'class="card overdue"' in body and 'class="card soon"' in body
    assert "已超期 1 件" in body


# ---------------------------------------------------------------------------------------------
# List and filters


@pytest.fixture
def listed(world):
    now = timezone.now()
    a = CaseFactory(status=Case.Status.REPORTED, region=world.c1, category=world.garbage, address="东街")
    b = CaseFactory(
        status=Case.Status.DISPATCHED,
        region=world.c2,
        category=world.road,
        lead_unit=world.dept,
        due_at=now - dt.timedelta(hours=1),
        reported_at=now - dt.timedelta(days=40),
    )
    c = CaseFactory(
        status=Case.Status.HANDLING,
        region=world.c1,
        category=world.road,
        lead_unit=world.dept2,
        due_at=now + dt.timedelta(hours=3),
        rework_count=1,
    )
    d = CaseFactory(status=Case.Status.CLOSED, region=world.c2, category=world.garbage)
    CasePartFactory(case=b, unit=world.dept)
    CasePartFactory(case=c, unit=world.dept2)
    CasePartFactory(case=c, unit=world.dept3, is_lead=False)
    return {"a": a, "b": b, "c": c, "d": d}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "abcd"),
        ({"status": "closed"}, "d"),
        ({"state": "open"}, "abc"),
        ({"state": "overdue"}, "b"),
        ({"state": "due_soon"}, "c"),
        ({"state": "reworked"}, "c"),
        ({"region": "c1"}, "ac"),
        ({"category": "road"}, "bc"),
        ({"unit": "dept3"}, "c"),
        ({"unit": "dept"}, "b"),
        ({"major": "event:03"}, "bc"),
        ({"q": "东街"}, "a"),
    ],
)
def test_list_filters(client, world, listed, params, expected):
    lookup = {"c1": world.c1, "road": world.road, "dept": world.dept, "dept3": world.dept3}
    query = {k: (lookup[v].pk if v in lookup else v) for k, v in params.items()}
    client.force_login(world.dispatcher)
    response = client.get(reverse("cases:list"), query)
    shown = {c.number for c in response.context["page"]}
    assert shown == {listed[k].number for k in expected}


def test_list_date_range(client, world, listed):
    client.force_login(world.dispatcher)
    today = timezone.localdate()
    response = client.get(
        reverse("cases:list"), {"date_field": "reported", "end": today - dt.timedelta(days=30)}
    )
    assert [c.number for c in response.context["page"]] == [listed["b"].number]
    response = client.get(reverse("cases:list"), {"start": today})
    assert {c.number for c in response.context["page"]} == {listed[k].number for k in "acd"}


def test_list_is_limited_to_the_scope(client, world, listed):
    client.force_login(world.handler2)  # dept2 leads c
    response = client.get(reverse("cases:list"))
    assert [c.number for c in response.context["page"]] == [listed["c"].number]
    client.force_login(world.handler3)  # dept3 is a co-unit of c
    assert [c.number for c in client.get(reverse("cases:list")).context["page"]] == [listed["c"].number]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_pages_take_the_same_number_of_queries_whatever_the_page_size(client, world):
    now = timezone.now()
    for i in range(3):
        part = CasePartFactory(
            unit=world.dept, deadline=now + dt.timedelta(hours=i), case__status=Case.Status.DISPATCHED
        )
        CaseFactory(status=Case.Status.HANDLED, lead_unit=world.dept, region=world.c1)
        ExtensionRequest.objects.create(part=part, days=1, reason="r")
        CaseFactory(status=Case.Status.REPORTED, region=world.c1)
        CaseFactory(status=Case.Status.ACCEPTED, region=world.c1, category=world.garbage)
    RoutingRuleFactory(category=world.garbage, unit=world.dept)
    member(world.dept, Role.DISPATCHER, user=world.handler)  # one person sees every page
    client.force_login(world.handler)
    urls = [
        reverse("cases:list"),
        reverse("cases:unit_queue"),
        reverse("cases:verify_queue"),
        reverse("cases:extensions"),
        reverse("cases:dispatch_queue"),
        reverse("cases:dispatch_queue") + "?tab=dispatch",
    ]
    few = [_queries(client, u) for u in urls]
    for i in range(30):
        part = CasePartFactory(
            unit=world.dept, deadline=now + dt.timedelta(hours=i), case__status=Case.Status.DISPATCHED
        )
        CaseFactory(status=Case.Status.HANDLED, lead_unit=world.dept, region=world.c1)
        ExtensionRequest.objects.create(part=part, days=1, reason="r")
        CaseFactory(status=Case.Status.REPORTED, region=world.c1)
        CaseFactory(
            status=Case.Status.ACCEPTED,
            region=(world.c1, world.c2)[i % 2],
            category=(world.garbage, world.road)[i % 2],
        )
    many = [_queries(client, u + ("&" if "?" in u else "?") + "per_page=50") for u in urls]
    assert many == few


# ---------------------------------------------------------------------------------------------
# Menu, home tasks and the map settings


def test_home_and_menu_show_each_role_its_case_work(client, world):
    client.force_login(world.collector)
    body = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("cases:report")}"' in body and "我上报的案件" in body
    assert reverse("cases:dispatch_queue") not in body
    client.force_login(world.handler)
    body = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("cases:unit_queue")}"' in body
    assert reverse("cases:dispatch_queue") not in body and reverse("cases:report") not in body
    client.force_login(world.dispatcher)
    body = client.get(reverse("home")).content.decode()
    for name in ("dispatch_queue", "verify_queue", "extensions", "summary", "metrics"):
        assert reverse(f"cases:{name}") in body


def test_map_follows_the_tile_settings_and_works_without_tiles(client, world, settings):
    report(client, world)
    case = Case.objects.get()
    client.force_login(world.dispatcher)
    settings.MAP_TILE_URL = ""
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert '"tiles": ""' in body and f'"lat": {float(case.lat)}' in body  # pins still drawn
    assert f"{case.lat}, {case.lng}" in body  # and the coordinates are written out
    settings.MAP_TILE_URL = "https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8"
    settings.MAP_TILE_CRS = "gcj02"
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "autonavi" in body and '"crs": "gcj02"' in body
    client.force_login(world.collector)
    form = client.get(reverse("cases:report")).content.decode()
    assert 'name="lat"' in form and 'name="lng"' in form and "使用手机定位" in form


def test_a_second_report_of_the_same_problem_is_told_about_the_first(client, world):
    report(client, world)
    first = Case.objects.get()
    response = report(client, world, description="又见垃圾")
    assert any(f"附近已有同类未结案件 {first.number}" in m for m in messages_of(response))
    second = Case.objects.exclude(pk=first.pk).get()
    client.force_login(world.dispatcher)
    detail = client.get(reverse("cases:detail", args=[second.pk])).content.decode()
    assert "疑似重复的未结案件" in detail and first.number in detail


def test_a_handler_of_two_units_chooses_which_part_to_act_for(client, world):
    member(world.dept2, Role.HANDLER, user=world.handler)
    report(client, world)
    case = Case.objects.get()
    post(client, world.dispatcher, act(case, "accept"))
    post(
        client,
        world.dispatcher,
        act(case, "dispatch"),
        {"lead_unit": world.dept.pk, "co_units": [world.dept2.pk]},
    )
    client.force_login(world.handler)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert act(case, "start") in page and "以哪个单位办理" in page  # the page asks which unit
    response = post(client, world.handler, act(case, "start"))
    assert any("请选择以哪个责任单位的身份操作" in m for m in messages_of(response))
    assert not case.parts.filter(status=CasePart.Status.HANDLING).exists()
    co = case.parts.get(unit=world.dept2)
    post(client, world.handler, act(case, "start"), {"part": co.pk})
    co.refresh_from_db()
    assert co.status == CasePart.Status.HANDLING
    assert case.parts.get(unit=world.dept).status == CasePart.Status.DISPATCHED


def test_a_denied_extension_leaves_the_deadline(client, world):
    report(client, world)
    case = Case.objects.get()
    post(client, world.dispatcher, act(case, "accept"))
    post(client, world.dispatcher, act(case, "dispatch"), {"lead_unit": world.dept.pk})
    post(client, world.handler, act(case, "request_extension"), {"days": 3, "reason": "材料未到"})
    part = case.parts.get()
    deadline = part.deadline
    request = ExtensionRequest.objects.get()
    response = post(
        client,
        world.dispatcher,
        act(case, "decide_extension"),
        {"request": request.pk, "approve": "0", "note": "理由不足", "next": reverse("cases:extensions")},
    )
    assert response.redirect_chain[-1][0] == reverse("cases:extensions")
    assert "已驳回延期申请" in messages_of(response)
    request.refresh_from_db()
    part.refresh_from_db()
    assert request.status == ExtensionRequest.Status.DENIED and part.deadline == deadline
    assert "没有待审批的延期申请" in response.content.decode()
    # A second decision on the same request is refused and changes nothing.
    response = post(
        client, world.dispatcher, act(case, "decide_extension"), {"request": request.pk, "approve": "1"}
    )
    assert any("操作未完成" in m for m in messages_of(response))
    part.refresh_from_db()
    assert part.deadline == deadline


def test_next_never_leaves_the_site(client, world):
    report(client, world)
    case = Case.objects.get()
    client.force_login(world.dispatcher)
    response = client.post(act(case, "accept"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
