"""The issue's "done when", in one run through pages and API: a patrol with a track, two reports
(one becomes a case, one a social report), a field verification that closes that case, and a
joint action with sign-ins."""

from django.test import Client
from django.urls import reverse

from cases.models import Case, FieldCheck
from streets import services
from streets.models import JointAction, JointSummons, Patrol, Report

from .conftest import actor, at, jpeg

HERE = {"lat": 31.845, "lng": 106.73}
FORM_HERE = {"lat": "31.845000", "lng": "106.730000"}


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_patrol_reports_field_check_and_joint_action(world, st, clock):
    w = world
    w.road.field_verification = True  # 公共设施损坏 reports become 道路破损 cases, checked on site
    w.road.save()
    services.generate_week(actor(st.staff), w.committee, at(2026, 3, 2).date())

    # The chief's patrol: started on the page, track and reports through the API, ended on the page.
    chief = as_user(w.chief)
    r = chief.post(reverse("streets:start"), FORM_HERE)
    patrol = Patrol.objects.get()
    assert r.url == reverse("streets:patrol", args=[patrol.pk])
    clock.set(at(2026, 3, 2, 9, 20))
    track = {
        "points": [
            {"at": at(2026, 3, 2, 9, m).isoformat(), "lat": 31.845 + m / 10000, "lng": 106.73}
            for m in (5, 10, 15)
        ]
    }
    api = f"/api/v1/streets/patrols/{patrol.pk}"
    assert chief.post(f"{api}/points", track, content_type="application/json").json() == {"added": 3}
    assert (
        chief.post(
            f"{api}/checkins", {"segment_id": st.seg1.pk, **HERE}, content_type="application/json"
        ).status_code
        == 201
    )
    city = chief.post(
        f"{api}/reports", {"kind": "facility", "description": "人行道破损", **HERE, "photos": [jpeg()]}
    )
    social = chief.post(
        f"{api}/reports",
        {"kind": "hardship", "description": "独居老人行动不便", **HERE, "person_name": "钱多"},
    )
    assert city.status_code == 201 and social.status_code == 201 and social.json()["case_id"] is None
    clock.set(at(2026, 3, 2, 10))
    chief.post(reverse("streets:patrol_step", args=[patrol.pk, "end"]), FORM_HERE)
    patrol.refresh_from_db()
    assert patrol.status == "ended" and patrol.summary["points"] == 5  # start, three, end
    assert (patrol.summary["cases"], patrol.summary["social"]) == (1, 1)
    assert Report.objects.filter(kind="hardship", case__isnull=True, community=w.c1).exists()

    # The case: accepted and dispatched (API), handled by the unit (page), checked on site by the
    # grid's collector (page), closed by the dispatcher (API).
    case = Case.objects.get()
    dispatcher = as_user(w.dispatcher)
    base = f"/api/v1/cases/cases/{case.pk}"
    assert dispatcher.post(f"{base}/accept", {"note": ""}, content_type="application/json").status_code == 200
    body = {"lead_unit_id": w.dept.pk, "co_unit_ids": [], "note": ""}
    assert dispatcher.post(f"{base}/dispatch", body, content_type="application/json").status_code == 200
    clock.set(at(2026, 3, 2, 15))
    as_user(w.handler).post(
        reverse("cases:act", args=[case.pk, "handle"]), {"note": "已修复", "photos": jpeg()}
    )
    assert Case.objects.get(pk=case.pk).status == Case.Status.HANDLED
    collector = as_user(w.collector)
    assert case.number in collector.get(reverse("streets:checks")).content.decode()
    clock.set(at(2026, 3, 3, 9))
    r = collector.post(
        reverse("streets:check", args=[case.pk]), {"passed": "1", **FORM_HERE, "photos": jpeg()}
    )
    assert r.status_code == 302 and FieldCheck.objects.get().status == "passed"
    closed = dispatcher.post(
        f"{base}/verify", {"note": "现场核查通过"}, content_type="application/json"
    ).json()
    assert closed["status"] == "closed" and closed["verified_at"] == "2026-03-03T01:00:00Z"

    # A joint action: planned by the chief (page), signed in by two summoned units (API, page).
    r = chief.post(
        reverse("streets:joint_new"),
        {
            "organiser": w.committee.pk,
            "title": "一街联合整治",
            "day": "2026-03-03",
            "start_time": "10:00",
            "place": "一街口",
            **FORM_HERE,
            "units": [w.dept.pk, w.dept2.pk, w.dept3.pk],
            "lead_unit": w.dept2.pk,
        },
    )
    action = JointAction.objects.get()
    signins = f"/api/v1/streets/joint-actions/{action.pk}/signins"
    r = as_user(w.handler).post(signins, {"unit_id": w.dept.pk, **HERE}, content_type="application/json")
    assert r.status_code == 201 and r.json()["far"] is False
    as_user(w.handler2).post(
        reverse("streets:joint_step", args=[action.pk, "sign_in"]),
        {"unit": w.dept2.pk, "lat": "31.86", "lng": "106.73"},
    )
    assert list(JointSummons.objects.filter(signed_in_at__isnull=False).values_list("unit", "far")) == [
        (w.dept.pk, False),
        (w.dept2.pk, True),
    ]
    clock.set(at(2026, 3, 4, 9))
    rows = {r.unit_id: (r.attended, r.no_show) for r in services.attendance(action.day, action.day)}
    assert rows == {w.dept.pk: (1, 0), w.dept2.pk: (1, 0), w.dept3.pk: (0, 1)}
