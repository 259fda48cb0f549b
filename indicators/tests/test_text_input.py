"""Text input of the index system's tasks (issue 13, item 2): refused before the database."""

import pytest

from indicators.models import Milestone, ProgressReport
from indicators.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/indicators"


def test_progress_text_with_a_control_character_is_a_400_and_stores_nothing(client, world):
    task = TaskFactory(item=world.item, lead_unit=world.dept)
    client.force_login(world.handler)
    response = client.post(f"{API}/tasks/{task.pk}/progress", {"percent": 10, "text": "开始\x00"})
    assert response.status_code == 400 and response.json() == {"detail": "请求参数含有不允许的控制字符"}
    assert not ProgressReport.objects.exists()


def test_milestones_with_bad_text_are_a_400_and_store_nothing(client, world):
    task = TaskFactory(item=world.item, lead_unit=world.dept)
    client.force_login(world.hq)
    for description, message in (
        ("完成\x00", "节点内容含有不允许的控制字符"),
        ("节" * 201, "节点内容不能超过 200 字"),
    ):
        response = client.put(
            f"{API}/tasks/{task.pk}/milestones",
            [{"month": "2026-12-01", "target": 100, "description": description}],
            content_type="application/json",
        )
        assert response.status_code == 400, response.content
        assert response.json() == {"detail": message}
    assert not Milestone.objects.exists()


def test_a_review_note_with_a_nul_byte_is_a_400(client, world):
    task = TaskFactory(item=world.item, lead_unit=world.dept)
    report = ProgressReport.objects.create(task=task, percent=10, text="开始", reported_by=world.handler)
    client.force_login(world.hq)
    response = client.post(
        f"{API}/reports/{report.pk}/review",
        {"accepted": False, "note": "退回\x00"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json() == {"detail": "审核意见含有不允许的控制字符"}
    report.refresh_from_db()
    assert report.review_note == "" and report.reviewed_by is None
