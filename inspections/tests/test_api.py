"""The JSON API for every step: plan (with a draw), the phone's checklist, submit (idempotent,
with photos), findings to cases, 复查, figures; errors as {"detail"} with 400/403/404/409."""

import datetime as dt
import json
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Case
from inspections import xlsx
from inspections.models import Finding, Inspection, Round

from .conftest import at, jpeg, plan


def api(client, user):
    client.force_login(user)
    return client


def submit(client, round_id, site_id, insp, uid=None, lines=None, **extra):
    a, b, c = (insp.items[k].pk for k in "ABC")
    lines = lines or [
        {"item_id": a, "result": "fail", "occurrences": 1, "note": "有垃圾"},
        {"item_id": b, "result": "pass"},
        {"item_id": c, "result": "pass"},
    ]
    data = {
        "uid": str(uid or uuid.uuid4()),
        "lat": "31.845000",
        "lng": "106.730000",
        "device": "app/1.0",
        "lines": json.dumps(lines),
        f"photo_{a}": jpeg(),
        **extra,
    }
    return client.post(f"/api/v1/inspections/rounds/{round_id}/sites/{site_id}/inspections", data)


def test_the_whole_loop_through_the_api(client, world, insp, clock):
    api(client, world.hq)
    planned = client.post(
        "/api/v1/inspections/rounds",
        {
            "title": "API 督查",
            "kind": "supervision",
            "starts_on": "2026-03-02",
            "ends_on": "2026-03-06",
            "inspector_ids": [world.inspector.pk],
            "site_ids": [insp.school.pk],
            "draw": {"seed": 7, "kinds": ["market"], "street_codes": ["S1"], "per_group": 2},
        },
        content_type="application/json",
    )
    assert planned.status_code == 201, planned.json()
    body = planned.json()
    assert body["seed"] == 7 and [(s["code"], s["drawn"]) for s in body["sites"]][2] == ("X1", False)
    assert {s["code"] for s in body["sites"]} == {"M1", "M2", "X1"}
    assert body["allowed_actions"] == ["close"]
    round_id = body["id"]

    api(client, world.inspector)
    assert {s["site_name"] for s in client.get("/api/v1/inspections/today").json()} == {
        "一号市场",
        "二号市场",
        "一小周边",
    }
    form = client.get(f"/api/v1/inspections/rounds/{round_id}/sites/{insp.m1.pk}/checklist").json()
    assert [i["code"] for i in form["items"]] == ["A", "B", "C"] and form["pending_findings"] == []
    uid = uuid.uuid4()
    first = submit(client, round_id, insp.m1.pk, insp, uid=uid)
    assert first.status_code == 201, first.json()
    assert (first.json()["score"], first.json()["full_points"], first.json()["percent"]) == (
        "17.00",
        "19.00",
        "89.47",
    )
    again = submit(client, round_id, insp.m1.pk, insp, uid=uid)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Inspection.objects.count() == 1
    other = submit(client, round_id, insp.m1.pk, insp)
    assert other.status_code == 409 and other.json()["detail"] == "该点位本轮已提交检查"

    finding_id = first.json()["finding_ids"][0]
    assert (
        client.post(
            "/api/v1/inspections/findings/cases",
            {"finding_ids": [finding_id]},
            content_type="application/json",
        ).status_code
        == 403
    )
    api(client, world.hq)
    made = client.post(
        "/api/v1/inspections/findings/cases", {"finding_ids": [finding_id]}, content_type="application/json"
    )
    assert made.status_code == 201 and made.json()[0]["lead_unit_id"] == world.dept.pk
    assert client.get(made.json()[0]["url"]).status_code == 200
    listed = client.get("/api/v1/inspections/findings?state=in_case").json()
    assert [f["id"] for f in listed["items"]] == [finding_id] and listed["items"][0]["case_number"]

    # 复查 two days later: the finding is rectified.
    clock.set(at(2026, 3, 4, 9))
    recheck = plan(world, insp, kind=Round.Kind.REINSPECTION, sites=[insp.m1], start=dt.date(2026, 3, 4))
    api(client, world.inspector)
    form = client.get(f"/api/v1/inspections/rounds/{recheck.pk}/sites/{insp.m1.pk}/checklist").json()
    assert [f["id"] for f in form["pending_findings"]] == [finding_id]
    done = submit(
        client,
        recheck.pk,
        insp.m1.pk,
        insp,
        lines=[
            {"item_id": insp.items["A"].pk, "result": "pass"},
            {"item_id": insp.items["B"].pk, "result": "pass"},
            {"item_id": insp.items["C"].pk, "result": "pass"},
        ],
        rechecks=json.dumps({str(finding_id): True}),
    )
    assert done.status_code == 201, done.json()
    assert Finding.objects.get(pk=finding_id).status == Finding.Status.RECTIFIED

    api(client, world.hq)
    figures = client.get(f"/api/v1/inspections/figures?round={round_id}&by=site_kind").json()
    assert (figures["findings"], figures["rectified"], figures["rectification_rate"]) == (1, 1, "100.00")
    assert figures["rows"][0]["label"] == "农贸市场"
    empty = client.get("/api/v1/inspections/figures?start=2030-01-01").json()
    assert (empty["average"], empty["rectification_rate"], empty["on_time_rate"]) == (None, None, None)
    closed = client.post(f"/api/v1/inspections/rounds/{round_id}/close", {}, content_type="application/json")
    assert closed.json()["status"] == "closed" and closed.json()["allowed_actions"] == []
    assert Case.objects.count() == 1


