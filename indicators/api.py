"""JSON API of index systems and tasks, under /api/v1/indicators/. Every step calls the same
service as the pages; refusals come back as {"detail": "..."} (403, 400, 409, 404)."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from org.audit import Actor
from org.models import Role, Unit, User
from org.scope import require_role

from . import queries, services, xlsx
from .models import Criterion, IndexItem, IndexSystem, ProgressReport, Task

router = Router(tags=["测评体系与任务 indicators"])


def _actor(request) -> Actor:
    return Actor.from_request(request, via="api")


# -- schemas ---------------------------------------------------------------------------------------


class SystemOut(Schema):
    id: int
    name: str
    version: str
    campaign_year: int
    is_active: bool
    note: str


class CriterionOut(Schema):
    id: int
    code: str
    text: str
    points: float
    method: str
    frequency: str


class IndexItemOut(Schema):
    id: int
    code: str
    name: str
    points: float
    criteria: list[CriterionOut]


class ProjectOut(Schema):
    id: int
    code: str
    name: str
    points: float
    items: list[IndexItemOut]


class SystemTreeOut(SystemOut):
    projects: list[ProjectOut]


class IndexImportErrorOut(Schema):
    sheet: str
    row: int
    column: str
    message: str


class IndexImportFailedOut(Schema):
    detail: str
    # Empty when the request itself was refused before the workbook was read (e.g. a bad field).
    errors: list[IndexImportErrorOut] = []


class ImportPreviewOut(Schema):
    detail: str
    counts: dict[str, int]
    warnings: list[IndexImportErrorOut]


class ImportIn(Schema):
    name: str
    version: str
    campaign_year: int
    note: str = ""
    dry_run: bool = False


class TaskOut(Schema):
    id: int
    title: str
    system_id: int
    item_id: int
    item_code: str
    item_name: str
    criterion_id: int | None
    lead_unit_id: int | None
    lead_unit_name: str | None
    co_unit_ids: list[int]
    responsible_leader_id: int | None
    responsible_person_id: int | None
    deadline: dt.date | None
    acceptance_standard: str
    is_key: bool
    state: str
    progress: int
    reopen_count: int
    closed_at: dt.datetime | None
    warning_level: str
    warning_label: str
    days_left: int | None


class MilestoneIO(Schema):
    month: dt.date
    target: int
    description: str = ""


class EvidenceOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class ReportOut(Schema):
    id: int
    task_id: int
    percent: int
    text: str
    is_close_out: bool
    reported_by_id: int | None
    reported_at: dt.datetime
    review: str
    review_note: str
    evidence: list[EvidenceOut]


class TaskEventOut(Schema):
    kind: str
    at: dt.datetime
    actor_id: int | None
    via: str
    ip: str | None
    note: str
    data: dict[str, Any]


class TaskDetailOut(TaskOut):
    milestones: list[MilestoneIO]
    reports: list[ReportOut]
    events: list[TaskEventOut]
    allowed_actions: list[str] = Field(
        description="decompose, report, decide_close_out, reopen, review: the steps the caller may take"
    )


class AssignmentIn(Schema):
    lead_unit_id: int | None = None
    co_unit_ids: list[int] | None = None
    responsible_leader_id: int | None = None
    responsible_person_id: int | None = None
    deadline: dt.date | None = None
    acceptance_standard: str | None = None
    is_key: bool | None = None


class TaskIn(AssignmentIn):
    item_id: int
    criterion_id: int | None = None
    title: str = ""


class TaskPatch(AssignmentIn):
    title: str | None = None


class BulkIn(AssignmentIn):
    item_ids: list[int]


class TaskNoteIn(Schema):
    note: str = ""


class ReopenIn(Schema):
    reason: str


class ProgressReviewIn(Schema):
    accepted: bool
    note: str = ""


class FiveCheckOut(Schema):
    item_id: int
    item_code: str
    item_name: str
    task_id: int | None
    missing: list[str]


class MatrixUnitOut(Schema):
    id: int
    name: str


class MatrixRowOut(Schema):
    item_id: int
    item_code: str
    item_name: str
    cells: list[str]


class MatrixOut(Schema):
    units: list[MatrixUnitOut]
    rows: list[MatrixRowOut]


# -- helpers ---------------------------------------------------------------------------------------


def _task_out(task: Task, warning: queries.Warning) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "system_id": task.item.project.system_id,
        "item_id": task.item_id,
        "item_code": task.item.code,
        "item_name": task.item.name,
        "criterion_id": task.criterion_id,
        "lead_unit_id": task.lead_unit_id,
        "lead_unit_name": task.lead_unit.name if task.lead_unit else None,
        "co_unit_ids": [u.pk for u in task.co_units.all()],
        "responsible_leader_id": task.responsible_leader_id,
        "responsible_person_id": task.responsible_person_id,
        "deadline": task.deadline,
        "acceptance_standard": task.acceptance_standard,
        "is_key": task.is_key,
        "state": task.state,
        "progress": task.progress,
        "reopen_count": task.reopen_count,
        "closed_at": task.closed_at,
        "warning_level": warning.level,
        "warning_label": warning.label,
        "days_left": warning.days_left,
    }


def _report_out(report: ProgressReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "task_id": report.task_id,
        "percent": report.percent,
        "text": report.text,
        "is_close_out": report.is_close_out,
        "reported_by_id": report.reported_by_id,
        "reported_at": report.reported_at,
        "review": report.review,
        "review_note": report.review_note,
        "evidence": [
            {
                "id": e.pk,
                "name": e.name,
                "content_type": e.content_type,
                "size": e.size,
                "url": reverse("api-v1:indicators_evidence", args=[e.pk]),
            }
            for e in report.evidence.all()
        ],
    }


def _visible(request, task_id: int) -> Task:
    return get_object_or_404(queries.with_details(queries.visible_tasks(request.user)), pk=task_id)


def _fresh(request, task_id: int) -> dict[str, Any]:
    task = _visible(request, task_id)
    return _task_out(task, queries.Warnings([task]).of(task))


def _pick(model, pk: int | None, label: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({label: f"不存在：{pk}"})
    return found


def _assignment(data: AssignmentIn) -> services.Assignment:
    co_units = None
    if data.co_unit_ids is not None:
        co_units = list(Unit.objects.filter(pk__in=data.co_unit_ids))
        if len(co_units) != len(set(data.co_unit_ids)):
            raise ValidationError({"co_unit_ids": "有配合单位不存在"})
    return services.Assignment(
        lead_unit=_pick(Unit, data.lead_unit_id, "lead_unit_id"),
        co_units=co_units,
        responsible_leader=_pick(User, data.responsible_leader_id, "responsible_leader_id"),
        responsible_person=_pick(User, data.responsible_person_id, "responsible_person_id"),
        deadline=data.deadline,
        acceptance_standard=data.acceptance_standard,
        is_key=data.is_key,
    )


def _system(system_id: int) -> IndexSystem:
    return get_object_or_404(IndexSystem, pk=system_id)


# -- systems ---------------------------------------------------------------------------------------


@router.get("/systems", response=list[SystemOut])
def list_systems(request):
    return IndexSystem.objects.all()


@router.get("/systems/{int:system_id}", response=SystemTreeOut)
def get_system(request, system_id: int):
    return get_object_or_404(IndexSystem.objects.prefetch_related("projects__items__criteria"), pk=system_id)


def _placed(errors) -> list[dict]:
    return [{"sheet": e.sheet, "row": e.row, "column": e.column, "message": e.message} for e in errors]


@router.post("/systems", response={200: ImportPreviewOut, 201: SystemOut, 400: IndexImportFailedOut})
def import_system(request, data: Form[ImportIn], file: File[UploadedFile]):
    """Import an XLSX file as a new system version; a file with any error imports nothing.
    ``dry_run``: check it and answer 200 with the counts and warnings, writing nothing."""
    system, result = services.import_system(
        _actor(request),
        file,
        name=data.name,
        version=data.version,
        campaign_year=data.campaign_year,
        note=data.note,
        dry_run=data.dry_run,
    )
    if system is None:
        errors = _placed(result.errors)
        return Status(400, {"detail": f"文件有 {len(errors)} 处错误，未导入任何数据", "errors": errors})
    if data.dry_run:
        preview = {"detail": "预览：文件可以导入，未写入任何数据", "counts": result.counts}
        return Status(200, {**preview, "warnings": _placed(result.warnings)})
    return Status(201, system)


@router.post("/systems/{int:system_id}/activate", response=SystemOut)
def activate_system(request, system_id: int):
    return services.activate_system(_actor(request), _system(system_id))


@router.get("/systems/{int:system_id}/export")
def export_system(request, system_id: int):
    system = _system(system_id)
    return FileResponse(
        xlsx.export_system(system), as_attachment=True, filename=f"{system.name}-{system.version}.xlsx"
    )


@router.get("/systems/{int:system_id}/responsibility")
def export_responsibility(request, system_id: int):
    """责任分解表 (XLSX) of the tasks the caller may see."""
    system = _system(system_id)
    tasks = list(
        queries.with_details(queries.visible_tasks(request.user).filter(item__project__system=system))
    )
    return FileResponse(
        xlsx.export_responsibility(system, tasks),
        as_attachment=True,
        filename=f"责任分解表-{system.name}.xlsx",
    )


@router.get("/systems/{int:system_id}/five-check", response=list[FiveCheckOut])
def five_check(request, system_id: int):
    require_role(request.user, Role.HQ_ADMIN)
    return [
        {
            "item_id": row.item.pk,
            "item_code": row.item.code,
            "item_name": row.item.name,
            "task_id": row.task.pk if row.task else None,
            "missing": row.missing,
        }
        for row in queries.five_check(_system(system_id))
    ]


@router.get("/systems/{int:system_id}/matrix", response=MatrixOut)
def matrix(request, system_id: int):
    require_role(request.user, Role.HQ_ADMIN, Role.LEADER, Role.INSPECTOR)
    result = queries.matrix(_system(system_id), queries.visible_tasks(request.user))
    return {
        "units": [{"id": u.pk, "name": u.name} for u in result.units],
        "rows": [
            {"item_id": item.pk, "item_code": item.code, "item_name": item.name, "cells": cells}
            for item, cells in result.rows
        ],
    }


# -- tasks -----------------------------------------------------------------------------------------


@router.get("/tasks", response=list[TaskOut])
@paginate
def list_tasks(
    request,
    system_id: int | None = None,
    state: str | None = None,
    unit_id: int | None = None,
    key: bool = False,
    level: str | None = None,
):
    """The caller's tasks, most urgent first, each with its warning level."""
    tasks = queries.filter_tasks(
        queries.visible_tasks(request.user), system_id=system_id, state=state, unit_id=unit_id, key=key
    )
    rows = queries.board(tasks)
    return [_task_out(task, warning) for task, warning in rows if level is None or warning.level == level]


