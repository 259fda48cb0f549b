"""The pages: the inspector's phone flow, HQ's planning and report, the rectification list,
figures, checklists and exports; scope (404 outside it) and roles (403) through the services."""

import datetime as dt
import io
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from cases.models import Case
from inspections import services
from inspections.models import Finding, Inspection, Round

from .conftest import actor, jpeg, plan


def login(client, user):
    client.force_login(user)
    return client


def form_data(insp, uid, **extra):
    a, b, c = (insp.items[k].pk for k in "ABC")
    data = {
        "uid": str(uid),
        "lat": "31.845000",
        "lng": "106.730000",
        "device": "Android Chrome",
        f"result_{a}": "fail",
        f"occ_{a}": "2",
        f"note_{a}": '=HYPERLINK("x")',
        f"photo_{a}": jpeg(),
        f"result_{b}": "pass",
        f"result_{c}": "na",
    }
    data.update(extra)
    return data


def test_the_inspector_sees_todays_sites_and_inspects_one_on_the_phone(client, world, insp):
    round_ = plan(world, insp)
    login(client, world.inspector)
    page = client.get("/inspections/")
    assert page.status_code == 200 and "一号市场" in page.text and "二号市场" in page.text
    url = f"/inspections/rounds/{round_.pk}/sites/{insp.m1.pk}/"
    form = client.get(url)
    assert form.status_code == 200 and "inspect.js" in form.text and 'name="uid"' in form.text
    uid = uuid.uuid4()
    sent = client.post(url, form_data(insp, uid))
    inspection = Inspection.objects.get()
    assert sent.status_code == 302 and sent.url == f"/inspections/records/{inspection.pk}/?sent=1"
    # A: 2 occurrences × 2 = 4, C not applicable: 15 − 4 = 11.
    assert (inspection.full_points, inspection.score, inspection.device) == (15, 11, "Android Chrome")
    # The connection dropped before the answer arrived; the phone sends the same form again.
    again = client.post(url, form_data(insp, uid))
    assert again.status_code == 302 and Inspection.objects.count() == 1
    detail = client.get(again.url)
    assert (
        "11.00/15.00" in detail.text
        and f'data-clear-draft="inspection-draft:{inspection.round_id}:{inspection.site_id}"' in detail.text
    )
    assert (
        "二号市场" in client.get("/inspections/").text and "一号市场" not in client.get("/inspections/").text
    )


def test_a_bad_submission_shows_the_error_and_stores_nothing(client, world, insp):
    round_ = plan(world, insp)
    login(client, world.inspector)
    url = f"/inspections/rounds/{round_.pk}/sites/{insp.m1.pk}/"
    a = insp.items["A"].pk
    response = client.post(url, form_data(insp, uuid.uuid4(), **{f"ded_{a}": "99"}))
    assert response.status_code == 400 and "扣分不能超过" in response.text
    assert not Inspection.objects.exists()
    outside = client.post(
        f"/inspections/rounds/{round_.pk}/sites/{insp.school.pk}/", form_data(insp, uuid.uuid4())
    )
    assert outside.status_code == 404


def test_hq_plans_a_drawn_round_and_others_may_not(client, world, insp):
    login(client, world.handler)
    assert client.get("/inspections/rounds/new/").status_code == 403
    login(client, world.hq)
    response = client.post(
        "/inspections/rounds/new/",
        {
            "title": "三月第一周督查",
            "kind": "supervision",
            "starts_on": "2026-03-02",
            "ends_on": "2026-03-06",
            "inspectors": [world.inspector.pk],
            "draw_kinds": ["market"],
            "draw_streets": [world.s1.pk],
            "per_group": "1",
            "seed": "42",
        },
    )
    round_ = Round.objects.get()
    assert response.status_code == 302 and round_.seed == 42
    assert round_.round_sites.count() == 1
    report = client.get(f"/inspections/rounds/{round_.pk}/")
    assert "<code>42</code>" in report.text and "农贸市场；一街道；每类每街道 1 个" in report.text


def test_an_unpublished_visit_is_a_404_for_the_inspected_unit(client, world, insp):
    round_ = plan(world, insp, kind=Round.Kind.UNANNOUNCED, sites=[insp.m1])
    login(client, world.handler)
    assert client.get(f"/inspections/rounds/{round_.pk}/").status_code == 404
    assert "测试unannounced" not in client.get("/inspections/").text
    login(client, world.hq)
    assert client.post(f"/inspections/rounds/{round_.pk}/publish/").status_code == 302
    login(client, world.handler)
    assert client.get(f"/inspections/rounds/{round_.pk}/").status_code == 200


