"""Imports in the background 后台导入: an uploaded workbook is stored, checked or imported by the
worker (Django's tasks API, ``manage.py db_worker``), and followed on a page with its progress.

A large workbook takes seconds to minutes (130,000 volunteers); in the request it would hold a web
worker that long and meet the server's timeout. Here the request only stores the file and
enqueues ``run_import``; the job's page (``org:import_job``) shows the stage and progress while
it runs, then the preview to confirm, the errors, or what was imported.

Each app registers its importer once (``register`` in its ``AppConfig.ready``): a function
``(actor, file, dry_run, progress) -> Outcome``. An importer with ``previews=True`` is first run as a
dry run (nothing written); the person who uploaded confirms the preview, which starts the real
import of the same file as a second job. The importers stay all-or-nothing: any error imports
nothing. The uploaded file lives under ``private/imports/`` until its job ends (a checked job
keeps it for ``CONFIRM_WITHIN`` to be confirmed); ``prune`` removes what is left.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django_tasks import task

from .audit import Actor, record
from .errors import ActionRefused
from .models import ImportJob, User

logger = logging.getLogger(__name__)

# A preview may be confirmed this long after it was checked.
CONFIRM_WITHIN = dt.timedelta(hours=1)

Progress = Callable[[str, int], None]


@dataclass
class Outcome:
    """What an importer found and did, in the words the job's page shows."""

    ok: bool
    summary: str = ""
    # Each problem as {sheet, row, column, message} (the first three may be absent).
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    preview: list[list] = field(default_factory=list)  # [sheet, created, changed, unchanged]


@dataclass(frozen=True)
class Importer:
    kind: str
    label: str
    run: Callable[[Actor, object, bool, Progress], Outcome]
    may_import: Callable[[User], bool]
    previews: bool
    back_url: str  # where the job's page links back to (a URL name)


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> None:
    IMPORTERS[importer.kind] = importer


def importer_of(kind: str) -> Importer:
    try:
        return IMPORTERS[kind]
    except KeyError:
        raise ValidationError(f"未知的导入类型：{kind}") from None


# -- the rules and the steps --------------------------------------------------------------------


def check_start(actor: Actor, kind: str) -> Importer:
    importer = importer_of(kind)
    if actor.user is None or not importer.may_import(actor.user):
        raise PermissionDenied(f"无权导入{importer.label}")
    return importer


def start(actor: Actor, kind: str, upload) -> ImportJob:
    """Store the upload and enqueue its job: a dry run for an importer that previews, else the
    import itself. The job is enqueued when the transaction commits."""
    importer = check_start(actor, kind)
    assert actor.user is not None  # check_start refuses the system
    name = PurePath(getattr(upload, "name", "") or "upload.xlsx").name[:200]
    upload.seek(0)
    stored = default_storage.save(f"private/imports/{uuid.uuid4().hex}.xlsx", ContentFile(upload.read()))
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            dry_run=importer.previews,
            file=stored,
            file_name=name,
            user=actor.user,
            ip=actor.ip,
            via=actor.via,
            stage="等待后台处理",
        )
        record(actor, "import.start", job, f"上传{importer.label}：{name}", dry_run=job.dry_run)
        transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


def check_confirm(actor: Actor, job: ImportJob) -> None:
    if actor.user is None or job.user_id != actor.user.pk:
        raise PermissionDenied("只能确认本人上传的文件")
    if not job.dry_run or job.state != ImportJob.State.CHECKED:
        raise ActionRefused("该任务不是待确认的预览")
    if ImportJob.objects.filter(checked_by=job).exists():
        raise ActionRefused("该预览已确认导入")
    if timezone.now() - (job.finished_at or job.created_at) > CONFIRM_WITHIN or not job.file:
        raise ActionRefused("预览已过期，请重新上传文件")


def confirm(actor: Actor, job: ImportJob) -> ImportJob:
    """Import the file a checked preview showed: a second job, enqueued when the transaction commits."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        check_confirm(actor, job)
        real = ImportJob.objects.create(
            kind=job.kind,
            dry_run=False,
            file=job.file,
            file_name=job.file_name,
            user=job.user,
            ip=actor.ip,
            via=actor.via,
            checked_by=job,
            stage="等待后台处理",
        )
        job.file = ""  # the file now belongs to the import
        job.save(update_fields=["file"])
        record(actor, "import.confirm", real, f"确认导入{importer_of(job.kind).label}：{job.file_name}")
        transaction.on_commit(lambda: run_import.enqueue(real.pk))
    return real


def visible_job(user: User, pk: int) -> ImportJob:
    """A job its uploader follows; anyone else gets a 404 (the file names people's data)."""
    job = ImportJob.objects.filter(pk=pk, user=user).first()
    if job is None:
        raise Http404
    return job


# -- the worker's side --------------------------------------------------------------------------


@task()
def run_import(job_id: int) -> str:
    """Run one job: claim it (a job runs once, whatever the number of workers), open its file,
    run the importer with a progress callback, store the outcome."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, started_at=timezone.now(), stage="开始处理", progress=1
    )
    if not claimed:
        return "该任务已由其他进程处理"
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    importer = importer_of(job.kind)
    actor = Actor(user=job.user, ip=job.ip, via=job.via)

    def progress(stage: str, percent: int) -> None:
        # Written only outside the importer's transaction, where other requests can read it (inside,
        # it would show only at the commit, and a dry run rolls it back).
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=job_id).update(stage=stage[:64], progress=max(1, min(percent, 99)))

    try:
        with default_storage.open(job.file, "rb") as file:
            file.name = job.file_name
            outcome = importer.run(actor, file, job.dry_run, progress)
    except Exception:
        logger.exception("import job %s (%s) failed", job_id, job.kind)
        outcome = Outcome(
            ok=False, errors=[{"message": "导入时发生内部错误，未导入任何数据；请联系管理员查看日志"}]
        )
    if outcome.ok:
        state = ImportJob.State.CHECKED if job.dry_run else ImportJob.State.DONE
    else:
        state = ImportJob.State.FAILED
        logger.warning(
            "import job %s (%s) refused the file: %d errors", job_id, job.kind, len(outcome.errors)
        )
    keep_file = state == ImportJob.State.CHECKED
    if not keep_file:
        default_storage.delete(job.file)
    ImportJob.objects.filter(pk=job_id).update(
        state=state,
        stage=ImportJob.State(state).label,
        progress=100,
        summary=outcome.summary[:500],
        errors=outcome.errors[:500],
        warnings=outcome.warnings[:500],
        preview=outcome.preview,
        finished_at=timezone.now(),
        file=job.file if keep_file else "",
    )
    return f"{job.kind} {ImportJob.State(state).label}"


def prune(now: dt.datetime) -> str:
    """Previews not confirmed in time expire and their files go (a periodic job)."""
    expired = 0
    for job in ImportJob.objects.filter(
        state=ImportJob.State.CHECKED, finished_at__lt=now - CONFIRM_WITHIN
    ).exclude(file=""):
        default_storage.delete(job.file)
        ImportJob.objects.filter(pk=job.pk).update(file="", state=ImportJob.State.EXPIRED, stage="已过期")
        expired += 1
    return f"过期预览 {expired} 个"
