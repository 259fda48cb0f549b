"""The actions on index systems and tasks. Every state change is one function here, taking the
``Actor`` first, checking role and scope, running in one transaction and writing its event.

- HQ (创文办) imports and activates systems, decomposes items into tasks (one by one or in bulk),
  plans monthly milestones, reviews progress and approves or returns close-out requests (销号).
- The lead unit (牵头单位) reports progress with evidence and asks for close-out.
- HQ or an inspector reopens a closed task when the problem is back; reopenings are counted.
"""

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Role, Unit, User
from org.scope import require_role, scope_for
from org.sheets import CREATED, ImportResult, RowError
from org.text import clean_text

from . import xlsx
from .models import Evidence, IndexItem, IndexSystem, Milestone, ProgressReport, Task, TaskEvent
from .notices import notify_reopened

logger = logging.getLogger(__name__)
HQ_ROLES = (Role.HQ_ADMIN,)
REOPEN_ROLES = (Role.HQ_ADMIN, Role.INSPECTOR)
UNIT_ROLES = (Role.HANDLER, Role.REPORT_CLERK)
OPEN_STATES = (Task.State.ASSIGNED, Task.State.IN_PROGRESS)
OFFICE_SUFFIXES = {".pdf": "application/pdf"}
ZIP_SUFFIXES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def _user(actor: Actor) -> User:
    if actor.user is None:
        raise PermissionDenied("需要登录")
    return actor.user


def _require_hq(actor: Actor):
    return require_role(_user(actor), *HQ_ROLES)


# -- who may take which step (pages and API show exactly these) --------------------------------


def check_decompose(user: User | None, task: Task | None = None) -> None:
    """调整分解 / 月度节点: HQ, on a task that is not closed."""
    if user is None:
        raise PermissionDenied("需要登录")
    require_role(user, *HQ_ROLES)
    if task is not None and task.state == Task.State.CLOSED:
        raise ActionRefused("任务已销号，请先重新打开再调整")


def check_report(user: User | None, task: Task) -> None:
    """报告进度 / 申请销号: the lead unit's people (or the responsible person) on an open task."""
    if user is None:
        raise PermissionDenied("需要登录")
    scope = scope_for(user)
    if not (scope.acts_for(task.lead_unit_id, *UNIT_ROLES) or task.responsible_person_id == user.pk):
        raise PermissionDenied("只有牵头单位的人员可以报告该任务")
    if task.state not in OPEN_STATES:
        raise ActionRefused(f"任务{task.get_state_display()}，不能报告进度或申请销号")


def check_review(user: User | None, report: ProgressReport) -> None:
    """审核进度: HQ, on a pending progress report (not a close-out request)."""
    if user is None:
        raise PermissionDenied("需要登录")
    require_role(user, *HQ_ROLES)
    if report.is_close_out:
        raise ActionRefused("销号申请请通过批准或退回销号处理")
    if report.review != ProgressReport.Review.PENDING:
        raise ActionRefused("该进度报告已审核")


def check_decide_close_out(user: User | None, task: Task) -> None:
    """批准 / 退回销号: HQ, on a task whose close-out request is pending."""
    if user is None:
        raise PermissionDenied("需要登录")
    require_role(user, *HQ_ROLES)
    if task.state != Task.State.CLOSE_REQUESTED:
        raise ActionRefused("该任务没有待审核的销号申请")


def check_reopen(user: User | None, task: Task) -> None:
    """重新打开: HQ or an inspector, on a closed task."""
    if user is None:
        raise PermissionDenied("需要登录")
    require_role(user, *REOPEN_ROLES)
    if task.state != Task.State.CLOSED:
        raise ActionRefused("只有已销号的任务可以重新打开")


TASK_CHECKS = {
    "decompose": check_decompose,
    "report": check_report,
    "decide_close_out": check_decide_close_out,
    "reopen": check_reopen,
}


def system_actions(user: User) -> list[str]:
    """What ``user`` may do with index systems: import, activate and decompose (HQ only)."""
    try:
        check_decompose(user)
    except PermissionDenied:
        return []
    return ["import", "activate", "decompose"]


def allowed_actions(user: User, task: Task) -> list[str]:
    """The steps ``user`` may take on ``task`` now; ``review`` when a report of it awaits HQ."""
    allowed = []
    for name, check in TASK_CHECKS.items():
        try:
            check(user, task)
        except (PermissionDenied, ActionRefused, ValidationError):
            continue
        allowed.append(name)
    try:
        require_role(user, *HQ_ROLES)
    except PermissionDenied:
        pass
    else:
        allowed.append("review")
    return allowed


