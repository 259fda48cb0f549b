"""The case loop through the services: every step allowed and refused by role, scope and state;
deadlines (the working-hours clock, 08:30–12:00 and 14:30–18:00 by default) across the Spring
Festival and National Day 2026 with their 调休 working days; joint cases; duplicates; photos."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cases import photos, services
from cases.models import Case, CaseEvent, CasePart, CasePhoto, ExtensionRequest
from cases.services import (
    accept_case,
    allowed_actions,
    decide_extension,
    dispatch_case,
    find_duplicates,
    handle_part,
    merge_case,
    reclassify_case,
    register_close_guard,
    reject_case,
    report_case,
    request_extension,
    return_case,
    rework_case,
    start_handling,
    verify_case,
)
from cases.tests.conftest import SHANGHAI, actor, at, jpeg
from cases.tests.factories import CategoryFactory, RoutingRuleFactory
from org.errors import ActionRefused
from workdays.clock import add_working_days, periods_on, working_time_between
from workdays.models import DeadlineRule

pytestmark = pytest.mark.django_db


def report(w, user=None, category=None, where=None, **kwargs):
    lat, lng = where or w.in_grid
    kwargs.setdefault("photos_uploaded", [jpeg()])
    return report_case(
        actor(user or w.collector),
        category=category or w.road,
        description="人行道地砖破损",
        lat=lat,
        lng=lng,
        **kwargs,
    )


def dispatched(w, co_units=()):
    case = accept_case(actor(w.dispatcher), report(w))
    return dispatch_case(actor(w.dispatcher), case, w.dept, co_units)


def handled(w):
    case = dispatched(w)
    return handle_part(actor(w.handler), case, [jpeg()])


def snapshot(case):
    """Everything a refused step must leave untouched."""
    case = Case.objects.get(pk=case.pk)
    return (
        model_to_dict(case),
        list(case.parts.values()),
        case.events.count(),
        list(ExtensionRequest.objects.filter(part__case=case).values()),
        case.photos.count(),
    )


def refused(exc, fn, case, *args, **kwargs):
    before = snapshot(case)
    with pytest.raises(exc):
        fn(*args, **kwargs)
    assert snapshot(case) == before


# --- the whole loop -----------------------------------------------------------------------------


def test_a_case_walks_the_whole_loop_and_the_timeline_names_every_actor(world, clock):
    w = world
    clock.set(at(2026, 3, 2, 9))
    case = report(w)
    assert case.number == "2026-000001"
    assert (case.status, case.region, case.grid, case.source) == ("reported", w.c1, w.grid, "collector")
    assert case.reporter_unit == w.committee
    clock.set(at(2026, 3, 2, 9, 30))
    case = accept_case(actor(w.dispatcher), case)
    # 1 working day = 7 working hours: 09:30–12:00, 14:30–18:00 (6 h), then 08:30–09:30 Tuesday.
    assert case.status == "accepted" and case.dispatch_deadline == at(2026, 3, 3, 9, 30)
    clock.set(at(2026, 3, 2, 10))
    case = dispatch_case(actor(w.dispatcher), case, w.dept)
    assert case.status == "dispatched" and case.lead_unit == w.dept
    # 道路破损: 5 working days = 35 working hours from Mon 10:00 end at the same time next Monday.
    assert case.handle_deadline == at(2026, 3, 9, 10)
    assert case.close_deadline == at(2026, 3, 11, 10)  # + 2 working days
    clock.set(at(2026, 3, 3, 9))
    case = start_handling(actor(w.handler), case)
    assert case.status == "handling"
    clock.set(at(2026, 3, 4, 15))
    case = handle_part(actor(w.handler), case, [jpeg()], note="已更换地砖")
    assert case.status == "handled" and case.handled_at == at(2026, 3, 4, 15)
    assert case.verify_deadline == at(2026, 3, 6, 15)  # 2 working days from Wed 15:00: Fri 15:00
    clock.set(at(2026, 3, 5, 9))
    case = verify_case(actor(w.dispatcher), case)
    assert case.status == "closed" and case.closed_at == at(2026, 3, 5, 9) and case.due_at is None
    timeline = list(case.events.values_list("action", "actor__username", "actor_role", "actor_unit__code"))
    assert timeline == [
        ("report", "collector", "collector", "S1C1"),
        ("accept", "dispatcher", "dispatcher", "DISPATCH"),
        ("dispatch", "dispatcher", "dispatcher", "DISPATCH"),
        ("start", "handler", "handler", "D-1"),
        ("handle", "handler", "handler", "D-1"),
        ("close", "dispatcher", "dispatcher", "DISPATCH"),
    ]
    assert list(case.photos.values_list("kind", flat=True)) == ["before", "after"]
    assert allowed_actions(w.dispatcher, case) == []


def test_case_numbers_count_per_year(world, clock):
    w = world
    clock.set(at(2026, 12, 31, 10))
    assert report(w).number == "2026-000001"
    assert report(w).number == "2026-000002"
    clock.set(at(2027, 1, 4, 10))
    assert report(w).number == "2027-000001"


# --- report -------------------------------------------------------------------------------------


def test_report_checks_location_scope_category_text_and_photo(world):
    w = world
    with pytest.raises(ValidationError, match="范围"):
        report(w, where=("39.9", "116.4"))  # Beijing: outside the district
    with pytest.raises(PermissionDenied):
        report(w, where=w.in_c2)  # C2 is not the collector's community
    with pytest.raises(ValidationError):
        report(w, where=("abc", "106.73"))
    with pytest.raises(ValidationError, match="照片"):
        report(w, photos_uploaded=[])
    w.road.active = False
    w.road.save()
    with pytest.raises(ValidationError, match="停用"):
        report(w)
    with pytest.raises(PermissionDenied):
        report(w, user=w.handler)  # a unit handler does not report
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0


def test_district_wide_reporters_report_anywhere_and_citizens_only_through_appeals(world):
    w = world
    assert report(w, user=w.inspector, where=w.in_c2).source == "inspection"
    assert report(w, user=w.dispatcher, where=w.in_c2, photos_uploaded=[]).source == "clerk"
    assert report(w, user=w.chief).source == "collector"
    lat, lng = w.in_c2
    citizen = services.Actor(user=None, via="public")
    case = report_case(citizen, category=w.road, description="路灯不亮", lat=lat, lng=lng, source="appeal")
    assert (case.source, case.region, case.reporter) == ("appeal", w.c2, None)
    with pytest.raises(PermissionDenied):
        report_case(citizen, category=w.road, description="x", lat=lat, lng=lng)


def test_photos_are_validated_by_content_and_published_without_metadata(world):
    w = world
    fake = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    with pytest.raises(ValidationError, match="有效"):
        report(w, photos_uploaded=[jpeg(), fake])
    gif = SimpleUploadedFile("x.jpg", b"GIF89a" + b"\x00" * 40, content_type="image/jpeg")
    with pytest.raises(ValidationError):
        report(w, photos_uploaded=[gif])
    assert Case.objects.count() == 0
    case = report(w, photos_uploaded=[jpeg(exif_gps=True, size=(2400, 1200))])
    photo = case.photos.get()
    assert photo.original.name.startswith("private/cases/")
    assert not photo.image.name.startswith("private/")
    with default_storage.open(photo.original.name) as f:
        assert Image.open(f).getexif().get(0x010F) == "PhoneMaker"
    with default_storage.open(photo.image.name) as f:
        public = Image.open(f)
        assert not public.getexif() and public.size == (1600, 800)
    with default_storage.open(photo.thumbnail.name) as f:
        assert max(Image.open(f).size) == 320
    assert len(photo.sha256) == 64 and photo.size > 0


def test_photo_size_limit(world, settings):
    settings.UPLOAD_MAX_IMAGE_BYTES = 500
    with pytest.raises(ValidationError, match="不能超过"):
        report(world, photos_uploaded=[jpeg(size=(400, 400))])


# --- accept, reject, merge ------------------------------------------------------------------------


def test_accept_reject_merge_need_a_dispatcher_or_hq(world):
    w = world
    case = report(w)
    for user in (w.collector, w.handler, w.inspector):
        refused(PermissionDenied, accept_case, case, actor(user), case)
        refused(PermissionDenied, reject_case, case, actor(user), case, "重复")
    refused(ValidationError, reject_case, case, actor(w.dispatcher), case, "  ")
    case = reject_case(actor(w.hq), case, "非本区管辖")
    assert case.status == "rejected" and case.ended_at is not None
    assert case.events.last().reason == "非本区管辖"
    refused(ActionRefused, accept_case, case, actor(w.dispatcher), case)
    refused(ActionRefused, dispatch_case, case, actor(w.dispatcher), case, w.dept)


def test_duplicates_are_suggested_and_merged_into_an_open_case(world, clock):
    w = world
    first = report(w, category=w.garbage)
    near = report(w, category=w.garbage, where=("31.845200", "106.730100"))  # about 24 m away
    far = report(w, category=w.garbage, where=("31.848000", "106.730000"))  # about 330 m
    other_kind = report(w, category=w.road)
    assert find_duplicates(w.garbage, near.lat, near.lng, exclude=near) == [first]
    assert near.events.get().data["duplicates"] == [first.pk]
    assert far.events.get().data["duplicates"] == []
    assert other_kind.events.get().data["duplicates"] == []
    merged = merge_case(actor(w.dispatcher), near, first, "同一处垃圾")
    assert (merged.status, merged.merged_into) == ("merged", first)
    assert find_duplicates(w.garbage, first.lat, first.lng, exclude=first) == []
    refused(ValidationError, merge_case, far, actor(w.dispatcher), far, far)
    refused(ActionRefused, merge_case, far, actor(w.dispatcher), far, merged)  # not into a merged one
    rejected = reject_case(actor(w.dispatcher), other_kind, "无效")
    refused(ActionRefused, merge_case, far, actor(w.dispatcher), far, rejected)
    refused(PermissionDenied, merge_case, far, actor(w.collector), far, first)


# --- dispatch, return -----------------------------------------------------------------------------


def test_dispatch_records_the_routing_suggestion_and_the_override(world):
    w = world
    RoutingRuleFactory(category=w.road, region=w.c1, unit=w.dept2)
    case = accept_case(actor(w.dispatcher), report(w))
    refused(PermissionDenied, dispatch_case, case, actor(w.handler), case, w.dept)
    case = dispatch_case(actor(w.dispatcher), case, w.dept)
    data = case.events.get(action="dispatch").data
    assert data["suggested_unit"] == w.dept2.pk and data["overridden"] is True
    refused(ActionRefused, dispatch_case, case, actor(w.dispatcher), case, w.dept)


def test_a_report_must_be_accepted_before_dispatch(world):
    case = report(world)
    refused(ActionRefused, dispatch_case, case, actor(world.dispatcher), case, world.dept)


def test_lead_return_sends_the_case_back_and_it_is_redispatched(world, clock):
    w = world
    case = dispatched(w, co_units=[w.dept2])
    refused(PermissionDenied, return_case, case, actor(w.handler3), case, "不归我管")
    refused(ValidationError, return_case, case, actor(w.handler), case, "")
    refused(PermissionDenied, return_case, case, actor(w.dispatcher), case, "x")
    case = return_case(actor(w.handler), case, "应由住建部门处理")
    assert (case.status, case.return_count, case.lead_unit) == ("returned", 1, None)
    assert set(case.parts.values_list("status", flat=True)) == {"returned"}
    assert allowed_actions(w.handler, case) == []
    assert "dispatch" in allowed_actions(w.dispatcher, case)
    first_dispatch = case.dispatched_at
    clock.set(at(2026, 3, 3, 9))
    case = dispatch_case(actor(w.dispatcher), case, w.dept3)
    assert case.status == "dispatched" and case.lead_unit == w.dept3
    assert case.dispatched_at == first_dispatch  # the on-time dispatch metric judges the first one
    assert case.parts.filter(status="dispatched").get().unit == w.dept3


def test_co_unit_return_ends_only_its_part(world):
    w = world
    case = dispatched(w, co_units=[w.dept2])
    case = handle_part(actor(w.handler), case, [jpeg()])
    assert case.status == "handling"  # the co-unit has not handled yet
    case = return_case(actor(w.handler2), case, "非本单位职责")
    assert case.status == "handled" and case.return_count == 1  # every remaining part is handled
    assert case.parts.get(unit=w.dept2).status == "returned"


# --- handling, extension, joint cases -------------------------------------------------------------


def test_only_the_units_handlers_act_on_their_part(world):
    w = world
    case = dispatched(w)
    for user in (w.handler2, w.dispatcher, w.collector):
        refused(PermissionDenied, start_handling, case, actor(user), case)
        refused(PermissionDenied, handle_part, case, actor(user), case, [jpeg()])
        refused(PermissionDenied, request_extension, case, actor(user), case, 2, "材料未到")
    refused(ValidationError, handle_part, case, actor(w.handler), case, [])  # the after-photo
    case = start_handling(actor(w.handler), case)
    refused(ActionRefused, start_handling, case, actor(w.handler), case)
    case = handle_part(actor(w.handler), case, [jpeg()])
    refused(ActionRefused, handle_part, case, actor(w.handler), case, [jpeg()])
    refused(ActionRefused, return_case, case, actor(w.handler), case, "晚了")


def test_joint_case_is_handled_when_every_part_is(world):
    w = world
    case = dispatched(w, co_units=[w.dept2, w.dept3, w.dept])
    assert case.parts.count() == 3 and case.parts.get(is_lead=True).unit == w.dept
    case = handle_part(actor(w.handler2), case, [jpeg()])
    assert case.status == "handling"
    assert allowed_actions(w.handler2, case) == []
    assert "handle" in allowed_actions(w.handler3, case)
    case = handle_part(actor(w.handler), case, [jpeg()])
    assert case.status == "handling" and case.handled_at is None
    case = handle_part(actor(w.handler3), case, [jpeg()])
    assert case.status == "handled"
    assert set(case.events.filter(action="handle").values_list("actor_unit__code", flat=True)) == {
        "D-1",
        "D-2",
        "D-3",
    }


def test_extension_approved_moves_the_parts_deadline_in_working_days(world, clock):
    w = world
    # Friday 10:00; 5 working days: 5.5 h on 18, then 20 (调休 Sunday), 21, 22, 23, and 1.5 h on 24.
    clock.set(at(2026, 9, 18, 10))
    case = dispatched(w, co_units=[w.dept2])
    assert case.handle_deadline == at(2026, 9, 24, 10)
    refused(ValidationError, request_extension, case, actor(w.handler), case, 0, "x")
    refused(ValidationError, request_extension, case, actor(w.handler), case, 3, "")
    ext = request_extension(actor(w.handler), case, 3, "需采购材料")
    refused(ActionRefused, request_extension, case, actor(w.handler), case, 1, "再延")
    refused(PermissionDenied, decide_extension, case, actor(w.handler), case, ext, True)
    ext = decide_extension(actor(w.dispatcher), case, ext, True, "同意")
    part = CasePart.objects.get(pk=ext.part_id)
    # +3 working days from the deadline (24 Sep 10:00); Mid-Autumn 25–27 is off: 5.5 h on 24,
    # 28, 29, and 1.5 h on 30.
    assert part.deadline == at(2026, 9, 30, 10) and part.extension_days == 3
    assert (part.deadline_rule, part.time_limit, part.deadline_provisional) == ("working_hours", 5, False)
    case.refresh_from_db()
    assert case.extension_count == 1 and case.handle_deadline == part.deadline
    assert case.due_at == at(2026, 9, 24, 10)  # the co-unit's clock still runs first
    refused(ActionRefused, decide_extension, case, actor(w.dispatcher), case, ext, True)
    denied = decide_extension(
        actor(w.hq), case, request_extension(actor(w.handler2), case, 2, "人手不足"), False, "不同意"
    )
    assert denied.status == "denied"
    assert CasePart.objects.get(unit=w.dept2).deadline == at(2026, 9, 24, 10)


# --- verify, rework -------------------------------------------------------------------------------


def test_verify_and_rework_belong_to_dispatchers_and_need_a_handled_case(world, clock):
    w = world
    case = dispatched(w)
    refused(ActionRefused, verify_case, case, actor(w.dispatcher), case)
    refused(ActionRefused, rework_case, case, actor(w.dispatcher), case, "没修好")
    clock.set(at(2026, 3, 3, 16))
    case = handle_part(actor(w.handler), case, [jpeg()])
    refused(PermissionDenied, verify_case, case, actor(w.handler), case)
    refused(PermissionDenied, verify_case, case, actor(w.collector), case)
    refused(ValidationError, rework_case, case, actor(w.dispatcher), case, " ")
    close_deadline = case.close_deadline
    clock.set(at(2026, 3, 4, 9))
    case = rework_case(actor(w.dispatcher), case, "地砖仍松动")
    assert (case.status, case.rework_count) == ("handling", 1)
    assert case.handle_deadline == at(2026, 3, 11, 9)  # new 5 working days from Wed 09:00
    assert case.close_deadline == close_deadline
    part = case.parts.get()
    assert part.status == "handling" and part.handled_at is None and part.deadline == case.handle_deadline
    case = handle_part(actor(w.handler), case, [jpeg()])
    case = verify_case(actor(w.hq), case)
    assert case.status == "closed" and case.rework_count == 1


def test_allowed_actions_by_role_and_state(world):
    w = world
    case = report(w)
    assert allowed_actions(w.dispatcher, case) == ["accept", "reject", "merge", "reclassify"]
    assert allowed_actions(w.collector, case) == []
    case = accept_case(actor(w.dispatcher), case)
    assert allowed_actions(w.hq, case) == ["reclassify", "dispatch"]
    case = dispatch_case(actor(w.dispatcher), case, w.dept)
    assert allowed_actions(w.handler, case) == ["start", "return", "request_extension", "handle"]
    assert allowed_actions(w.handler2, case) == []
    assert allowed_actions(w.dispatcher, case) == []  # no reclassify after dispatch
    request_extension(actor(w.handler), case, 1, "等待配合")
    assert allowed_actions(w.dispatcher, case) == ["decide_extension"]
    case = handle_part(actor(w.handler), case, [jpeg()])
    assert allowed_actions(w.dispatcher, case) == ["verify", "rework"]
    assert allowed_actions(w.handler, case) == []


# --- deadlines across the holidays ----------------------------------------------------------------


@pytest.mark.parametrize(
    "dispatched_at, deadline",
    [
        # 5 working days = 35 working hours (08:30–12:00, 14:30–18:00).
        # Spring Festival 2026: 15–23 Feb off; Sat 14 Feb and Sat 28 Feb are working days (调休).
        (at(2026, 2, 13, 10), at(2026, 2, 27, 10)),  # 5.5 h on 13, 14, 24, 25, 26, 1.5 h on 27
        (at(2026, 2, 13, 18), at(2026, 2, 27, 18)),  # after hours: 14, 24, 25, 26, 27 whole
        (at(2026, 2, 15, 10), at(2026, 2, 28, 18)),  # a holiday: 24, 25, 26, 27, 28 whole
        (at(2026, 2, 27, 10), at(2026, 3, 5, 10)),  # 5.5 h on 27, 28, 2, 3, 4, 1.5 h on 5
        # National Day 2026: 1–7 Oct off; Sat 10 Oct is a working day.
        (at(2026, 9, 30, 9), at(2026, 10, 13, 9)),  # 6.5 h on 30, 8, 9, 10, 12, 0.5 h on 13
        (at(2026, 9, 30, 17, 45), at(2026, 10, 13, 17, 45)),  # 0.25 h on 30, ..., 6.75 h on 13
    ],
)
def test_five_working_day_deadline_across_the_holidays(world, clock, dispatched_at, deadline):
    clock.set(dispatched_at)
    case = dispatched(world)
    assert case.handle_deadline == deadline
    assert case.parts.get().deadline == deadline


def test_urgent_cases_count_hours_through_the_holiday(world, clock):
    w = world
    clock.set(at(2026, 10, 1, 20))
    case = report(w, category=w.gas, urgent=True)
    case = dispatch_case(actor(w.dispatcher), accept_case(actor(w.dispatcher), case), w.dept)
    assert case.handle_deadline == at(2026, 10, 1, 21)
    not_urgent = report(w, category=w.gas)
    not_urgent = dispatch_case(actor(w.dispatcher), accept_case(actor(w.dispatcher), not_urgent), w.dept)
    assert not_urgent.handle_deadline == at(2026, 10, 8, 18)  # 1 working day: all of 8 Oct


@settings(max_examples=40, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 20)),
    days=st.integers(min_value=1, max_value=10),
)
def test_deadline_property_ends_in_working_time_after_exactly_n_working_days(moment, days):
    start = moment.replace(tzinfo=SHANGHAI)
    deadline = add_working_days(start, days, DeadlineRule.WORKING_HOURS)
    local = deadline.astimezone(SHANGHAI)
    assert any(begin <= local.time() <= end for begin, end in periods_on(local.date()))
    assert working_time_between(start, deadline) == dt.timedelta(hours=7 * days)


def test_refused_steps_by_state_change_nothing(world):
    w = world
    case = report(w)
    for fn, args in (
        (start_handling, ()),
        (handle_part, ([jpeg()],)),
        (verify_case, ()),
        (rework_case, ("x",)),
        (return_case, ("x",)),
    ):
        user = w.handler if fn in (start_handling, handle_part, return_case) else w.dispatcher
        refused((ActionRefused, PermissionDenied), fn, case, actor(user), case, *args)
    closed = verify_case(actor(w.dispatcher), handled(w))
    refused(ActionRefused, rework_case, closed, actor(w.dispatcher), closed, "再查")
    refused(ActionRefused, reject_case, closed, actor(w.dispatcher), closed, "无效")
    assert CaseEvent.objects.filter(case=closed).last().action == "close"


def test_more_refusals_merge_extension_and_dispatch(world):
    w = world
    open_case = report(w)
    accepted = accept_case(actor(w.dispatcher), report(w))
    refused(ActionRefused, merge_case, accepted, actor(w.dispatcher), accepted, open_case)  # only reports
    w.dept3.is_active = False
    w.dept3.save()
    refused(ValidationError, dispatch_case, accepted, actor(w.dispatcher), accepted, w.dept3)
    refused(ValidationError, dispatch_case, accepted, actor(w.dispatcher), accepted, w.dept, [w.dept3])
    case = dispatch_case(actor(w.dispatcher), accepted, w.dept, [w.dept2])
    ext = request_extension(actor(w.handler), case, 2, "等材料")
    case = handle_part(actor(w.handler), case, [jpeg()])
    # The part is handled now: its pending request is withdrawn and can no longer be decided.
    ext.refresh_from_db()
    assert ext.status == "withdrawn" and ext.decided_at is not None
    refused(ActionRefused, decide_extension, case, actor(w.dispatcher), case, ext, True)
    assert "decide_extension" not in allowed_actions(w.dispatcher, case)
    other = dispatched(w)
    refused(ValidationError, decide_extension, other, actor(w.dispatcher), other, ext, False)
    pending = request_extension(actor(w.handler), other, 1, "等待")
    return_case(actor(w.handler), other, "不归本单位")
    pending.refresh_from_db()
    assert pending.status == "withdrawn"
    refused(ValidationError, request_extension, case, actor(w.handler2), case, 99, "太久")


# --- reclassify 改类 -----------------------------------------------------------------------------


def test_a_dispatcher_reclassifies_before_dispatch_and_the_deadline_follows(world, clock):
    w = world
    case = report(w)  # 道路破损, 5 working days
    case = reclassify_case(actor(w.dispatcher), case, w.garbage, "实为暴露垃圾")
    event = case.events.get(action="reclassify")
    assert (event.actor, event.actor_role, event.reason) == (w.dispatcher, "dispatcher", "实为暴露垃圾")
    assert (event.data["previous"], event.data["category"]) == (w.road.pk, w.garbage.pk)
    case = accept_case(actor(w.dispatcher), case)
    case = reclassify_case(actor(w.hq), case, w.road, "核实为路面破损")
    case = reclassify_case(actor(w.dispatcher), case, w.garbage, "再次核实为垃圾")
    clock.set(at(2026, 3, 2, 10))
    case = dispatch_case(actor(w.dispatcher), case, w.dept)
    assert Case.objects.get(pk=case.pk).category == w.garbage
    assert case.handle_deadline == at(2026, 3, 3, 10)  # garbage's 1 working day
    assert case.events.filter(action="reclassify").count() == 3


def test_reclassify_is_refused_after_dispatch_and_without_role_reason_or_change(world):
    w = world
    case = report(w)
    refused(PermissionDenied, reclassify_case, case, actor(w.collector), case, w.garbage, "x")
    refused(PermissionDenied, reclassify_case, case, actor(w.handler), case, w.garbage, "x")
    refused(ValidationError, reclassify_case, case, actor(w.dispatcher), case, w.garbage, "  ")
    refused(ValidationError, reclassify_case, case, actor(w.dispatcher), case, w.road, "同类")
    w.garbage.active = False
    w.garbage.save()
    refused(ValidationError, reclassify_case, case, actor(w.dispatcher), case, w.garbage, "x")
    unsure = CategoryFactory(public_only=True)
    refused(ValidationError, reclassify_case, case, actor(w.dispatcher), case, unsure, "x")
    case = dispatched(w)
    with pytest.raises(ActionRefused, match="已派遣"):
        reclassify_case(actor(w.dispatcher), case, w.gas, "x")
    assert Case.objects.get(pk=case.pk).category == w.road


def test_citizens_only_categories_are_refused_to_staff_reporters(world):
    w = world
    unsure = CategoryFactory(public_only=True)
    for user in (w.collector, w.inspector, w.dispatcher):
        with pytest.raises(ValidationError, match="仅供群众"):
            report(w, user=user, category=unsure)
    lat, lng = w.in_c2
    citizen = services.Actor(user=None, via="public")
    case = report_case(
        citizen, category=unsure, description="不知道算什么", lat=lat, lng=lng, source="appeal"
    )
    assert case.category == unsure
    taken_down = report(w, user=w.dispatcher, category=unsure, photos_uploaded=[], for_citizen=True)
    assert taken_down.category == unsure
    assert Case.objects.count() == 2


# --- close guards (extension point for other apps) -----------------------------------------------


@pytest.fixture
def close_guard(monkeypatch):
    """A guard refusing to close cases whose description says so, registered for one test."""
    monkeypatch.setattr(services, "_close_guards", list(services._close_guards))

    def guard(case):
        if "待回访" in case.description:
            raise ActionRefused("测试规则：请先回访")

    register_close_guard(guard)
    register_close_guard(guard)  # registering twice adds it once
    assert services._close_guards.count(guard) == 1
    return guard


def test_a_close_guard_refuses_closing_and_nothing_changes(world, close_guard):
    w = world
    case = handled(w)
    Case.objects.filter(pk=case.pk).update(description="待回访")
    before = snapshot(case)
    with pytest.raises(ActionRefused, match="测试规则：请先回访"):
        verify_case(actor(w.dispatcher), case)
    assert snapshot(case) == before
    Case.objects.filter(pk=case.pk).update(description="已回访")
    assert verify_case(actor(w.dispatcher), Case.objects.get(pk=case.pk)).status == "closed"


# --- photo files follow the transaction ------------------------------------------------------------


def _stored_files() -> set[str]:
    found = set()
    for top in ("private/cases", "cases/photos", "cases/thumbs"):
        stack = [top]
        while stack:
            folder = stack.pop()
            if not default_storage.exists(folder):
                continue
            dirs, files = default_storage.listdir(folder)
            stack += [f"{folder}/{d}" for d in dirs]
            found |= {f"{folder}/{f}" for f in files}
    return found


def test_photos_stored_in_a_step_that_rolls_back_are_deleted(world, monkeypatch):
    w = world
    case = dispatched(w)
    before = _stored_files()
    assert len(before) == 3  # the before-photo: original, display copy, thumbnail
    real_store = photos.store
    calls = []

    def store_then_fail(*args, **kwargs):
        calls.append(real_store(*args, **kwargs))
        if len(calls) == 2:
            raise OSError("disk full")  # the second photo's row fails after its files are saved
        return calls[-1]

    monkeypatch.setattr(photos, "store", store_then_fail)
    with pytest.raises(OSError):
        handle_part(actor(w.handler), case, [jpeg(), jpeg()])
    assert len(calls) == 2  # six files were written ...
    assert _stored_files() == before  # ... and are gone with the rolled-back step
    assert Case.objects.get(pk=case.pk).status == "dispatched" and case.photos.count() == 1
    monkeypatch.setattr(photos, "store", real_store)
    handle_part(actor(w.handler), case, [jpeg(), jpeg()])
    assert len(_stored_files()) == 9


def test_a_photos_block_nested_in_one_that_rolls_back_loses_its_files(world):
    w = world
    with pytest.raises(RuntimeError), photos.atomic():
        report(w)
        assert len(_stored_files()) == 3
        raise RuntimeError("the caller's own step failed")
    assert _stored_files() == set() and Case.objects.count() == 0


def test_the_original_name_cannot_be_derived_from_the_public_copy(world):
    case = report(world, photos_uploaded=[jpeg(), jpeg()])
    for photo in case.photos.all():
        public_stem = photo.image.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        thumb_stem = photo.thumbnail.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        original = photo.original.name
        assert original.startswith("private/cases/")
        assert public_stem not in original and thumb_stem not in original