def test_bad_requests_get_a_clear_detail(client, world, insp):
    round_ = plan(world, insp, sites=[insp.m1])
    api(client, world.inspector)
    a = insp.items["A"].pk
    too_much = submit(
        client,
        round_.pk,
        insp.m1.pk,
        insp,
        lines=[
            {"item_id": a, "result": "fail", "deduction": "11"},
            {"item_id": insp.items["B"].pk, "result": "pass"},
            {"item_id": insp.items["C"].pk, "result": "pass"},
        ],
    )
    assert too_much.status_code == 400 and "扣分不能超过" in too_much.json()["detail"]
    url = f"/api/v1/inspections/rounds/{round_.pk}/sites/{insp.m1.pk}/inspections"
    broken = client.post(url, {"uid": str(uuid.uuid4()), "lines": "{oops"})
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    assert submit(client, round_.pk, insp.m2.pk, insp).status_code == 404  # not a site of the round
    assert not Inspection.objects.exists()
    assert client.post("/api/v1/inspections/rounds", {}, content_type="application/json").status_code in (
        403,
        422,
    )


def test_an_unpublished_visit_is_a_404_for_the_inspected(client, world, insp):
    round_ = plan(world, insp, kind=Round.Kind.UNANNOUNCED, sites=[insp.m1])
    api(client, world.handler)
    assert client.get(f"/api/v1/inspections/rounds/{round_.pk}").status_code == 404
    assert client.get("/api/v1/inspections/rounds").json()["count"] == 0
    api(client, world.hq)
    assert (
        client.post(
            f"/api/v1/inspections/rounds/{round_.pk}/publish", {}, content_type="application/json"
        ).status_code
        == 200
    )
    api(client, world.handler)
    assert client.get(f"/api/v1/inspections/rounds/{round_.pk}").status_code == 200


def test_checklists_are_listed_and_imported(client, world, insp):
    api(client, world.hq)
    listed = client.get("/api/v1/inspections/checklists").json()
    assert [(c["site_kind"], [i["code"] for i in c["items"]]) for c in listed] == [
        ("market", ["A", "B", "C"])
    ]
    bad = client.post(
        f"/api/v1/inspections/checklists/{insp.system.pk}/import",
        {"file": SimpleUploadedFile("x.xlsx", b"nope")},
    )
    assert bad.status_code == 400 and "另存为 .xlsx" in bad.json()["errors"][0]["message"]
    good = client.post(
        f"/api/v1/inspections/checklists/{insp.system.pk}/import",
        {"file": SimpleUploadedFile("c.xlsx", xlsx.export_checklists(insp.system).getvalue())},
    )
    assert good.status_code == 200 and good.json()["counts"]["更新"] == 3
