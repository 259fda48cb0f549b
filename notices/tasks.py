"""The worker's task (Django's tasks API, run by ``manage.py db_worker``).

``tick(period)`` runs one round (``notices.schedule.tick``) and enqueues itself for the next
period, ``NOTICES_TICK_SECONDS`` later: a chain. Each tick first claims its period like any job
(``JobRun("tick", period)``), so if the chain was started twice (two ``start_schedule`` calls,
two machines) the second tick of a period finds it claimed and ends its chain: one chain runs,
whatever the number of workers. ``manage.py start_schedule`` starts the chain (harmless when one
runs); the heartbeat shows HQ when none does.
"""

import datetime as dt

from django.utils import timezone
from django_tasks import task

from . import schedule


def current_period(now: dt.datetime) -> int:
    return int(now.timestamp()) // schedule.tick_seconds()


def period_start(period: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(period * schedule.tick_seconds(), tz=dt.UTC)


def enqueue_tick(period: int):
    return tick.using(run_after=period_start(period)).enqueue(period)


@task()
def tick(period: int) -> str:
    now = timezone.now()
    if schedule.claim("tick", str(period), now) is None:
        return "本周期已由其他进程执行，本链结束"
    try:
        return schedule.tick(now)
    finally:
        enqueue_tick(max(period, current_period(now)) + 1)


def start(now: dt.datetime | None = None):
    """Start the chain at the current period (a running chain makes the extra one stop)."""
    return enqueue_tick(current_period(now or timezone.now()))
