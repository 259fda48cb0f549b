"""Periodic jobs 定时任务: what runs when, claimed once per period however many workers run.

The list of jobs is the project's (``NOTICES_SCHEDULE`` names it, e.g. ``chuangwen.schedule.JOBS``):
the jobs live in the apps that own their data (case deadline sweeps in ``cases``, task warnings
in ``indicators``), and this low layer never imports them. Each job is a ``Job``: a name, how
often (every N seconds, or daily at a local time, optionally on working days only) and a
function of the moment ``now`` that returns a one-line summary.

Once per period: running a job first inserts its ``JobRun(job, period)`` row; the pair is unique,
so when two workers reach the same job in the same period one insert wins and runs the job, the
other gets an IntegrityError and skips it. The row then records the end, success and summary.

The worker (``notices.tasks.tick``) calls ``tick(now)`` every ``NOTICES_TICK_SECONDS``: it beats
the heartbeat, runs the jobs due and sends the outbox. ``manage.py run_job NAME`` runs one job now.
"""

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from workdays.calendar import is_workday

from . import sending
from .models import Heartbeat, JobRun

logger = logging.getLogger(__name__)

HEARTBEAT = "worker"


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    run: Callable[[dt.datetime], object]
    every: dt.timedelta | None = None
    at: dt.time | None = None
    workdays_only: bool = False

    def period(self, now: dt.datetime) -> str | None:
        """The period ``now`` falls in (the job runs once in it), or None when not due."""
        local = timezone.localtime(now)
        if self.every is not None:
            seconds = int(self.every.total_seconds())
            start = int(now.timestamp()) // seconds * seconds
            moment = timezone.localtime(dt.datetime.fromtimestamp(start, tz=dt.UTC))
            return moment.strftime("%Y-%m-%dT%H:%M:%S")
        if self.at is not None and local.time() < self.at:
            return None
        if self.workdays_only and not is_workday(local.date()):
            return None
        return local.date().isoformat()


def jobs() -> Sequence[Job]:
    path = getattr(settings, "NOTICES_SCHEDULE", "")
    return tuple(import_string(path)) if path else ()


def job(name: str) -> Job:
    for j in jobs():
        if j.name == name:
            return j
    raise KeyError(name)


def tick_seconds() -> int:
    return int(getattr(settings, "NOTICES_TICK_SECONDS", 30))


def claim(name: str, period: str, now: dt.datetime) -> JobRun | None:
    """Insert the (job, period) row; None when another worker inserted it first."""
    try:
        with transaction.atomic():
            return JobRun.objects.create(job=name, period=period, started_at=now)
    except IntegrityError:
        return None


def run(j: Job, now: dt.datetime, period: str | None = None) -> JobRun | None:
    """Run ``j`` for ``period`` (default: the one ``now`` is in) unless it ran there already."""
    period = period or j.period(now) or timezone.localtime(now).date().isoformat()
    row = claim(j.name, period, now)
    if row is None:
        return None
    try:
        summary = j.run(now)
    except Exception as exc:  # a failing job is recorded and the others still run
        logger.exception("job %s failed", j.name)
        row.ok, row.detail = False, f"{type(exc).__name__}: {exc}"[:500]
    else:
        row.ok, row.detail = True, str(summary or "")[:500]
    row.finished_at = timezone.now()
    row.save(update_fields=["ok", "detail", "finished_at"])
    return row


def run_due(now: dt.datetime) -> list[JobRun]:
    runs = []
    for j in jobs():
        period = j.period(now)
        if period is not None:
            row = run(j, now, period)
            if row is not None:
                runs.append(row)
    return runs


def beat(now: dt.datetime, detail: str = "") -> None:
    Heartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"beat_at": now, "detail": detail[:200]})


def tick(now: dt.datetime | None = None) -> str:
    """One round of the worker: heartbeat, the jobs due, the outbox."""
    now = now or timezone.now()
    beat(now)
    runs = run_due(now)
    sent = sending.send_due(now)
    summary = f"任务 {len(runs)} 个；{sent}"
    beat(now, summary)
    return summary


@dataclass(frozen=True)
class WorkerStatus:
    beat_at: dt.datetime | None
    stalled: bool
    detail: str


def worker_status(now: dt.datetime | None = None) -> WorkerStatus:
    """What HQ sees: the last heartbeat, and whether the worker looks stalled (no tick for three
    ticks' time, or none ever)."""
    now = now or timezone.now()
    row = Heartbeat.objects.filter(name=HEARTBEAT).first()
    if row is None:
        return WorkerStatus(None, True, "后台进程从未运行")
    stalled = now - row.beat_at > dt.timedelta(seconds=3 * tick_seconds())
    return WorkerStatus(row.beat_at, stalled, row.detail)


def cleanup(now: dt.datetime) -> str:
    """Keep the bookkeeping small: ticks older than two days, job runs older than 90 days."""
    ticks = JobRun.objects.filter(job="tick", started_at__lt=now - dt.timedelta(days=2)).delete()[0]
    old = JobRun.objects.filter(started_at__lt=now - dt.timedelta(days=90)).delete()[0]
    return f"清理 {ticks + old} 条执行记录"
