"""The steps a person may take on a task come from the services (``allowed_actions``), and the
page and the API show exactly those: no adapter derives a permission itself."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from indicators import services
from indicators.models import Task
from indicators.tests.conftest import png_bytes
from indicators.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/indicators"


def _task(world, state=Task.State.ASSIGNED) -> Task:
    return TaskFactory(item=world.item, lead_unit=world.dept, state=state)


@pytest.mark.parametrize(
    ("who", "state", "expected"),
    [
        ("hq", Task.State.ASSIGNED, ["decompose", "review"]),
        ("hq", Task.State.CLOSE_REQUESTED, ["decompose", "decide_close_out", "review"]),
        ("hq", Task.State.CLOSED, ["reopen", "review"]),
        ("handler", Task.State.IN_PROGRESS, ["report"]),
        ("handler", Task.State.CLOSE_REQUESTED, []),
        ("other_handler", Task.State.IN_PROGRESS, []),
        ("inspector", Task.State.CLOSED, ["reopen"]),
        ("inspector", Task.State.IN_PROGRESS, []),
    ],
)
def test_allowed_actions_by_role_and_state(world, who, state, expected):
    assert services.allowed_actions(getattr(world, who), _task(world, state)) == expected


def test_the_page_shows_the_steps_the_service_allows(client, world):
    task = _task(world, Task.State.IN_PROGRESS)
    client.force_login(world.handler)
    body = client.get(f"/indicators/tasks/{task.pk}/").content.decode()
    assert "报告进度" in body and "申请销号" in body and "调整分解" not in body and "重新打开" not in body
    client.force_login(world.hq)
    body = client.get(f"/indicators/tasks/{task.pk}/").content.decode()
    assert "调整分解" in body and "提交进度" not in body and "批准销号" not in body


def test_the_api_lists_the_steps_the_service_allows(client, world):
    task = _task(world, Task.State.CLOSED)
    for user in (world.hq, world.inspector, world.handler):
        client.force_login(user)
        body = client.get(f"{API}/tasks/{task.pk}").json()
        assert body["allowed_actions"] == services.allowed_actions(user, task)


def test_a_step_the_page_hides_is_refused_by_the_service(client, world):
    """The handler of another unit sees no report form, and posting one anyway is refused."""
    task = _task(world, Task.State.IN_PROGRESS)
    client.force_login(world.other_handler)
    photo = SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")
    response = client.post(
        f"{API}/tasks/{task.pk}/progress", {"percent": 50, "text": "进展", "files": [photo]}
    )
    assert response.status_code in (403, 404)
    task.refresh_from_db()
    assert task.progress == 0 and not task.reports.exists()
