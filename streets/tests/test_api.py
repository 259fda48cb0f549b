"""The JSON API for every step: today's duties, a patrol with its track and check-in, two reports
(one a case, one a social report), the end; the community list per role; coverage; errors as
{"detail"} with 400/403/404/409."""

from cases.models import Case
from org.models import AuditLog
from streets import services
from streets.models import Duty, Patrol, Report

from .conftest import actor, at, jpeg

MONDAY = "2026-03-02"
HERE = {"lat": 31.845, "lng": 106.73}


def api(client, user):
    client.force_login(user)
    return client


def test_a_patrol_through_the_api(client, world, st, clock):
    services.generate_week(actor(st.staff), world.committee, at(2026, 3, 2).date())
    c = api(client, world.chief)
    today = c.get("/api/v1/streets/today").json()
    assert [d["place"] for d in today] == ["一街"]

    r = c.post("/api/v1/streets/patrols", HERE, content_type="application/json")
    assert r.status_code == 201
    patrol = r.json()
    assert patrol["off_roster"] is False and patrol["allowed_actions"] == [
        "points",
        "check_in",
        "report",
        "end",
    ]
    pid = patrol["id"]
    assert c.post("/api/v1/streets/patrols", HERE, content_type="application/json").status_code == 409

    clock.set(at(2026, 3, 2, 9, 10))
    points = {
        "points": [
            {"at": at(2026, 3, 2, 9, 5).isoformat(), "lat": 31.8455, "lng": 106.73},
            {"at": at(2026, 3, 2, 9, 6).isoformat(), "lat": 32.5, "lng": 106.73},
        ]
    }
    assert c.post(
        f"/api/v1/streets/patrols/{pid}/points", points, content_type="application/json"
    ).json() == {"added": 2}
    assert c.post(
        f"/api/v1/streets/patrols/{pid}/points", points, content_type="application/json"
    ).json() == {"added": 0}

    far = c.post(
        f"/api/v1/streets/patrols/{pid}/checkins",
        {"segment_id": st.seg1.pk, "lat": 31.85, "lng": 106.75},
        content_type="application/json",
    )
    assert far.status_code == 400 and "签到位置" in far.json()["detail"]
    ok = c.post(
        f"/api/v1/streets/patrols/{pid}/checkins",
        {"segment_id": st.seg1.pk, **HERE},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["checked_in"] == [st.seg1.pk]

    city = c.post(
        f"/api/v1/streets/patrols/{pid}/reports",
        {"kind": "litter", "description": "垃圾", **HERE, "photos": [jpeg()]},
    )
    assert city.status_code == 201, city.content
    case = Case.objects.get()
    assert city.json()["case_number"] == case.number and case.category == world.garbage
    social = c.post(
        f"/api/v1/streets/patrols/{pid}/reports",
        {
            "kind": "instability",
            "description": "纠纷激化",
            **HERE,
            "person_name": "赵四",
            "person_phone": "13700001111",
        },
    )
    assert social.status_code == 201
    assert social.json()["case_id"] is None and social.json()["person_name"] == "赵*"
    assert social.json()["person_phone"] == "137****1111"

    visit = c.post(
        "/api/v1/streets/visits",
        {"kind": "worry", "place": "一街5号", "patrol_id": pid},
        content_type="application/json",
    )
    assert visit.status_code == 201

    clock.set(at(2026, 3, 2, 10))
    end = c.post(f"/api/v1/streets/patrols/{pid}/end", HERE, content_type="application/json").json()
    assert end["status"] == "ended" and end["jumps"] == 1
    assert end["summary"]["segments"] == 1 and end["summary"]["cases"] == 1 and end["summary"]["social"] == 1
    assert end["summary"]["minutes"] == 60 and end["summary"]["visits"] == 1
    again = c.post(f"/api/v1/streets/patrols/{pid}/end", HERE, content_type="application/json")
    assert again.status_code == 409 and again.json()["detail"] == "巡查已结束"


def test_other_people_cannot_touch_a_patrol(client, world, st):
    patrol = services.start_patrol(actor(world.chief), HERE["lat"], HERE["lng"])
    c = api(client, world.collector2)
    assert c.get(f"/api/v1/streets/patrols/{patrol.pk}").status_code == 404
    c = api(client, st.staff)  # the committee's staff read it (the chief is on its roster? no: not yet)
    assert c.get(f"/api/v1/streets/patrols/{patrol.pk}").status_code == 404
    services.generate_week(actor(st.staff), world.committee, at(2026, 3, 2).date())
    r = c.get(f"/api/v1/streets/patrols/{patrol.pk}")
    assert r.status_code == 200 and r.json()["allowed_actions"] == []
    refused = c.post(f"/api/v1/streets/patrols/{patrol.pk}/end", HERE, content_type="application/json")
    assert refused.status_code == 403
    assert Patrol.objects.get().status == "open"


def test_social_list_per_role_and_the_audited_read(client, world, st):
    patrol = services.start_patrol(actor(world.chief), HERE["lat"], HERE["lng"])
    item = services.report(
        actor(world.chief),
        patrol,
        kind="hardship",
        description="困难户",
        lat=31.845,
        lng=106.73,
        person_name="钱五",
        person_phone="13600002222",
    )
    for user, count in (
        (world.hq, 1),
        (st.staff, 1),
        (world.chief, 1),
        (st.staff2, 0),
        (world.dispatcher, 0),
        (world.inspector, 0),
    ):
        rows = api(client, user).get("/api/v1/streets/social-reports").json()["items"]
        assert len(rows) == count, user
        assert all(row["person_name"] == "钱*" for row in rows)
    c = api(client, st.staff)
    assert c.post(f"/api/v1/streets/social-reports/{item.pk}/person").json() == {
        "name": "钱五",
        "phone": "13600002222",
    }
    assert AuditLog.objects.filter(action="streets.person_read").count() == 1
    chief = api(client, world.chief).post(f"/api/v1/streets/social-reports/{item.pk}/person")
    assert chief.status_code == 403
    assert (
        api(client, world.dispatcher).post(f"/api/v1/streets/social-reports/{item.pk}/person").status_code
        == 404
    )
    assert Report.objects.count() == 1


def test_coverage_api(client, world, st, clock):
    patrol = services.start_patrol(actor(world.chief), HERE["lat"], HERE["lng"])
    services.check_in(actor(world.chief), patrol, st.seg1, HERE["lat"], HERE["lng"])
    rows = api(client, st.staff).get(f"/api/v1/streets/coverage?day={MONDAY}").json()
    assert [(r["unit"], r["segments"], r["patrolled"], r["share"]) for r in rows] == [
        (world.committee.name, 2, 1, 0.5)
    ]
    assert rows[0]["patrol_ids"] == [patrol.pk]
    assert api(client, world.chief).get("/api/v1/streets/coverage").status_code == 403
    bad = api(client, world.hq).get("/api/v1/streets/coverage?day=yesterday")
    assert bad.status_code == 400


def test_single_duties_through_the_api(client, world, st):
    c = api(client, st.staff)
    body = {
        "unit_id": world.committee.pk,
        "day": "2026-03-03",
        "user_id": world.chief.pk,
        "segment_id": st.seg2.pk,
    }
    r = c.post("/api/v1/streets/duties", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["place"] == "二街"
    again = c.post("/api/v1/streets/duties", body, content_type="application/json")
    assert again.status_code == 409
    other = api(client, st.staff2).post("/api/v1/streets/duties", body, content_type="application/json")
    assert other.status_code == 403
    duty_id = r.json()["id"]
    r = api(client, st.staff2).post(
        f"/api/v1/streets/duties/{duty_id}/cancel", {"reason": "x"}, content_type="application/json"
    )
    assert r.status_code in (403, 404)
    c = api(client, st.staff)
    r = c.post(
        f"/api/v1/streets/duties/{duty_id}/cancel", {"reason": "重复"}, content_type="application/json"
    )
    assert r.status_code == 204, r.content
    assert not Duty.objects.exists()


def test_roster_and_swap_through_the_api(client, world, st):
    c = api(client, st.staff)
    r = c.post(
        "/api/v1/streets/rosters",
        {"unit_id": world.committee.pk, "monday": MONDAY},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json() == {"added": 14}
    tuesday = st.seg1.duties.get(day="2026-03-03")
    r = c.post(
        f"/api/v1/streets/duties/{tuesday.pk}/swap",
        {"user_id": world.collector.pk, "reason": "出差"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["user_id"] == world.collector.pk
    refused = api(client, world.chief).post(
        "/api/v1/streets/rosters",
        {"unit_id": world.committee.pk, "monday": MONDAY},
        content_type="application/json",
    )
    assert refused.status_code == 403
    other = api(client, st.staff2).post(
        f"/api/v1/streets/duties/{tuesday.pk}/swap",
        {"user_id": world.chief.pk, "reason": "x"},
        content_type="application/json",
    )
    assert other.status_code == 404