@router.post("/tasks", response={201: TaskOut})
def create_task(request, data: TaskIn):
    item = get_object_or_404(IndexItem, pk=data.item_id)
    criterion = _pick(Criterion, data.criterion_id, "criterion_id")
    task = services.create_task(
        _actor(request), item, _assignment(data), title=data.title, criterion=criterion
    )
    return Status(201, _fresh(request, task.pk))


@router.get("/tasks/{int:task_id}", response=TaskDetailOut)
def get_task(request, task_id: int):
    task = _visible(request, task_id)
    out = _task_out(task, queries.Warnings([task]).of(task))
    out["milestones"] = list(task.milestones.all())
    out["reports"] = [_report_out(r) for r in task.reports.prefetch_related("evidence")]
    out["events"] = list(task.events.all())
    out["allowed_actions"] = services.allowed_actions(request.user, task)
    return out


@router.patch("/tasks/{int:task_id}", response=TaskOut)
def update_task(request, task_id: int, data: TaskPatch):
    task = _visible(request, task_id)
    services.update_task(_actor(request), task, _assignment(data), title=data.title)
    return _fresh(request, task_id)


@router.post("/tasks/bulk-assign", response=list[TaskOut])
def bulk_assign(request, data: BulkIn):
    items = list(IndexItem.objects.filter(pk__in=data.item_ids))
    if len(items) != len(set(data.item_ids)):
        raise ValidationError({"item_ids": "有测评内容不存在"})
    tasks = services.bulk_assign(_actor(request), items, _assignment(data))
    return [_fresh(request, t.pk) for t in tasks]


