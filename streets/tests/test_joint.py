"""Joint enforcement days 集中联合执法: planning (the "5+3" forces, the lead 举旗子), sign-ins with
GPS and time (far: flagged, not refused), findings as cases or handled on the spot, and the
attendance per unit, hand-counted — through the services, the pages and the API."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from cases.models import Case
from org.errors import ActionRefused
from org.models import AuditLog
from streets import services
from streets.models import JointAction, JointFinding, JointSummons

from .conftest import actor, at, jpeg

HERE = ("31.845000", "106.730000")  # inside 一社区 (and its grid)
FAR = ("31.855000", "106.730000")  # 0.01° north: about 1.1 km


def plan(w, day, units, lead=None, by=None, organiser=None, where=HERE):
    return services.plan_action(
        actor(by or w.chief),
        organiser or w.committee,
        title="背街小巷占道经营整治",
        day=day,
        start_time=dt.time(9, 0),
        place="一街口",
        lat=where[0],
        lng=where[1],
        units=units,
        lead_unit=lead or units[0],
    )


def test_plan_rules(world, st, clock):
    w = world
    monday = dt.date(2026, 3, 2)
    action = plan(w, monday, [w.dept, w.dept2], lead=w.dept2)
    assert action.lead_unit == w.dept2 and action.summons.count() == 2
    assert AuditLog.objects.filter(action="streets.joint_planned").count() == 1
    with pytest.raises(PermissionDenied):
        plan(w, monday, [w.dept], by=w.handler)  # a department's handler does not blow the whistle
    with pytest.raises(ValidationError, match="牵头单位"):
        plan(w, monday, [w.dept], lead=w.dept2)
    with pytest.raises(ValidationError, match="辖区"):
        plan(w, monday, [w.dept], where=w.in_c2)  # 二社区 is not 一社区's area
    with pytest.raises(ValidationError, match="早于今天"):
        plan(w, dt.date(2026, 3, 1), [w.dept])
    with pytest.raises(ValidationError, match="5\\+3"):
        plan(w, monday, [w.committee2])
    with override_settings(STREETS_JOINT_FORCES=[w.dept.code]), pytest.raises(ValidationError, match="5\\+3"):
        plan(w, monday, [w.dept, w.dept2])
    assert JointAction.objects.count() == 1


def test_sign_ins_and_hand_counted_attendance(world, st, clock):
    """Mon 2 Mar: 城管 (lead), dept2 and dept3 summoned; dept signs in on the spot, dept2 1.1 km
    away (far), dept3 never. Tue 3 Mar: dept and dept2 summoned; dept signs in, dept2 not.
    As of Wed 4 Mar: dept 2/2, dept2 1 of 2 (1 far, 1 no-show), dept3 0 of 1 (1 no-show).
    As of Mon 2 Mar noon: Monday's day is not over, so dept3 is pending, not a no-show."""
    w = world
    monday = plan(w, dt.date(2026, 3, 2), [w.dept, w.dept2, w.dept3])
    tuesday = plan(w, dt.date(2026, 3, 3), [w.dept, w.dept2])

    clock.set(at(2026, 3, 2, 9, 5))
    summons = services.sign_in(actor(w.handler), monday, w.dept, *HERE)
    assert (summons.far, summons.distance_m, summons.signed_in_at) == (False, 0.0, at(2026, 3, 2, 9, 5))
    summons = services.sign_in(actor(w.handler2), monday, w.dept2, *FAR)
    assert summons.far is True and 1100 < summons.distance_m < 1120
    with pytest.raises(ActionRefused):
        services.sign_in(actor(w.handler), monday, w.dept, *HERE)  # a second sign-in
    with pytest.raises(PermissionDenied):
        services.sign_in(actor(w.handler), monday, w.dept3, *HERE)  # not the person's unit
    with pytest.raises(ValidationError):
        services.sign_in(actor(w.handler3), tuesday, w.dept3, *HERE)  # not summoned to it
    with pytest.raises(ActionRefused, match="当天"):
        services.sign_in(actor(w.handler), tuesday, w.dept, *HERE)  # not its day yet

    clock.set(at(2026, 3, 2, 12))
    rows = {r.unit_id: r for r in services.attendance(dt.date(2026, 3, 1), dt.date(2026, 3, 31))}
    assert (rows[w.dept3.pk].no_show, rows[w.dept3.pk].pending) == (0, 1)

    clock.set(at(2026, 3, 3, 8, 50))
    services.sign_in(actor(w.handler), tuesday, w.dept, *HERE)
    clock.set(at(2026, 3, 4, 10))
    rows = {r.unit_id: r for r in services.attendance(dt.date(2026, 3, 1), dt.date(2026, 3, 31))}
    counted = {u: (r.summoned, r.attended, r.far, r.no_show, r.pending) for u, r in rows.items()}
    assert counted == {
        w.dept.pk: (2, 2, 0, 0, 0),
        w.dept2.pk: (2, 1, 1, 1, 0),
        w.dept3.pk: (1, 0, 0, 1, 0),
    }
    assert rows[w.dept2.pk].rate == 0.5 and rows[w.dept3.pk].rate == 0.0
    # As of an earlier moment only what had happened by then counts.
    early = services.attendance(dt.date(2026, 3, 1), dt.date(2026, 3, 31), at=at(2026, 3, 2, 9), unit=w.dept)
    assert [(r.attended, r.pending) for r in early] == [(0, 2)]


