"""The JSON API: the whole task lifecycle, imports, the overview endpoints and scope."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from indicators import xlsx
from indicators.models import Evidence, IndexSystem, Task
from indicators.tests.conftest import png_bytes
from indicators.tests.factories import TaskFactory
from indicators.tests.test_xlsx import GOOD, workbook

pytestmark = pytest.mark.django_db
API = "/api/v1/indicators"


def as_user(client, user):
    client.force_login(user)
    return client


def test_task_lifecycle_through_the_api(client, world):
    hq = as_user(client, world.hq)
    response = hq.post(
        f"{API}/tasks",
        {
            "item_id": world.item.pk,
            "lead_unit_id": world.dept.pk,
            "co_unit_ids": [world.other.pk],
            "responsible_leader_id": world.leader.pk,
            "responsible_person_id": world.handler.pk,
            "deadline": "2026-12-31",
            "is_key": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    task_id = response.json()["id"]
    assert response.json()["co_unit_ids"] == [world.other.pk]
    response = hq.put(
        f"{API}/tasks/{task_id}/milestones",
        [
            {"month": "2026-11-01", "target": 50},
            {"month": "2026-12-01", "target": 100, "description": "完成"},
        ],
        content_type="application/json",
    )
    assert response.status_code == 200 and len(response.json()) == 2

    unit = as_user(client, world.handler)
    response = unit.post(
        f"{API}/tasks/{task_id}/progress",
        {"percent": 60, "text": "完成大半", "files": [SimpleUploadedFile("p.png", png_bytes())]},
    )
    assert response.status_code == 201, response.content
    report_id = response.json()["id"]
    evidence_url = response.json()["evidence"][0]["url"]
    assert unit.get(evidence_url).status_code == 200
    response = unit.post(f"{API}/tasks/{task_id}/close-out", {"text": "已完成"})
    assert response.status_code == 400 and "佐证材料" in response.json()["detail"]
    response = unit.post(
        f"{API}/tasks/{task_id}/close-out",
        {"text": "已完成", "files": [SimpleUploadedFile("z.pdf", b"%PDF-1.7")]},
    )
    assert response.status_code == 201

    hq = as_user(client, world.hq)
    assert (
        hq.post(
            f"{API}/reports/{report_id}/review", {"accepted": True}, content_type="application/json"
        ).json()["review"]
        == "accepted"
    )
    response = hq.post(f"{API}/tasks/{task_id}/approve", {"note": "同意"}, content_type="application/json")
    assert response.json()["state"] == "closed"
    response = hq.post(f"{API}/tasks/{task_id}/approve", {}, content_type="application/json")
    assert response.status_code == 409
    response = hq.post(
        f"{API}/tasks/{task_id}/reopen", {"reason": "复查反弹"}, content_type="application/json"
    )
    assert (response.json()["state"], response.json()["reopen_count"]) == ("in_progress", 1)

    detail = hq.get(f"{API}/tasks/{task_id}").json()
    assert [e["kind"] for e in detail["events"]] == [
        "created",
        "milestones",
        "progress",
        "close_requested",
        "reviewed",
        "closed",
        "reopened",
    ]
    assert {e["via"] for e in detail["events"]} == {"api"}
    assert all(e["actor_id"] for e in detail["events"])


def test_a_unit_sees_and_edits_only_its_own_tasks(client, world):
    mine = TaskFactory(item=world.item, lead_unit=world.dept, deadline=dt.date(2026, 12, 1))
    theirs = TaskFactory(item=world.item, lead_unit=world.other)
    unit = as_user(client, world.handler)
    listed = unit.get(f"{API}/tasks").json()["items"]
    assert [t["id"] for t in listed] == [mine.pk]
    assert unit.get(f"{API}/tasks/{theirs.pk}").status_code == 404
    response = unit.post(f"{API}/tasks/{theirs.pk}/progress", {"percent": 10, "text": "x"})
    assert response.status_code == 404
    response = unit.patch(
        f"{API}/tasks/{mine.pk}", {"deadline": "2027-01-01"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert unit.post(f"{API}/tasks/{mine.pk}/progress", {"percent": 10, "text": "开始"}).status_code == 201
    assert Task.objects.get(pk=theirs.pk).progress == 0


def test_import_errors_come_back_with_rows_and_columns(client, world):
    hq = as_user(client, world.hq)
    bad = [list(r) for r in GOOD]
    bad[0][9] = "抽查"
    response = hq.post(
        f"{API}/systems",
        {
            "name": "新体系",
            "version": "1",
            "campaign_year": 2026,
            "file": SimpleUploadedFile("a.xlsx", workbook(bad).read()),
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["row"] == 2 and response.json()["errors"][0]["column"].startswith("J")
    assert response.json()["errors"][0]["sheet"] == "测评体系"
    assert not IndexSystem.objects.filter(name="新体系").exists()
    response = hq.post(
        f"{API}/systems",
        {
            "name": "新体系",
            "version": "1",
            "campaign_year": 2026,
            "dry_run": True,
            "file": SimpleUploadedFile("a.xlsx", workbook(GOOD).read()),
        },
    )
    assert response.status_code == 200
    assert response.json()["counts"] == {"测评项目": 2, "测评内容": 3, "测评标准": 4}
    assert not IndexSystem.objects.filter(name="新体系").exists()
    response = hq.post(
        f"{API}/systems",
        {
            "name": "新体系",
            "version": "1",
            "campaign_year": 2026,
            "file": SimpleUploadedFile("a.xlsx", workbook(GOOD).read()),
        },
    )
    assert response.status_code == 201
    system_id = response.json()["id"]
    assert hq.post(f"{API}/systems/{system_id}/activate").json()["is_active"] is True
    tree = hq.get(f"{API}/systems/{system_id}").json()
    assert [len(p["items"]) for p in tree["projects"]] == [2, 1]
    exported = hq.get(f"{API}/systems/{system_id}/export")
    rows = list(load_workbook(io.BytesIO(b"".join(exported.streaming_content)))[xlsx.SHEET].values)
    assert [list(r) for r in rows[1:]] == GOOD


def test_overviews_and_their_roles(client, world):
    TaskFactory(item=world.item, lead_unit=world.dept, deadline=dt.date(2020, 1, 1))
    hq = as_user(client, world.hq)
    check = hq.get(f"{API}/systems/{world.system.pk}/five-check").json()
    assert {(r["item_id"], tuple(r["missing"])) for r in check} == {
        (world.item.pk, ("责任人", "进度计划")),
        (world.item2.pk, ("任务",)),
    }
    matrix = hq.get(f"{API}/systems/{world.system.pk}/matrix").json()
    assert matrix["rows"][0]["cells"] == ["red"]
    red = hq.get(f"{API}/tasks?level=red").json()
    assert red["count"] == 1 and red["items"][0]["warning_label"].startswith("逾期")
    unit = as_user(client, world.handler)
    assert unit.get(f"{API}/systems/{world.system.pk}/five-check").status_code == 403
    assert unit.get(f"{API}/systems/{world.system.pk}/matrix").status_code == 403
    leader = as_user(client, world.leader)
    assert leader.get(f"{API}/systems/{world.system.pk}/matrix").json()["units"] == []


def test_bulk_assign_through_the_api(client, world):
    hq = as_user(client, world.hq)
    response = hq.post(
        f"{API}/tasks/bulk-assign",
        {
            "item_ids": [world.item.pk, world.item2.pk],
            "lead_unit_id": world.dept.pk,
            "deadline": "2026-12-31",
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    assert {t["lead_unit_id"] for t in response.json()} == {world.dept.pk}
    response = hq.post(
        f"{API}/tasks/bulk-assign",
        {"item_ids": [world.item.pk], "lead_unit_id": 999999},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_evidence_is_only_for_those_who_see_the_task(client, world):
    task = TaskFactory(item=world.item, lead_unit=world.dept)
    unit = as_user(client, world.handler)
    url = unit.post(
        f"{API}/tasks/{task.pk}/progress",
        {"percent": 5, "text": "x", "files": [SimpleUploadedFile("p.png", png_bytes())]},
    ).json()["evidence"][0]["url"]
    other = as_user(client, world.other_handler)
    assert other.get(url).status_code == 404


def test_evidence_whose_file_is_gone_is_a_404_not_an_error(client, world):
    task = TaskFactory(item=world.item, lead_unit=world.dept)
    unit = as_user(client, world.handler)
    url = unit.post(
        f"{API}/tasks/{task.pk}/progress",
        {"percent": 5, "text": "x", "files": [SimpleUploadedFile("p.png", png_bytes())]},
    ).json()["evidence"][0]["url"]
    assert unit.get(url).status_code == 200
    evidence = Evidence.objects.get()
    evidence.file.storage.delete(evidence.file.name)
    assert unit.get(url).status_code == 404
