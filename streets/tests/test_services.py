import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import Case
from org.errors import ActionRefused
from org.models import AuditLog, Unit
from org.tests.factories import UnitFactory
from streets import services
from streets.models import CheckIn, Duty, Patrol, Report, TrackPoint, Visit

from .conftest import actor, at, jpeg

MONDAY = dt.date(2026, 3, 2)
IN_C1 = ("31.845000", "106.730000")
IN_C2 = ("31.850000", "106.750000")


def _patrol(user, clock=None):
    return services.start_patrol(actor(user), *IN_C1)


# --- rosters -------------------------------------------------------------------------------------


def test_generate_week_from_chiefs_and_grid_workers(world, st):
    # 一街 has a chief, 二街 none; grid G1 has one worker: 2 duties a day, 14 a week.
    added = services.generate_week(actor(st.staff), world.committee, MONDAY)
    assert added == 14
    assert Duty.objects.filter(user=world.chief, segment=st.seg1).count() == 7
    assert Duty.objects.filter(user=world.collector, grid=world.grid).count() == 7
    assert services.generate_week(actor(st.staff), world.committee, MONDAY) == 0
    assert AuditLog.objects.filter(action="streets.roster_generated").count() == 2


def test_generate_week_refusals(world, st):
    with pytest.raises(PermissionDenied):
        services.generate_week(actor(world.collector), world.committee, MONDAY)
    with pytest.raises(PermissionDenied):  # another community's staff
        services.generate_week(actor(st.staff2), world.committee, MONDAY)
    with pytest.raises(ValidationError):
        services.generate_week(actor(st.staff), world.committee, MONDAY + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        services.generate_week(actor(world.hq), world.dept, MONDAY)
    assert not Duty.objects.exists()


def test_swap_duty_is_recorded(world, st):
    services.generate_week(actor(st.staff), world.committee, MONDAY)
    duty = Duty.objects.get(day=MONDAY, segment=st.seg1)
    with pytest.raises(ValidationError):
        services.swap_duty(actor(st.staff), duty, st.staff, "病假")  # not a patroller
    with pytest.raises(ValidationError):
        services.swap_duty(actor(st.staff), duty, world.collector, "")
    services.swap_duty(actor(st.staff), duty, world.collector, "病假")
    duty.refresh_from_db()
    assert duty.user == world.collector
    log = AuditLog.objects.get(action="streets.duty_swapped")
    assert log.summary == "病假" and log.data == {"from_user": world.chief.pk, "to_user": world.collector.pk}


def test_a_single_duty_is_added_and_cancelled_with_its_rules(world, st):
    tuesday = MONDAY + dt.timedelta(days=1)
    duty = services.add_duty(actor(st.staff), world.committee, tuesday, world.chief, segment=st.seg2)
    assert (duty.unit, duty.day, duty.user, duty.segment, duty.grid) == (
        world.committee,
        tuesday,
        world.chief,
        st.seg2,
        None,
    )
    refusals = [
        (ActionRefused, dict(day=tuesday, user=world.chief, segment=st.seg2)),  # the same duty twice
        (ActionRefused, dict(day=MONDAY - dt.timedelta(days=1), user=world.chief, segment=st.seg2)),  # past
        (ValidationError, dict(day=tuesday, user=world.chief, segment=st.seg3)),  # 三街 is 二社区's
        (ValidationError, dict(day=tuesday, user=world.chief)),  # no place
        (ValidationError, dict(day=tuesday, user=world.chief, segment=st.seg1, grid=world.grid)),  # two
        (ValidationError, dict(day=tuesday, user=st.staff, segment=st.seg1)),  # not a patroller
    ]
    for error, kwargs in refusals:
        day, user = kwargs.pop("day"), kwargs.pop("user")
        with pytest.raises(error):
            services.add_duty(actor(st.staff), world.committee, day, user, **kwargs)
    with pytest.raises(PermissionDenied):  # another community's staff
        services.add_duty(actor(st.staff2), world.committee, tuesday, world.collector, grid=world.grid)
    assert Duty.objects.count() == 1
    assert set(services.roster_people(world.committee)) == {world.chief, world.collector}

    with pytest.raises(ValidationError):
        services.cancel_duty(actor(st.staff), duty, "")
    with pytest.raises(PermissionDenied):
        services.cancel_duty(actor(st.staff2), duty, "重复")
    services.cancel_duty(actor(st.staff), duty, "重复排班")
    assert not Duty.objects.exists()
    log = AuditLog.objects.get(action="streets.duty_cancelled")
    assert (
        log.summary == "重复排班" and log.data["user"] == world.chief.pk and log.data["segment"] == st.seg2.pk
    )


def test_todays_duty_cannot_be_cancelled_once_its_patrol_started(world, st):
    duty = services.add_duty(actor(st.staff), world.committee, MONDAY, world.chief, segment=st.seg1)
    _patrol(world.chief)
    with pytest.raises(ActionRefused):
        services.cancel_duty(actor(st.staff), duty, "临时调整")
    assert Duty.objects.filter(pk=duty.pk).exists()


# --- patrols -------------------------------------------------------------------------------------


def test_patrol_on_and_off_roster(world, st):
    services.generate_week(actor(st.staff), world.committee, MONDAY)
    on = _patrol(world.chief)
    off = _patrol(world.collector2)
    assert on.off_roster is False and off.off_roster is True
    with pytest.raises(ActionRefused):
        _patrol(world.chief)
    with pytest.raises(PermissionDenied):
        _patrol(st.staff)
    assert Patrol.objects.count() == 2


def test_track_flags_impossible_jumps_and_ignores_resent_points(world, st, clock):
    patrol = _patrol(world.chief)  # first point at 09:00 at IN_C1
    points = [
        {"at": at(2026, 3, 2, 9, 1).isoformat(), "lat": "31.845450", "lng": "106.730000"},  # ~50 m in 60 s
        {"at": at(2026, 3, 2, 9, 2).isoformat(), "lat": "31.945450", "lng": "106.730000"},  # 11 km in 60 s
        {"at": at(2026, 3, 2, 9, 3).isoformat(), "lat": "31.845900", "lng": "106.730000"},  # ~50 m from 09:01
    ]
    clock.set(at(2026, 3, 2, 9, 5))
    assert services.add_points(actor(world.chief), patrol, points) == 3
    assert services.add_points(actor(world.chief), patrol, points) == 0  # the phone's buffer resent
    patrol.refresh_from_db()
    assert patrol.jumps == 1
    assert [
        str(v) for v in TrackPoint.objects.filter(patrol=patrol, jump=True).values_list("lat", flat=True)
    ] == ["31.945450"]
    assert 95 < patrol.distance_m < 105  # two legs of ~50 m; the jump is not counted


def test_track_point_refusals(world, st, clock):
    patrol = _patrol(world.chief)
    with pytest.raises(ValidationError):  # before the patrol
        services.add_points(
            actor(world.chief), patrol, [{"at": at(2026, 3, 2, 8).isoformat(), "lat": 31, "lng": 106}]
        )
    with pytest.raises(ValidationError):
        services.add_points(actor(world.chief), patrol, [{"at": "soon", "lat": 31, "lng": 106}])
    with pytest.raises(PermissionDenied):
        services.add_points(actor(world.collector), patrol, [])
    assert patrol.points.count() == 1


def test_check_in_near_and_far(world, st):
    patrol = _patrol(world.chief)
    with pytest.raises(ValidationError):
        services.check_in(actor(world.chief), patrol, st.seg1, *IN_C2)
    services.check_in(actor(world.chief), patrol, st.seg1, *IN_C1)
    with pytest.raises(ActionRefused):
        services.check_in(actor(world.chief), patrol, st.seg1, *IN_C1)
    assert CheckIn.objects.count() == 1


def test_end_patrol_summary(world, st, clock):
    patrol = _patrol(world.chief)
    services.check_in(actor(world.chief), patrol, st.seg1, *IN_C1)
    services.check_in(actor(world.chief), patrol, st.seg2, *IN_C1)
    services.report(
        actor(world.chief),
        patrol,
        kind="litter",
        description="路边垃圾",
        lat=IN_C1[0],
        lng=IN_C1[1],
        photos_uploaded=[jpeg()],
    )
    services.report(
        actor(world.chief),
        patrol,
        kind="hardship",
        description="独居老人生病",
        lat=IN_C1[0],
        lng=IN_C1[1],
        person_name="王大明",
        person_phone="13812345678",
    )
    services.log_visit(actor(world.chief), kind="dispute", place="一街3号", note="调解", patrol=patrol)
    clock.set(at(2026, 3, 2, 10, 30))
    patrol = services.end_patrol(actor(world.chief), patrol, *IN_C1)
    assert patrol.summary == {
        "segments": 2,
        "minutes": 90,
        "points": 2,
        "jumps": 0,
        "distance_m": 0.0,
        "reports": 2,
        "cases": 1,
        "social": 1,
        "visits": 1,
    }
    with pytest.raises(ActionRefused):
        services.check_in(actor(world.chief), patrol, st.seg1, *IN_C1)
    assert services.allowed_actions(world.chief, patrol) == []


# --- coverage ------------------------------------------------------------------------------------


def test_coverage_hand_counted(world, st, clock):
    services.generate_week(actor(st.staff), world.committee, MONDAY)
    Duty.objects.create(
        unit=world.committee, day=MONDAY, user=world.collector, segment=st.seg2, created_at=at(2026, 3, 1)
    )
    chief = _patrol(world.chief)
    services.check_in(actor(world.chief), chief, st.seg1, *IN_C1)
    other = _patrol(world.collector2)  # off the roster, 二社区: 三街
    services.check_in(actor(world.collector2), other, st.seg3, *IN_C2)

    c1 = services.coverage(world.committee, MONDAY)  # 一街 patrolled of 一街, 二街
    assert (c1.segments, c1.patrolled, c1.share) == (2, 1, 0.5)
    assert [(d.user, d.segment) for d in c1.missed] == [(world.collector, st.seg2)]
    assert c1.patrol_ids == [chief.pk]
    c2 = services.coverage(world.committee2, MONDAY)
    assert (c2.segments, c2.patrolled, c2.share, c2.missed) == (1, 1, 1.0, [])
    street = UnitFactory(code="S1-OFFICE", kind=Unit.Kind.STREET_OFFICE, region=world.s1)
    s = services.coverage(street, MONDAY)
    assert (s.segments, s.patrolled, s.share) == (3, 2, pytest.approx(2 / 3))
    tuesday = services.coverage(world.committee, MONDAY + dt.timedelta(days=1))
    assert (tuesday.patrolled, tuesday.share) == (0, 0.0)
    assert len(tuesday.missed) == 1  # 一街's chief has a duty, nobody has checked in
    assert services.coverage(world.dept, MONDAY).share is None  # a department answers for no segments


# --- 六必报 / 六必到 ----------------------------------------------------------------------------------


def test_city_report_becomes_a_case_with_the_mapped_category(world, st):
    patrol = _patrol(world.chief)
    item = services.report(
        actor(world.chief),
        patrol,
        kind="litter",
        description="垃圾堆放",
        lat=IN_C1[0],
        lng=IN_C1[1],
        photos_uploaded=[jpeg()],
    )
    case = Case.objects.get()
    assert item.case == case and case.category == world.garbage and case.reporter == world.chief
    assert case.source == Case.Source.COLLECTOR and case.grid == world.grid
    with pytest.raises(ValidationError):  # a field report needs its photo; nothing is written
        services.report(
            actor(world.chief), patrol, kind="facility", description="井盖缺失", lat=IN_C1[0], lng=IN_C1[1]
        )
    with pytest.raises(ValidationError):
        services.report(
            actor(world.chief),
            patrol,
            kind="litter",
            description="x",
            lat=IN_C1[0],
            lng=IN_C1[1],
            person_name="张三",
            photos_uploaded=[jpeg()],
        )
    assert Report.objects.count() == 1 and Case.objects.count() == 1


def test_social_report_visibility_per_role(world, st):
    patrol = _patrol(world.chief)
    item = services.report(
        actor(world.chief),
        patrol,
        kind="newcomer",
        description="新搬来一户",
        lat=IN_C1[0],
        lng=IN_C1[1],
        person_name="李小红",
        person_phone="13987654321",
    )
    assert item.case is None and item.community == world.c1 and not Case.objects.exists()
    seen = {
        u.username: services.social_reports_for(u).count()
        for u in (
            world.hq,
            st.staff,
            world.chief,
            st.staff2,
            world.dispatcher,
            world.inspector,
            world.collector,
            world.handler,
        )
    }
    assert seen == {
        "hq": 1,
        "c1staff": 1,
        "chief": 1,
        "c2staff": 0,
        "dispatcher": 0,
        "inspector": 0,
        "collector": 0,
        "handler": 0,
    }
    assert services.mask_name(item.person_name) == "李**"
    assert services.mask_phone(item.person_phone) == "139****4321"
    assert services.reveal_person(actor(st.staff), item) == {"name": "李小红", "phone": "13987654321"}
    assert AuditLog.objects.filter(action="streets.person_read", actor=st.staff).count() == 1
    for user in (world.chief, st.staff2, world.dispatcher):
        with pytest.raises(PermissionDenied):
            services.reveal_person(actor(user), item)
    assert "李小红" not in str(
        AuditLog.objects.filter(action="streets.reported").values_list("summary", "data")
    )


def test_log_visit(world, st):
    visit = services.log_visit(
        actor(world.chief), kind="emergency", place="一街口", note="协助疏散", lat=IN_C1[0], lng=IN_C1[1]
    )
    assert (visit.user, visit.kind, visit.place) == (world.chief, "emergency", "一街口")
    with pytest.raises(ValidationError):
        services.log_visit(actor(world.chief), kind="party", place="x")
    with pytest.raises(ValidationError):
        services.log_visit(actor(world.chief), kind="emergency", place="")
    with pytest.raises(PermissionDenied):
        services.log_visit(actor(world.dispatcher), kind="emergency", place="x")
    assert Visit.objects.count() == 1


def test_monthly_log_hand_counted(world, st, clock):
    services.generate_week(actor(st.staff), world.committee, MONDAY)  # 7 segment duties for the chief
    monday = _patrol(world.chief)
    services.check_in(actor(world.chief), monday, st.seg1, *IN_C1)
    services.report(
        actor(world.chief), monday, kind="newcomer", description="新户", lat=IN_C1[0], lng=IN_C1[1]
    )
    services.log_visit(actor(world.chief), kind="dispute", place="一街", patrol=monday)
    services.end_patrol(actor(world.chief), monday, *IN_C1)
    clock.set(at(2026, 3, 3, 9))
    tuesday = _patrol(world.chief)  # on the roster, but checks in at 二街, not its duty 一街
    services.check_in(actor(world.chief), tuesday, st.seg2, *IN_C1)
    clock.set(at(2026, 4, 1, 9))
    _patrol(world.collector2)  # April, someone else
    log = services.monthly_log(world.chief, 2026, 3)
    assert (log.duties, log.patrols, log.off_roster, log.checkins) == (7, 2, 0, 2)
    assert log.missed == 6  # Tue–Sun of 一街 (Monday done; Tuesday's check-in was 二街)
    assert log.reports["newcomer"] == 1 and sum(log.reports.values()) == 1
    assert log.visits["dispute"] == 1 and sum(log.visits.values()) == 1
    with pytest.raises(ValidationError):
        services.monthly_log(world.chief, 2026, 13)