def test_findings_become_cases_or_are_handled_on_the_spot(world, st, clock):
    w = world
    action = plan(w, dt.date(2026, 3, 2), [w.dept, w.dept2])
    case_finding = services.record_finding(
        actor(w.chief),
        action,
        outcome="case",
        description="店外经营占道",
        lat=HERE[0],
        lng=HERE[1],
        category=w.road,
        photos_uploaded=[jpeg()],
    )
    case = Case.objects.get()
    assert case_finding.case == case and case.reporter == w.chief and "集中联合执法" in case.description
    on_spot = services.record_finding(
        actor(w.handler),
        action,
        outcome="on_spot",
        description="劝离流动摊贩",
        lat=HERE[0],
        lng=HERE[1],
        unit=w.dept,
        photos_uploaded=[jpeg()],
    )
    assert (
        on_spot.case is None and on_spot.unit == w.dept and on_spot.photo.name.startswith("streets/photos/")
    )
    with pytest.raises(ValidationError, match="照片"):
        services.record_finding(
            actor(w.handler),
            action,
            outcome="on_spot",
            description="x",
            lat=HERE[0],
            lng=HERE[1],
            unit=w.dept,
        )
    with pytest.raises(PermissionDenied):  # a department's handler does not report cases
        services.record_finding(
            actor(w.handler),
            action,
            outcome="case",
            description="x",
            lat=HERE[0],
            lng=HERE[1],
            category=w.road,
            photos_uploaded=[jpeg()],
        )
    with pytest.raises(PermissionDenied):
        services.record_finding(
            actor(w.handler3),
            action,
            outcome="on_spot",
            description="x",
            lat=HERE[0],
            lng=HERE[1],
            unit=w.dept,
        )
    assert JointFinding.objects.count() == 2 and Case.objects.count() == 1


def test_joint_action_through_the_pages(client, world, st, clock):
    w = world
    client.force_login(w.chief)
    page = client.get(reverse("streets:joint_new")).content.decode()
    assert "召集执法力量" in page and w.dept.name in page
    r = client.post(
        reverse("streets:joint_new"),
        {
            "organiser": w.committee.pk,
            "title": "周末联合整治",
            "day": "2026-03-02",
            "start_time": "09:00",
            "place": "一街口",
            "lat": HERE[0],
            "lng": HERE[1],
            "units": [w.dept.pk, w.dept2.pk],
            "lead_unit": w.dept.pk,
        },
    )
    action = JointAction.objects.get()
    assert r.status_code == 302 and r.url == reverse("streets:joint", args=[action.pk])
    assert "周末联合整治" in client.get(reverse("streets:today")).content.decode()

    client.force_login(w.handler2)
    page = client.get(reverse("streets:joint", args=[action.pk])).content.decode()
    assert f"{w.dept2.name} 到场签到" in page and f"{w.dept.name} 到场签到" not in page
    step = reverse("streets:joint_step", args=[action.pk, "sign_in"])
    r = client.post(step, {"unit": w.dept2.pk, "lat": FAR[0], "lng": FAR[1]}, follow=True)
    assert "已标记位置偏远" in r.content.decode()
    r = client.post(step, {"unit": w.dept2.pk, "lat": HERE[0], "lng": HERE[1]}, follow=True)
    assert (
        "已签到" in r.content.decode()
        and JointSummons.objects.filter(signed_in_at__isnull=False).count() == 1
    )
    finding = reverse("streets:joint_step", args=[action.pk, "finding"])
    r = client.post(
        finding,
        {
            "outcome": "on_spot",
            "unit": w.dept2.pk,
            "description": "清理占道杂物",
            "lat": HERE[0],
            "lng": HERE[1],
            "photos": jpeg(),
        },
        follow=True,
    )
    assert "已登记现场处置" in r.content.decode()

    client.force_login(w.collector2)  # another community, not summoned: not visible
    assert client.get(reverse("streets:joint", args=[action.pk])).status_code == 404
    assert client.get(reverse("streets:joint_new")).status_code == 403

    client.force_login(st.staff)
    clock.set(at(2026, 3, 3, 9))
    page = client.get(reverse("streets:joint_attendance") + "?month=2026-03").content.decode()
    assert w.dept.name in page and "未到" in page


