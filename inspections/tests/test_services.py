"""The inspection steps through their services: planning and the draw, submitting (and every
bad submission changing nothing), scores, findings to cases through the case loop, 复查."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cases import services as case_services
from cases.models import Case, CaseEvent
from inspections import services
from inspections.models import Finding, Inspection, InspectionEvent, ItemResult, Round, RoundSite
from org.errors import ActionRefused
from org.models import Site
from org.tests.factories import RegionFactory, SiteFactory

from .conftest import actor, at, jpeg, lines, plan


def submit(world, insp, round_, site=None, uid=None, marked=None, **kwargs):
    return services.submit_inspection(
        actor(world.inspector),
        round_,
        site or insp.m1,
        uid=uid or uuid.uuid4(),
        lines=marked if marked is not None else lines(insp),
        lat=kwargs.pop("lat", "31.845100"),
        lng=kwargs.pop("lng", "106.730100"),
        device=kwargs.pop("device", "iPhone Safari"),
        **kwargs,
    )


def nothing_written():
    return not (Inspection.objects.exists() or Finding.objects.exists() or ItemResult.objects.exists())


# --- Checklists ----------------------------------------------------------------------------------


def test_a_checklist_is_built_from_field_criteria_only(world, insp):
    assert [(i.code, i.points) for i in insp.checklist.items.all()] == [
        ("A", Decimal(10)),
        ("B", Decimal(5)),
        ("C", Decimal(4)),
    ]
    material = services.field_criteria(insp.system).model.objects.get(code="M")
    with pytest.raises(ValidationError):
        services.build_checklist(actor(world.hq), insp.system, Site.Kind.SCHOOL, [material])
    with pytest.raises(PermissionDenied):
        services.build_checklist(actor(world.inspector), insp.system, Site.Kind.SCHOOL, [])


def test_an_item_edit_refuses_a_deduction_above_the_points(world, insp):
    item = insp.items["B"]
    with pytest.raises(ValidationError):
        services.update_check_item(
            actor(world.hq), item, text="公益广告", points=5, rule="fixed", unit_deduction=6
        )
    services.update_check_item(
        actor(world.hq), item, text="公益广告\x00醒目", points=6, rule="fixed", unit_deduction=2
    )
    item.refresh_from_db()
    assert (item.text, item.points, item.unit_deduction) == ("公益广告醒目", Decimal(6), Decimal(2))


# --- Planning and the draw -----------------------------------------------------------------------


@pytest.fixture
def streets(world):
    """Two streets with two communities each and 3 markets + 2 schools per street."""
    district = world.district
    made = []
    for s in (1, 2):
        street = RegionFactory(code=f"DS{s}", name=f"抽样街道{s}", level="street", parent=district)
        for c in (1, 2):
            community = RegionFactory(code=f"DS{s}C{c}", level="community", parent=street)
            for n in range(3 if c == 1 else 0):
                SiteFactory(code=f"D{s}{c}M{n}", region=community, kind=Site.Kind.MARKET)
            for n in range(2 if c == 2 else 0):
                SiteFactory(code=f"D{s}{c}S{n}", region=community, kind=Site.Kind.SCHOOL)
        made.append(street)
    return made


def test_a_draw_is_reproducible_from_its_seed(world, insp, streets):
    draw = services.Draw(seed=20261201, kinds=("market", "school"), street_codes=("DS1", "DS2"), per_group=2)
    first = [s.code for s in services.draw_sites(draw)]
    assert first == [s.code for s in services.draw_sites(draw)]
    assert len(first) == 8  # 2 per type per street
    for street in ("DS1", "DS2"):
        assert sum(1 for c in first if c.startswith(f"D{street[-1]}") and "M" in c[3:]) == 2
    round_ = plan(world, insp, sites=[], draw=draw)
    assert (round_.seed, round_.draw["per_group"]) == (20261201, 2)
    stored = list(
        RoundSite.objects.filter(round=round_).order_by("position").values_list("site__code", "drawn")
    )
    assert stored == [(c, True) for c in first]
    # Anyone auditing the round draws again from the stored seed and parameters and gets the same.
    again = services.Draw(round_.seed, tuple(round_.draw["kinds"]), tuple(round_.draw["streets"]), 2)
    assert [s.code for s in services.draw_sites(again)] == first


def test_a_group_smaller_than_asked_gives_all_of_its_sites(world, insp, streets):
    draw = services.Draw(seed=1, kinds=("school",), street_codes=("DS1",), per_group=5)
    assert sorted(s.code for s in services.draw_sites(draw)) == ["D12S0", "D12S1"]


def test_planning_needs_hq_sites_inspectors_and_a_sane_period(world, insp):
    with pytest.raises(PermissionDenied):
        services.plan_round(
            actor(world.inspector),
            title="x",
            kind="supervision",
            starts_on=dt.date(2026, 3, 2),
            ends_on=dt.date(2026, 3, 2),
            inspectors=[world.inspector],
            sites=[insp.m1],
        )
    with pytest.raises(ValidationError) as refused:
        services.plan_round(
            actor(world.hq),
            title="",
            kind="nonsense",
            starts_on=dt.date(2026, 3, 2),
            ends_on=dt.date(2026, 3, 1),
            inspectors=[],
            sites=[],
        )
    assert set(refused.value.message_dict) == {"title", "kind", "ends_on", "inspectors", "sites"}
    assert not Round.objects.exists()


# --- Submitting ----------------------------------------------------------------------------------


def test_a_submission_scores_the_site_and_lists_its_findings(world, insp):
    round_ = plan(world, insp)
    inspection, created = submit(world, insp, round_)
    assert created
    # Full points 10 + 5 + 4 = 19; A: 2 occurrences × 2 = 4; C fail-all: 4. 19 − 8 = 11 (57.89%).
    assert (inspection.full_points, inspection.deductions, inspection.score) == (19, 8, 11)
    assert services.scoring.inspection_percent(inspection) == Decimal("57.89")
    findings = {f.item.code: f for f in Finding.objects.filter(inspection=inspection)}
    assert set(findings) == {"A", "C"}
    a = findings["A"]
    assert (a.deduction, a.description, a.status) == (4, "垃圾桶满溢", Finding.Status.OPEN)
    assert (a.responsible_unit, a.responsible_leader) == (world.dept, insp.leader)
    # Five working days on the working-hours clock from Monday 2 March 09:00: Monday 9 March 09:00.
    assert timezone.localtime(a.deadline) == timezone.localtime(a.deadline).replace(2026, 3, 9, 9, 0)
    assert inspection.distance_m is not None and inspection.distance_m < 20 and not inspection.far_from_site
    photo = a.photos.get()
    with default_storage.open(photo.image.name) as shown:
        assert not Image.open(shown).getexif()  # the copy pages show carries no EXIF/GPS
    assert default_storage.exists(photo.original.name) and photo.original.name.startswith("private/")
    event = InspectionEvent.objects.get(action="submit")
    assert (event.actor, event.device, event.ip, event.lat) == (
        world.inspector,
        "iPhone Safari",
        "127.0.0.1",
        Decimal("31.845100"),
    )


def test_a_check_in_far_from_the_site_or_without_gps_is_flagged(world, insp, settings):
    settings.INSPECTIONS_CHECKIN_RADIUS_M = 100
    round_ = plan(world, insp)
    far, _ = submit(world, insp, round_, lat="31.846000", lng="106.730000")  # about 111 m north
    assert far.far_from_site and 105 < far.distance_m < 115
    none, _ = submit(world, insp, round_, site=insp.m2, lat=None, lng=None)
    assert none.far_from_site and none.distance_m is None


def test_sending_the_same_submission_twice_stores_one(world, insp):
    round_ = plan(world, insp)
    uid = uuid.uuid4()
    first, created = submit(world, insp, round_, uid=uid)
    again, created_again = submit(world, insp, round_, uid=uid)
    assert created and not created_again and first.pk == again.pk
    assert Inspection.objects.count() == 1 and Finding.objects.count() == 2
    with pytest.raises(ActionRefused):
        submit(world, insp, round_)  # a second, different submission for the same site


@pytest.mark.parametrize(
    "case",
    [
        "outside",
        "closed",
        "too_much",
        "no_photo",
        "forged",
        "missing_item",
        "not_assigned",
        "before",
        "bad_uid",
    ],
)
def test_a_bad_submission_is_refused_and_changes_nothing(world, insp, clock, case):
    round_ = plan(world, insp, sites=[insp.m1])
    kwargs: dict = {}
    expected: type[Exception] = ValidationError
    if case == "outside":
        kwargs["site"] = insp.m2
    elif case == "closed":
        services.close_round(actor(world.hq), round_)
        expected = ActionRefused
    elif case == "too_much":
        kwargs["marked"] = lines(
            insp, A=services.Line(insp.items["A"].pk, "fail", 5, deduction="7", photos=[jpeg()])
        )  # the cap is 6
    elif case == "no_photo":
        kwargs["marked"] = lines(insp, A=services.Line(insp.items["A"].pk, "fail", 1))
    elif case == "forged":
        fake = SimpleUploadedFile("x.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
        kwargs["marked"] = lines(insp, A=services.Line(insp.items["A"].pk, "fail", 1, photos=[fake]))
    elif case == "missing_item":
        kwargs["marked"] = lines(insp, B=None)
    elif case == "not_assigned":
        round_.inspectors.set([world.dispatcher])
        expected = PermissionDenied
    elif case == "before":
        clock.set(at(2026, 3, 1, 9))
        expected = ActionRefused
    elif case == "bad_uid":
        kwargs["uid"] = "not-a-uuid"
    with pytest.raises(expected):
        submit(world, insp, round_, **kwargs)
    assert nothing_written()
    assert not InspectionEvent.objects.filter(action="submit").exists()


def test_a_failed_line_without_a_deduction_takes_its_rule(world, insp):
    round_ = plan(world, insp)
    marked = lines(
        insp,
        A=services.Line(insp.items["A"].pk, "fail", occurrences=9, photos=[jpeg()]),  # 9 × 2 capped at 6
        B=services.Line(insp.items["B"].pk, "fail", occurrences=4, photos=[jpeg()]),  # fixed 3
        c="na",
    )
    inspection, _ = submit(world, insp, round_, marked=marked)
    # C does not apply: full points 15, deductions 6 + 3.
    assert (inspection.full_points, inspection.deductions, inspection.score) == (15, 9, 6)


# --- 暗访 visibility -----------------------------------------------------------------------------


def visible(user):
    return (
        set(Round.objects.visible_to(user)),
        set(Inspection.objects.visible_to(user)),
        set(Finding.objects.visible_to(user)),
    )


def test_an_unannounced_visit_is_hidden_from_the_inspected_until_published(world, insp):
    round_ = plan(world, insp, kind=Round.Kind.UNANNOUNCED, sites=[insp.m1])
    inspection, _ = submit(world, insp, round_)
    findings = set(inspection.findings.all())
    for user in (world.handler, insp.leader, world.collector):  # contracting unit, leader, community
        assert visible(user) == (set(), set(), set())
    assert visible(world.inspector) == ({round_}, {inspection}, findings)
    finding = inspection.findings.first()
    with pytest.raises(ActionRefused):
        services.finding_to_case(actor(world.hq), finding)
    assert services.allowed_actions(world.hq, round_) == ["close", "publish"]

    services.publish_round(actor(world.hq), round_)
    for user in (world.handler, insp.leader):
        assert visible(user) == ({round_}, {inspection}, findings)
    assert visible(world.handler2) == (set(), set(), set())  # a unit with no part in the site
    with pytest.raises(ActionRefused):
        services.publish_round(actor(world.hq), round_)


def test_other_rounds_are_visible_to_the_inspected_at_once(world, insp):
    round_ = plan(world, insp, kind=Round.Kind.MORNING, sites=[insp.m1])
    inspection, _ = submit(world, insp, round_)
    assert visible(world.handler)[1] == {inspection}
    with pytest.raises(ActionRefused):
        services.publish_round(actor(world.hq), round_)


# --- Findings → cases → 复查 -----------------------------------------------------------------------


def test_findings_become_cases_handled_in_the_loop_and_a_reinspection_closes_them(world, insp, clock):
    round_ = plan(world, insp)
    inspection, _ = submit(world, insp, round_)
    a = inspection.findings.get(item__code="A")
    c = inspection.findings.get(item__code="C")
    with pytest.raises(ValidationError):
        services.finding_to_case(actor(world.hq), c)  # C's item names no case category
    assert (
        services.allowed_actions(world.hq, a) == ["to_case"]
        and services.allowed_actions(world.handler, a) == []
    )
    case = services.finding_to_case(actor(world.hq), a)
    a.refresh_from_db()
    assert a.case == case and case.finding == a and a.status == Finding.Status.IN_CASE
    assert (case.source, case.category, case.region, case.status) == (
        Case.Source.INSPECTION,
        world.garbage,
        world.c1,
        Case.Status.DISPATCHED,
    )
    assert case.lead_unit == world.dept  # the routing rule for 暴露垃圾 in 一街道
    assert case.address == "一社区1号" and "一号市场" in case.description
    assert case.photos.count() == 1
    with pytest.raises(ActionRefused):
        services.finding_to_case(actor(world.hq), a)
    with pytest.raises(ValidationError):
        services.findings_to_cases(actor(world.hq), [c], category=world.road)  # C has no photo
    assert Case.objects.count() == 1

    # The unit handles the case in the loop; the dispatcher closes it.
    clock.set(at(2026, 3, 3, 10))
    case_services.handle_part(actor(world.handler), case, [jpeg()], note="已清运")
    case_services.verify_case(actor(world.dispatcher), Case.objects.get(pk=case.pk))
    assert CaseEvent.objects.filter(case=case, action="close").exists()

    # A 复查 verifies each open finding at the site: A rectified, C not yet.
    clock.set(at(2026, 3, 5, 10))
    recheck = plan(world, insp, kind=Round.Kind.REINSPECTION, sites=[insp.m1], start=dt.date(2026, 3, 5))
    with pytest.raises(ValidationError):
        submit(world, insp, recheck, marked=[], rechecks={a.pk: True})  # C has no verdict
    re_inspection, _ = submit(world, insp, recheck, marked=[], rechecks={a.pk: True, c.pk: False})
    a.refresh_from_db()
    c.refresh_from_db()
    assert (a.status, a.verified_by, a.rectified_at) == (
        Finding.Status.RECTIFIED,
        re_inspection,
        at(2026, 3, 5, 10),
    )
    assert (c.status, c.recheck_failures) == (Finding.Status.OPEN, 1)
    assert services.allowed_actions(world.hq, a) == []


def test_a_reinspection_with_nothing_open_needs_no_verdicts(world, insp):
    recheck = plan(world, insp, kind=Round.Kind.REINSPECTION, sites=[insp.m1])
    inspection, _ = submit(world, insp, recheck, marked=[])
    assert (inspection.full_points, inspection.score) == (0, 0)


def test_a_site_type_without_a_checklist_cannot_be_inspected(world, insp):
    round_ = plan(world, insp, sites=[insp.school])
    with pytest.raises(ValidationError):
        submit(world, insp, round_, site=insp.school, marked=[])
    assert nothing_written()


def test_pending_sites_are_the_inspectors_work_today(world, insp):
    round_ = plan(world, insp)
    assert {rs.site for rs in services.pending_sites(world.inspector)} == {insp.m1, insp.m2}
    submit(world, insp, round_)
    assert {rs.site for rs in services.pending_sites(world.inspector)} == {insp.m2}
    assert not services.pending_sites(world.handler).exists()
    # The same site in another round of the inspector's is still to do there.
    other = plan(world, insp, kind=Round.Kind.UNANNOUNCED, sites=[insp.m1])
    assert {(rs.round, rs.site) for rs in services.pending_sites(world.inspector)} == {
        (round_, insp.m2),
        (other, insp.m1),
    }


def test_a_paper_form_is_entered_with_the_time_of_the_visit(world, insp, clock):
    round_ = plan(world, insp)
    clock.set(at(2026, 3, 9, 9))  # the next Monday, after the round's period
    with pytest.raises(ActionRefused):
        submit(world, insp, round_)
    with pytest.raises(ValidationError):
        submit(world, insp, round_, at=at(2026, 3, 10, 9))  # in the future
    inspection, _ = submit(world, insp, round_, at=at(2026, 3, 3, 6, 30))
    assert inspection.submitted_at == at(2026, 3, 3, 6, 30)
    assert timezone.localtime(inspection.findings.first().deadline).date() == dt.date(2026, 3, 9)