def test_findings_are_listed_turned_into_cases_and_exported(client, world, insp):
    round_ = plan(world, insp)
    login(client, world.inspector)
    client.post(f"/inspections/rounds/{round_.pk}/sites/{insp.m1.pk}/", form_data(insp, uuid.uuid4()))
    finding = Finding.objects.get()
    login(client, world.handler)  # the contracting unit sees its rectification list
    listed = client.get("/inspections/findings/?state=open")
    assert listed.status_code == 200 and "一号市场" in listed.text
    assert client.post("/inspections/findings/to-cases/", {"finding": [finding.pk]}).status_code == 403
    assert not Case.objects.exists()  # a unit may not: the service refused
    login(client, world.hq)
    client.post("/inspections/findings/to-cases/", {"finding": [finding.pk]})
    finding.refresh_from_db()
    assert finding.case is not None and finding.case.lead_unit == world.dept
    export = client.get("/inspections/findings/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][7] == '=HYPERLINK("x")'  # the note stays text, not a formula
    assert rows[1][14] == finding.case.number and str(rows[1][16]).startswith("http://testserver/media/")
    report = client.get(f"/inspections/rounds/{round_.pk}/export.xlsx")
    book = load_workbook(io.BytesIO(b"".join(report.streaming_content)))
    score_rows = list(book["得分"].iter_rows(values_only=True))
    assert score_rows[2][:2] == ("M1", "一号市场") and score_rows[2][11] == 11
    assert score_rows[2][13:16] == (-4, "合格", "不适用")


def test_figures_open_their_records(client, world, insp):
    round_ = plan(world, insp)
    login(client, world.inspector)
    client.post(f"/inspections/rounds/{round_.pk}/sites/{insp.m1.pk}/", form_data(insp, uuid.uuid4()))
    page = client.get("/inspections/figures/?by=community")
    assert page.status_code == 200 and "73.33%" in page.text  # 11 of 15
    assert "state=rectified" in page.text and "一社区" in page.text
    empty = client.get("/inspections/figures/?start=2030-01-01")
    assert "无数据" in empty.text


def test_hq_edits_a_checklist_line(client, world, insp):
    login(client, world.hq)
    assert "农贸市场测评表" in client.get("/inspections/checklists/").text
    item = insp.items["B"]
    response = client.post(
        f"/inspections/checklists/items/{item.pk}/",
        {
            "text": "公益广告醒目",
            "points": "6",
            "rule": "fixed",
            "unit_deduction": "2",
            "photo_required": "on",
        },
    )
    item.refresh_from_db()
    assert response.status_code == 302 and item.points == 6
    login(client, world.inspector)
    assert client.get(f"/inspections/checklists/items/{item.pk}/").status_code == 403


def test_a_closed_round_offers_no_form(client, world, insp):
    round_ = plan(world, insp, start=dt.date(2026, 3, 2))
    login(client, world.hq)
    client.post(f"/inspections/rounds/{round_.pk}/close/")
    login(client, world.inspector)
    page = client.get(f"/inspections/rounds/{round_.pk}/sites/{insp.m1.pk}/")
    assert "该轮次已结束" in page.text
    assert not client.get("/inspections/").context["pending"]


def test_checklists_go_out_and_back_in_as_xlsx(client, world, insp):
    login(client, world.hq)
    exported = client.get(f"/inspections/checklists/{insp.system.pk}/export.xlsx")
    data = b"".join(exported.streaming_content)
    upload = SimpleUploadedFile("c.xlsx", data)
    done = client.post(f"/inspections/checklists/{insp.system.pk}/import/", {"file": upload}, follow=True)
    assert "导入成功" in done.text
    bad = client.post(
        f"/inspections/checklists/{insp.system.pk}/import/",
        {"file": SimpleUploadedFile("x.xlsx", b"nope")},
        follow=True,
    )
    assert "未导入任何数据" in bad.text
    login(client, world.inspector)
    again = client.post(
        f"/inspections/checklists/{insp.system.pk}/import/", {"file": SimpleUploadedFile("c.xlsx", data)}
    )
    assert again.status_code == 403


def test_a_leader_named_for_a_morning_inspection_inspects_and_sees_the_result(client, world, insp):
    round_ = services.plan_round(
        actor(world.hq),
        title="晨查",
        kind=Round.Kind.MORNING,
        starts_on=dt.date(2026, 3, 2),
        ends_on=dt.date(2026, 3, 2),
        inspectors=[insp.leader],
        sites=[insp.m2],  # not a site the leader contracts
    )
    login(client, insp.leader)
    assert "二号市场" in client.get("/inspections/").text
    url = f"/inspections/rounds/{round_.pk}/sites/{insp.m2.pk}/"
    sent = client.post(url, form_data(insp, uuid.uuid4()))
    assert sent.status_code == 302
    assert client.get(sent.url).status_code == 200
    finding = Finding.objects.get()
    assert client.get(f"/inspections/findings/{finding.pk}/").status_code == 200
    login(client, world.handler2)  # a unit with nothing to do with the site
    assert client.get(sent.url).status_code == 404