def test_joint_action_through_the_api(client, world, st, clock):
    w = world
    client.force_login(st.staff)
    body = {
        "organiser_id": w.committee.pk,
        "title": "月度联合执法",
        "day": "2026-03-02",
        "start_time": "09:00",
        "place": "一街口",
        "lat": 31.845,
        "lng": 106.73,
        "unit_ids": [w.dept.pk, w.dept2.pk],
        "lead_unit_id": w.dept2.pk,
    }
    r = client.post("/api/v1/streets/joint-actions", body, content_type="application/json")
    assert r.status_code == 201, r.content
    aid = r.json()["id"]
    r = client.post(
        "/api/v1/streets/joint-actions", {**body, "lead_unit_id": w.dept3.pk}, content_type="application/json"
    )
    assert r.status_code == 400 and "牵头单位" in r.json()["detail"]

    client.force_login(w.handler)
    got = client.get(f"/api/v1/streets/joint-actions/{aid}").json()
    assert got["may_sign_in_for"] == [w.dept.pk] and got["lead_unit_id"] == w.dept2.pk
    url = f"/api/v1/streets/joint-actions/{aid}/signins"
    r = client.post(
        url, {"unit_id": w.dept.pk, "lat": 31.855, "lng": 106.73}, content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["far"] is True
    r = client.post(
        url, {"unit_id": w.dept.pk, "lat": 31.845, "lng": 106.73}, content_type="application/json"
    )
    assert r.status_code == 409
    r = client.post(
        url, {"unit_id": w.dept2.pk, "lat": 31.845, "lng": 106.73}, content_type="application/json"
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/streets/joint-actions/{aid}/findings",
        {
            "outcome": "on_spot",
            "unit_id": w.dept.pk,
            "description": "劝离摊贩",
            "lat": 31.845,
            "lng": 106.73,
            "photos": jpeg(),
        },
    )
    assert r.status_code == 201 and r.json()["photo_url"]
    client.force_login(w.handler3)
    assert client.get(f"/api/v1/streets/joint-actions/{aid}").status_code == 404
    assert client.get("/api/v1/streets/joint-attendance").status_code == 403

    client.force_login(w.hq)
    clock.set(at(2026, 3, 3, 9))
    rows = {r["unit_id"]: r for r in client.get("/api/v1/streets/joint-attendance?month=2026-03").json()}
    assert (rows[w.dept.pk]["attended"], rows[w.dept.pk]["far"]) == (1, 1)
    assert (rows[w.dept2.pk]["no_show"], rows[w.dept2.pk]["rate"]) == (1, 0.0)
    assert client.get("/api/v1/streets/joint-attendance?month=2026-13").status_code == 400


def test_the_lead_rotates_through_the_forces(world, st, clock):
    w = world
    forces = list(services.joint_forces())
    assert services.next_lead(w.committee) == forces[0]
    plan(w, dt.date(2026, 3, 2), forces[:2], lead=forces[1])
    assert services.next_lead(w.committee) == forces[2]
    plan(w, dt.date(2026, 3, 3), [forces[-1]], lead=forces[-1])
    assert services.next_lead(w.committee) == forces[0]
    assert services.next_lead(w.committee2) == forces[0]  # each organiser has its own turn