def _event(actor: Actor, task: Task, kind: str, note: str = "", **data: Any) -> TaskEvent:
    return TaskEvent.objects.create(
        task=task, kind=kind, actor=actor.user, via=actor.via, ip=actor.ip, note=note[:300], data=data
    )


def _locked(task: Task) -> Task:
    """The task row re-read under a lock, so two concurrent steps cannot both pass the state check."""
    return Task.objects.select_for_update().get(pk=task.pk)


# -- index systems ---------------------------------------------------------------------------


def import_system(
    actor: Actor, file, *, name: str, version: str, campaign_year: int, note: str = "", dry_run: bool = False
) -> tuple[IndexSystem | None, ImportResult]:
    """Import an index system from XLSX as a new version. Any error in the file imports nothing.
    ``dry_run``: build it in a transaction that is rolled back (the page's preview); the system
    returned then no longer exists."""
    _require_hq(actor)
    result = ImportResult()
    if not name.strip() or not version.strip():
        raise ValidationError("请填写体系名称和版本")
    if IndexSystem.objects.filter(name=name, version=version).exists():
        result.errors.append(RowError("-", 0, "-", f"「{name}」版本「{version}」已存在，请使用新的版本号"))
        return None, result
    sheet = xlsx.validate_workbook(file, result)
    if sheet is None:
        logger.warning(
            "index system import refused: %d errors, first: %s", len(result.errors), result.errors[:1]
        )
        return None, result
    with transaction.atomic():
        system = IndexSystem.objects.create(
            name=name, version=version, campaign_year=campaign_year, note=note
        )
        result.counts = xlsx.write_tree(system, sheet.rows)
        result.changes = {level: {CREATED: count} for level, count in result.counts.items()}
        if dry_run:
            transaction.set_rollback(True)
            return system, result
        record(
            actor,
            "indicators.import",
            system,
            f"导入测评体系 {system}：{result.summary()}",
            counts=result.counts,
        )
    return system, result


@transaction.atomic
def activate_system(actor: Actor, system: IndexSystem) -> IndexSystem:
    """Make ``system`` the one in use for its campaign year (the previous one stops being active)."""
    _require_hq(actor)
    IndexSystem.objects.filter(campaign_year=system.campaign_year, is_active=True).exclude(
        pk=system.pk
    ).update(is_active=False)
    system.is_active = True
    system.save(update_fields=["is_active"])
    record(actor, "indicators.activate", system, f"启用测评体系 {system}（{system.campaign_year}年度）")
    return system


# -- decomposition ---------------------------------------------------------------------------


@dataclass
class Assignment:
    """The decomposition fields of a task. ``None`` means "leave as it is" in bulk assignment."""

    lead_unit: Unit | None = None
    co_units: Sequence[Unit] | None = None
    responsible_leader: User | None = None
    responsible_person: User | None = None
    deadline: dt.date | None = None
    acceptance_standard: str | None = None
    is_key: bool | None = None

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


def _apply(task: Task, assignment: Assignment) -> dict[str, str]:
    """Set the given fields on ``task`` (saved by the caller); returns what changed, for the event."""
    changed: dict[str, str] = {}
    for field, value in assignment.changes().items():
        if field == "co_units":
            continue
        if getattr(task, field) != value:
            setattr(task, field, value)
            changed[field] = str(value)
    if (
        task.lead_unit is not None
        and task.responsible_person_id
        and not task.lead_unit.memberships.filter(user_id=task.responsible_person_id).exists()
    ):
        raise ValidationError({"responsible_person": "责任人应为牵头单位的人员"})
    return changed


def _set_co_units(task: Task, co_units: Sequence[Unit] | None, changed: dict[str, str]) -> None:
    # The lead unit is never also its own co-unit, even when only the lead unit changed.
    current = list(task.co_units.all())
    chosen = current if co_units is None else list(co_units)
    wanted = [u for u in chosen if u.pk != task.lead_unit_id]
    if {u.pk for u in wanted} != {u.pk for u in current}:
        task.co_units.set(wanted)
        changed["co_units"] = "、".join(u.name for u in wanted)


@transaction.atomic
def create_task(
    actor: Actor, item: IndexItem, assignment: Assignment, *, title: str = "", criterion=None
) -> Task:
    """分解任务: decompose an index item (or one of its criteria) into a task."""
    _require_hq(actor)
    if criterion is not None and criterion.item_id != item.pk:
        raise ValidationError({"criterion": "测评标准不属于该测评内容"})
    task = Task(item=item, criterion=criterion, title=title or (criterion.text if criterion else item.name))
    if assignment.acceptance_standard is None:
        texts = [criterion.text] if criterion else list(item.criteria.values_list("text", flat=True))
        task.acceptance_standard = "；".join(texts)
    changed = _apply(task, assignment)
    task.save()
    _set_co_units(task, assignment.co_units, changed)
    _event(actor, task, TaskEvent.Kind.CREATED, task.title, **changed)
    return task


