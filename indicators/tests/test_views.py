"""The pages: the task lifecycle by form posts, scope, import, 五落实, bulk assignment, the matrix,
the 责任分解表 export and the menu."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from indicators.models import IndexSystem, Task
from indicators.tests.conftest import png_bytes
from indicators.tests.factories import TaskFactory
from indicators.tests.test_xlsx import GOOD, workbook

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_task_lifecycle_through_the_pages(client, world):
    hq = login(client, world.hq)
    response = hq.post(
        f"/indicators/items/{world.item.pk}/tasks/new/",
        {
            "title": "主次干道整治",
            "lead_unit": world.dept.pk,
            "co_units": [world.other.pk],
            "responsible_leader": world.leader.pk,
            "responsible_person": world.handler.pk,
            "deadline": "2026-12-31",
            "acceptance_standard": "路面无破损",
            "is_key": "on",
        },
    )
    task = Task.objects.get(title="主次干道整治")
    assert response.status_code == 302 and response["Location"] == f"/indicators/tasks/{task.pk}/"
    response = hq.post(
        f"/indicators/tasks/{task.pk}/milestones/",
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-month": "2026-11",
            "form-0-target": "40",
            "form-1-month": "2026-12",
            "form-1-target": "100",
            "form-1-description": "全部完成",
        },
    )
    assert response.status_code == 302 and task.milestones.count() == 2

    unit = login(client, world.handler)
    page = unit.get(f"/indicators/tasks/{task.pk}/").content.decode()
    assert "报告进度" in page and "申请销号" in page and "批准销号" not in page
    unit.post(
        f"/indicators/tasks/{task.pk}/progress/",
        {"percent": "50", "text": "过半", "evidence": SimpleUploadedFile("a.png", png_bytes())},
    )
    response = unit.post(f"/indicators/tasks/{task.pk}/close-out/", {"text": "完成"}, follow=True)
    assert "佐证材料" in response.content.decode()
    unit.post(
        f"/indicators/tasks/{task.pk}/close-out/",
        {"text": "完成", "evidence": SimpleUploadedFile("done.png", png_bytes())},
    )
    task.refresh_from_db()
    assert task.state == Task.State.CLOSE_REQUESTED

    hq = login(client, world.hq)
    report = task.reports.get(is_close_out=False)
    hq.post(f"/indicators/reports/{report.pk}/review/", {"result": "accept"})
    page = hq.get(f"/indicators/tasks/{task.pk}/").content.decode()
    assert "批准销号" in page
    hq.post(f"/indicators/tasks/{task.pk}/approve/", {"note": "同意"})
    task.refresh_from_db()
    assert task.state == Task.State.CLOSED and task.closed_by == world.hq
    response = hq.post(f"/indicators/tasks/{task.pk}/reopen/", {"reason": ""}, follow=True)
    assert "请填写重新打开的原因" in response.content.decode()
    hq.post(f"/indicators/tasks/{task.pk}/reopen/", {"reason": "暗访发现反弹"})
    task.refresh_from_db()
    assert (task.state, task.reopen_count) == (Task.State.IN_PROGRESS, 1)
    assert list(task.events.values_list("kind", "via", "ip")) == [
        (kind, "web", "127.0.0.1")
        for kind in ("created", "milestones", "progress", "close_requested", "reviewed", "closed", "reopened")
    ]
    page = hq.get(f"/indicators/tasks/{task.pk}/").content.decode()
    assert "重新打开 1 次" in page and "暗访发现反弹" in page


def test_a_unit_sees_and_edits_only_its_own_tasks(client, world):
    TaskFactory(item=world.item, title="城管的任务", lead_unit=world.dept, deadline=dt.date(2026, 12, 1))
    theirs = TaskFactory(item=world.item, title="住建的任务", lead_unit=world.other)
    unit = login(client, world.handler)
    board = unit.get("/indicators/").content.decode()
    assert "城管的任务" in board and "住建的任务" not in board
    assert unit.get(f"/indicators/tasks/{theirs.pk}/").status_code == 404
    assert (
        unit.post(f"/indicators/tasks/{theirs.pk}/progress/", {"percent": "5", "text": "x"}).status_code
        == 404
    )
    assert unit.get(f"/indicators/tasks/{theirs.pk}/edit/").status_code == 403
    assert unit.get("/indicators/check/").status_code == 403
    assert unit.get("/indicators/matrix/").status_code == 403
    assert not theirs.reports.exists()


def test_the_board_puts_the_most_urgent_first(client, world):
    TaskFactory(item=world.item, title="远期任务", lead_unit=world.dept, deadline=dt.date(2099, 1, 1))
    TaskFactory(item=world.item, title="逾期任务", lead_unit=world.dept, deadline=dt.date(2020, 1, 1))
    page = login(client, world.handler).get("/indicators/").content.decode()
    assert page.index("逾期任务") < page.index("远期任务")
    assert 'class="badge red"' in page


def test_import_page_shows_errors_and_imports_nothing(client, world):
    hq = login(client, world.hq)
    bad = [list(r) for r in GOOD]
    bad[1][8] = 5
    response = hq.post(
        "/indicators/systems/",
        {
            "name": "新体系",
            "version": "1",
            "campaign_year": "2026",
            "file": SimpleUploadedFile("a.xlsx", workbook(bad).read()),
        },
    )
    page = response.content.decode()
    assert "未导入任何数据" in page and "F（内容分值）" in page
    assert not IndexSystem.objects.filter(name="新体系").exists()
    response = hq.post(
        "/indicators/systems/",
        {
            "name": "新体系",
            "version": "1",
            "campaign_year": "2026",
            "file": SimpleUploadedFile("a.xlsx", workbook(GOOD).read()),
        },
    )
    page = response.content.decode()  # a preview first: nothing written yet
    assert "导入预览" in page and '<td>测评标准</td><td class="num">4</td>' in page
    assert not IndexSystem.objects.filter(name="新体系").exists()
    response = hq.post("/indicators/systems/", {"token": response.context["token"]})
    system = IndexSystem.objects.get(name="新体系")
    assert response["Location"] == f"/indicators/systems/{system.pk}/"
    assert "内容三" in hq.get(response["Location"]).content.decode()
    hq.post(f"/indicators/systems/{system.pk}/activate/")
    system.refresh_from_db()
    assert system.is_active
    unit = login(client, world.handler)
    assert unit.post(f"/indicators/systems/{world.system.pk}/activate/").status_code == 403


def test_five_check_and_bulk_assignment(client, world):
    hq = login(client, world.hq)
    page = hq.get("/indicators/check/").content.decode()
    assert "主次干道环境" in page and "背街小巷" in page
    response = hq.post(
        f"/indicators/assign/?system={world.system.pk}",
        {
            "items": [world.item.pk, world.item2.pk],
            "lead_unit": world.dept.pk,
            "responsible_person": world.handler.pk,
            "deadline": "2026-12-31",
            "is_key": "1",
        },
    )
    assert response.status_code == 302
    assert Task.objects.filter(lead_unit=world.dept, is_key=True).count() == 2
    page = hq.get("/indicators/check/").content.decode()
    assert "进度计划" in page and "缺任务" not in page


def test_matrix_page_colours_cells(client, world):
    TaskFactory(item=world.item, lead_unit=world.dept, deadline=dt.date(2020, 1, 1))
    TaskFactory(item=world.item2, lead_unit=world.other, state=Task.State.CLOSED)
    page = login(client, world.hq).get("/indicators/matrix/").content.decode()
    assert "cell-red" in page and "cell-closed" in page and "城管局" in page


def test_responsibility_table_is_laid_out_for_printing(client, world):
    task = TaskFactory(
        item=world.item,
        lead_unit=world.dept,
        responsible_person=world.handler,
        deadline=dt.date(2026, 12, 31),
    )
    task.co_units.add(world.other)
    TaskFactory(item=world.item, lead_unit=world.other)
    response = login(client, world.hq).get(f"/indicators/systems/{world.system.pk}/responsibility/")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A1"].value == "测试体系（2026）责任分解表"
    assert [c.value for c in sheet[2]][:7] == [
        "序号",
        "测评项目",
        "测评内容",
        "测评标准",
        "分值",
        "牵头单位",
        "配合单位",
    ]
    assert (
        sheet["F3"].value == "城管局" and sheet["G3"].value == "住建局" and sheet["J3"].value == "2026-12-31"
    )
    assert sheet["F5"].value == "（未分解）"
    assert "C3:C4" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$2"


def test_menu_and_home_tasks(client, world):
    page = login(client, world.hq).get("/").content.decode()
    assert "五落实" in page and "任务矩阵" in page
    page = login(client, world.handler).get("/").content.decode()
    assert "我的创建任务" in page and "五落实" not in page


def test_evidence_page_checks_scope(client, world, photo):
    from indicators import services
    from org.audit import Actor

    task = TaskFactory(item=world.item, lead_unit=world.dept)
    report = services.report_progress(Actor(world.handler), task, 10, "x", [photo])
    evidence = report.evidence.get()
    assert login(client, world.handler).get(f"/indicators/evidence/{evidence.pk}/").status_code == 200
    assert login(client, world.other_handler).get(f"/indicators/evidence/{evidence.pk}/").status_code == 404


def test_the_task_timeline_names_its_channels_in_chinese(client, world):
    from indicators.models import TaskEvent

    task = TaskFactory(item=world.item, criterion=world.criterion, lead_unit=world.dept)
    TaskEvent.objects.create(task=task, kind=TaskEvent.Kind.CREATED, via="command")
    TaskEvent.objects.create(
        task=task, kind=TaskEvent.Kind.PROGRESS, actor=world.handler, via="web", ip="127.0.0.1"
    )
    TaskEvent.objects.create(task=task, kind=TaskEvent.Kind.PROGRESS, actor=world.handler, via="api")
    body = login(client, world.hq).get(f"/indicators/tasks/{task.pk}/").content.decode()
    timeline = body[body.index("<tbody", body.rindex("<table")) :]
    assert "系统任务" in timeline and "网页 · 127.0.0.1" in timeline and "接口" in timeline
    assert "command" not in timeline and ">web" not in timeline and ">api" not in timeline


def test_the_board_filters_are_labelled(client, world):
    body = login(client, world.hq).get("/indicators/").content.decode()
    for name, label in [("system", "测评体系"), ("state", "任务状态"), ("level", "预警等级")]:
        assert f'<select name="{name}" aria-label="{label}">' in body
