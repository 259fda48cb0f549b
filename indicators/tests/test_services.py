"""The task lifecycle through the services: decomposition, progress, close-out (销号), reopening,
and who may do each step."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from indicators import services
from indicators.models import ProgressReport, Task, TaskEvent
from indicators.services import Assignment
from org.errors import ActionRefused
from org.models import AuditLog

pytestmark = pytest.mark.django_db


def assigned(world, **kwargs) -> Task:
    fields = {
        "lead_unit": world.dept,
        "co_units": [world.other],
        "responsible_leader": world.leader,
        "responsible_person": world.handler,
        "deadline": dt.date(2026, 12, 31),
        "is_key": True,
    } | kwargs
    return services.create_task(world.actor(world.hq), world.item, Assignment(**fields))


def kinds(task) -> list[str]:
    return list(task.events.values_list("kind", flat=True))


def test_full_lifecycle_records_every_step(world, photo):
    hq, unit = world.actor(world.hq), world.actor(world.handler, via="api")
    task = assigned(world)
    assert task.acceptance_standard == "路面平整"
    assert list(task.co_units.all()) == [world.other]
    services.set_milestones(
        hq, task, [(dt.date(2026, 11, 5), 30, "摸底"), (dt.date(2026, 12, 1), 100, "完成")]
    )
    report = services.report_progress(unit, task, 40, "已完成摸底", [photo])
    task.refresh_from_db()
    assert (task.state, task.progress) == (Task.State.IN_PROGRESS, 40)
    assert report.evidence.get().content_type == "image/png"
    services.review_report(hq, report, accepted=True)
    close = services.request_close_out(
        unit, task, "全部整改完毕", [SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")]
    )
    task.refresh_from_db()
    assert task.state == Task.State.CLOSE_REQUESTED
    services.approve_close_out(hq, task, "同意销号")
    task.refresh_from_db()
    close.refresh_from_db()
    assert (task.state, task.progress, task.closed_by) == (Task.State.CLOSED, 100, world.hq)
    assert close.review == ProgressReport.Review.ACCEPTED
    services.reopen_task(world.actor(world.inspector), task, "暗访发现问题反弹")
    task.refresh_from_db()
    assert (task.state, task.reopen_count, task.closed_at) == (Task.State.IN_PROGRESS, 1, None)
    assert kinds(task) == [
        "created",
        "milestones",
        "progress",
        "reviewed",
        "close_requested",
        "closed",
        "reopened",
    ]
    progress = task.events.get(kind="progress")
    assert (progress.actor, progress.via, progress.ip) == (world.handler, "api", "10.0.0.1")


def test_reopening_is_counted_each_time(world, photo):
    hq, unit = world.actor(world.hq), world.actor(world.handler)
    task = assigned(world)
    for n in (1, 2):
        services.request_close_out(unit, task, "完成", [photo])
        services.approve_close_out(hq, task)
        services.reopen_task(hq, task, f"第{n}次反弹")
    task.refresh_from_db()
    assert task.reopen_count == 2


def test_close_out_needs_evidence_and_a_pending_request(world):
    hq, unit = world.actor(world.hq), world.actor(world.handler)
    task = assigned(world)
    with pytest.raises(ValidationError):
        services.request_close_out(unit, task, "完成", [])
    with pytest.raises(ActionRefused):
        services.approve_close_out(hq, task)
    with pytest.raises(ActionRefused):
        services.reopen_task(hq, task, "未销号")
    task.refresh_from_db()
    assert task.state == Task.State.ASSIGNED and kinds(task) == ["created"]


def test_rejected_close_out_returns_to_work(world, photo):
    hq, unit = world.actor(world.hq), world.actor(world.handler)
    task = assigned(world)
    services.request_close_out(unit, task, "完成", [photo])
    with pytest.raises(ValidationError):
        services.reject_close_out(hq, task, "")
    services.reject_close_out(hq, task, "佐证不足")
    task.refresh_from_db()
    assert task.state == Task.State.IN_PROGRESS
    assert task.reports.get().review == ProgressReport.Review.RETURNED
    with pytest.raises(ActionRefused):
        services.approve_close_out(hq, task)


def test_evidence_is_checked_by_content(world):
    task = assigned(world)
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not an image")
    with pytest.raises(ValidationError):
        services.report_progress(world.actor(world.handler), task, 10, "进展", [fake])
    assert not ProgressReport.objects.exists()


def test_only_the_lead_unit_reports(world, photo):
    task = assigned(world)
    for user in (world.other_handler, world.street_handler, world.leader):
        with pytest.raises(PermissionDenied):
            services.report_progress(world.actor(user), task, 10, "进展")
        with pytest.raises(PermissionDenied):
            services.request_close_out(world.actor(user), task, "完成", [photo])
    assert not ProgressReport.objects.exists()


def test_only_hq_decomposes_reviews_and_closes(world, photo):
    task = assigned(world)
    unit = world.actor(world.handler)
    with pytest.raises(PermissionDenied):
        services.create_task(unit, world.item2, Assignment(lead_unit=world.dept))
    with pytest.raises(PermissionDenied):
        services.update_task(unit, task, Assignment(deadline=dt.date(2027, 1, 1)))
    services.request_close_out(unit, task, "完成", [photo])
    with pytest.raises(PermissionDenied):
        services.approve_close_out(unit, task)
    with pytest.raises(PermissionDenied):
        services.approve_close_out(world.actor(world.inspector), task)
    services.approve_close_out(world.actor(world.hq), task)
    with pytest.raises(PermissionDenied):
        services.reopen_task(unit, task, "反弹")


def test_progress_is_refused_while_closed_or_pending(world, photo):
    hq, unit = world.actor(world.hq), world.actor(world.handler)
    task = assigned(world)
    services.request_close_out(unit, task, "完成", [photo])
    with pytest.raises(ActionRefused):
        services.report_progress(unit, task, 90, "补充")
    services.approve_close_out(hq, task)
    with pytest.raises(ActionRefused):
        services.report_progress(unit, task, 90, "补充")
    with pytest.raises(ActionRefused):
        services.update_task(hq, task, Assignment(deadline=dt.date(2027, 1, 1)))


def test_responsible_person_must_belong_to_the_lead_unit(world):
    with pytest.raises(ValidationError):
        assigned(world, responsible_person=world.other_handler)
    assert not Task.objects.exists()


def test_update_records_what_changed(world):
    task = assigned(world)
    services.update_task(world.actor(world.hq), task, Assignment(deadline=dt.date(2027, 3, 1), co_units=[]))
    event = task.events.get(kind=TaskEvent.Kind.UPDATED)
    assert set(event.data) == {"deadline", "co_units"}
    assert task.co_units.count() == 0
    services.update_task(world.actor(world.hq), task, Assignment(deadline=dt.date(2027, 3, 1)))
    assert task.events.filter(kind=TaskEvent.Kind.UPDATED).count() == 1


def test_bulk_assign_creates_missing_tasks_and_updates_the_rest(world):
    existing = assigned(world)
    tasks = services.bulk_assign(
        world.actor(world.hq),
        [world.item, world.item2],
        Assignment(
            lead_unit=world.other, responsible_person=world.other_handler, deadline=dt.date(2027, 6, 30)
        ),
    )
    assert len(tasks) == 2
    existing.refresh_from_db()
    assert existing.lead_unit == world.other and existing.deadline == dt.date(2027, 6, 30)
    assert existing.co_units.count() == 0  # the new lead unit is no longer its own co-unit
    new = world.item2.tasks.get()
    assert (new.lead_unit, new.responsible_person, new.acceptance_standard) == (
        world.other,
        world.other_handler,
        "照明完好",
    )
    with pytest.raises(ValidationError):
        services.bulk_assign(world.actor(world.hq), [world.item], Assignment())


def test_milestones_must_not_go_down(world):
    task = assigned(world)
    with pytest.raises(ValidationError):
        services.set_milestones(
            world.actor(world.hq), task, [(dt.date(2026, 11, 1), 60, ""), (dt.date(2026, 12, 1), 40, "")]
        )
    with pytest.raises(ValidationError):
        services.set_milestones(world.actor(world.hq), task, [(dt.date(2026, 11, 1), 120, "")])
    assert not task.milestones.exists()


def test_import_and_activation_are_audited(world):
    from indicators import xlsx

    system, result = services.import_system(
        world.actor(world.hq), xlsx.sample_workbook(), name="样例", version="1", campaign_year=2026
    )
    services.activate_system(world.actor(world.hq), system)
    assert list(AuditLog.objects.order_by("at").values_list("action", flat=True)) == [
        "indicators.import",
        "indicators.activate",
    ]