@transaction.atomic
def update_task(actor: Actor, task: Task, assignment: Assignment, *, title: str | None = None) -> Task:
    """调整分解: change a task's unit, people, deadline, acceptance standard or key-item flag."""
    task = _locked(task)
    check_decompose(actor.user, task)
    changed = _apply(task, assignment)
    if title is not None and title.strip() and title != task.title:
        task.title = title.strip()
        changed["title"] = task.title
    task.save()
    _set_co_units(task, assignment.co_units, changed)
    if changed:
        _event(actor, task, TaskEvent.Kind.UPDATED, "、".join(changed), **changed)
    return task


@transaction.atomic
def bulk_assign(actor: Actor, items: Iterable[IndexItem], assignment: Assignment) -> list[Task]:
    """批量分解: give every chosen item the same assignment; items without a task get one."""
    _require_hq(actor)
    if not assignment.changes():
        raise ValidationError("请至少填写一项分解内容")
    tasks: list[Task] = []
    for item in items:
        existing = list(item.tasks.exclude(state=Task.State.CLOSED))
        if existing:
            tasks.extend(update_task(actor, task, assignment) for task in existing)
        elif not item.tasks.exists():
            tasks.append(create_task(actor, item, assignment))
    return tasks


@transaction.atomic
def set_milestones(actor: Actor, task: Task, plan: Iterable[tuple[dt.date, int, str]]) -> list[Milestone]:
    """月度节点: replace the task's monthly plan with ``plan`` (month, target %, description)."""
    _require_hq(actor)
    task = _locked(task)
    rows: dict[dt.date, Milestone] = {}
    for month, target, description in plan:
        first = month.replace(day=1)
        if not 0 <= target <= 100:
            raise ValidationError({"target": f"{first:%Y年%m月}的目标进度应在 0 到 100 之间"})
        if first in rows:
            raise ValidationError({"month": f"{first:%Y年%m月}重复"})
        rows[first] = Milestone(
            task=task, month=first, target=target, description=clean_text(description, 200, "节点内容")
        )
    targets = [rows[m].target for m in sorted(rows)]
    if targets != sorted(targets):
        raise ValidationError({"target": "各月目标进度应逐月不减"})
    task.milestones.all().delete()
    created = Milestone.objects.bulk_create(rows[m] for m in sorted(rows))
    _event(
        actor,
        task,
        TaskEvent.Kind.MILESTONES,
        f"{len(created)} 个月度节点",
        plan=[f"{m:%Y-%m} {rows[m].target}%" for m in sorted(rows)],
    )
    return created


# -- progress and close-out -------------------------------------------------------------------