@router.put("/tasks/{int:task_id}/milestones", response=list[MilestoneIO])
def set_milestones(request, task_id: int, plan: list[MilestoneIO]):
    task = _visible(request, task_id)
    return services.set_milestones(_actor(request), task, [(m.month, m.target, m.description) for m in plan])


@router.post("/tasks/{int:task_id}/progress", response={201: ReportOut})
def report_progress(
    request, task_id: int, percent: Form[int], text: Form[str], files: File[list[UploadedFile] | None] = None
):
    task = _visible(request, task_id)
    report = services.report_progress(_actor(request), task, percent, text, files or [])
    return Status(201, _report_out(report))


@router.post("/tasks/{int:task_id}/close-out", response={201: ReportOut})
def request_close_out(request, task_id: int, text: Form[str], files: File[list[UploadedFile] | None] = None):
    task = _visible(request, task_id)
    report = services.request_close_out(_actor(request), task, text, files or [])
    return Status(201, _report_out(report))


@router.post("/tasks/{int:task_id}/approve", response=TaskOut)
def approve_close_out(request, task_id: int, data: TaskNoteIn):
    services.approve_close_out(_actor(request), _visible(request, task_id), data.note)
    return _fresh(request, task_id)


@router.post("/tasks/{int:task_id}/reject", response=TaskOut)
def reject_close_out(request, task_id: int, data: TaskNoteIn):
    services.reject_close_out(_actor(request), _visible(request, task_id), data.note)
    return _fresh(request, task_id)


@router.post("/tasks/{int:task_id}/reopen", response=TaskOut)
def reopen_task(request, task_id: int, data: ReopenIn):
    services.reopen_task(_actor(request), _visible(request, task_id), data.reason)
    return _fresh(request, task_id)


@router.post("/reports/{int:report_id}/review", response=ReportOut)
def review_report(request, report_id: int, data: ProgressReviewIn):
    report = get_object_or_404(
        ProgressReport.objects.filter(task__in=queries.visible_tasks(request.user)), pk=report_id
    )
    return _report_out(services.review_report(_actor(request), report, data.accepted, data.note))


@router.get("/evidence/{int:evidence_id}", url_name="indicators_evidence")
def evidence(request, evidence_id: int):
    return queries.evidence_file(request.user, evidence_id)