def _content_type(upload: UploadedFile) -> str:
    """The file's type judged by its content (photos, PDF, Office documents), or ValidationError."""
    name = (upload.name or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if suffix in OFFICE_SUFFIXES and head.startswith(b"%PDF-"):
        return OFFICE_SUFFIXES[suffix]
    if suffix in ZIP_SUFFIXES and head.startswith(b"PK\x03\x04"):
        return ZIP_SUFFIXES[suffix]
    try:
        with Image.open(upload) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError({"files": f"「{upload.name}」不是可识别的图片、PDF 或 Office 文档"}) from exc
    finally:
        upload.seek(0)
    if kind not in ("JPEG", "PNG", "GIF", "WEBP", "BMP"):
        raise ValidationError({"files": f"「{upload.name}」的图片格式不受支持"})
    return f"image/{kind.lower()}"


def _attach(report: ProgressReport, files: Sequence[UploadedFile]) -> None:
    limit = getattr(settings, "INDICATORS_MAX_EVIDENCE_BYTES", MAX_EVIDENCE_BYTES)
    for upload in files:
        if upload.size and upload.size > limit:
            raise ValidationError({"files": f"「{upload.name}」超过 {limit // (1024 * 1024)} MB"})
        content_type = _content_type(upload)
        Evidence.objects.create(
            report=report,
            file=upload,
            name=(upload.name or "file")[:200],
            content_type=content_type,
            size=upload.size or 0,
        )


@transaction.atomic
def report_progress(
    actor: Actor, task: Task, percent: int, text: str, files: Sequence[UploadedFile] = ()
) -> ProgressReport:
    """报告进度: the lead unit reports how far the task is, with optional evidence."""
    task = _locked(task)
    check_report(actor.user, task)
    if not 0 <= percent <= 100:
        raise ValidationError({"percent": "进度应在 0 到 100 之间"})
    if not text.strip():
        raise ValidationError({"text": "请填写进展情况"})
    report = ProgressReport.objects.create(
        task=task, percent=percent, text=text.strip(), reported_by=actor.user
    )
    _attach(report, files)
    task.progress, task.state = percent, Task.State.IN_PROGRESS
    task.save(update_fields=["progress", "state"])
    _event(actor, task, TaskEvent.Kind.PROGRESS, text, percent=percent, report=report.pk, files=len(files))
    return report


@transaction.atomic
def review_report(actor: Actor, report: ProgressReport, accepted: bool, note: str = "") -> ProgressReport:
    """审核进度: HQ accepts a progress report or returns it with a note."""
    report = ProgressReport.objects.select_for_update().get(pk=report.pk)
    check_review(actor.user, report)
    if not accepted and not note.strip():
        raise ValidationError({"note": "退回时请填写意见"})
    report.review = ProgressReport.Review.ACCEPTED if accepted else ProgressReport.Review.RETURNED
    report.reviewed_by, report.reviewed_at, report.review_note = (
        actor.user,
        timezone.now(),
        clean_text(note, 300, "审核意见"),
    )
    report.save(update_fields=["review", "reviewed_by", "reviewed_at", "review_note"])
    _event(actor, report.task, TaskEvent.Kind.REVIEWED, note, report=report.pk, result=report.review)
    return report


@transaction.atomic
def request_close_out(actor: Actor, task: Task, text: str, files: Sequence[UploadedFile]) -> ProgressReport:
    """申请销号: the lead unit declares the task done, with evidence files."""
    task = _locked(task)
    check_report(actor.user, task)
    if not files:
        raise ValidationError({"files": "申请销号必须上传佐证材料"})
    if not text.strip():
        raise ValidationError({"text": "请说明完成情况"})
    report = ProgressReport.objects.create(
        task=task, percent=100, text=text.strip(), is_close_out=True, reported_by=actor.user
    )
    _attach(report, files)
    task.state = Task.State.CLOSE_REQUESTED
    task.save(update_fields=["state"])
    _event(actor, task, TaskEvent.Kind.CLOSE_REQUESTED, text, report=report.pk, files=len(files))
    return report


def _pending_close_out(task: Task) -> ProgressReport:
    report = task.reports.filter(is_close_out=True, review=ProgressReport.Review.PENDING).first()
    if report is None:
        raise ActionRefused("该任务没有待审核的销号申请")
    return report


@transaction.atomic
def approve_close_out(actor: Actor, task: Task, note: str = "") -> Task:
    """批准销号: HQ approves the close-out; the task is done."""
    task = _locked(task)
    check_decide_close_out(actor.user, task)
    report = _pending_close_out(task)
    now = timezone.now()
    ProgressReport.objects.filter(pk=report.pk).update(
        review=ProgressReport.Review.ACCEPTED,
        reviewed_by=actor.user,
        reviewed_at=now,
        review_note=clean_text(note, 300, "审核意见"),
    )
    task.state, task.progress, task.closed_at, task.closed_by = Task.State.CLOSED, 100, now, actor.user
    task.save(update_fields=["state", "progress", "closed_at", "closed_by"])
    _event(actor, task, TaskEvent.Kind.CLOSED, note, report=report.pk)
    return task


@transaction.atomic
def reject_close_out(actor: Actor, task: Task, note: str) -> Task:
    """退回销号申请: HQ returns the close-out request; the unit keeps working."""
    task = _locked(task)
    check_decide_close_out(actor.user, task)
    if not note.strip():
        raise ValidationError({"note": "退回销号申请时请填写意见"})
    report = _pending_close_out(task)
    ProgressReport.objects.filter(pk=report.pk).update(
        review=ProgressReport.Review.RETURNED,
        reviewed_by=actor.user,
        reviewed_at=timezone.now(),
        review_note=clean_text(note, 300, "审核意见"),
    )
    task.state = Task.State.IN_PROGRESS
    task.save(update_fields=["state"])
    _event(actor, task, TaskEvent.Kind.CLOSE_REJECTED, note, report=report.pk)
    return task


@transaction.atomic
def reopen_task(actor: Actor, task: Task, reason: str) -> Task:
    """重新打开: a closed task is open again (e.g. an inspection found the problem back); counted."""
    task = _locked(task)
    check_reopen(actor.user, task)
    if not reason.strip():
        raise ValidationError({"reason": "请填写重新打开的原因"})
    task.state, task.closed_at, task.closed_by = Task.State.IN_PROGRESS, None, None
    task.reopen_count += 1
    task.save(update_fields=["state", "closed_at", "closed_by", "reopen_count"])
    _event(actor, task, TaskEvent.Kind.REOPENED, reason, count=task.reopen_count)
    notify_reopened(task, reason)
    return task
