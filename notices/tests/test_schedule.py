"""Periodic jobs: periods, once per period (also with two workers at once), the tick chain run by
the real ``db_worker`` command, the heartbeat HQ watches, and ``run_job``."""

import datetime as dt

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from notices import schedule, tasks
from notices.models import Heartbeat, JobRun
from notices.schedule import Job
from notices.tests.conftest import at, run_concurrently

calls: list[dt.datetime] = []


def record(now):
    calls.append(now)
    return f"ran at {now:%H:%M}"


def explode(now):
    raise RuntimeError("boom")


JOBS = (
    Job("sweep", "扫描", record, every=dt.timedelta(minutes=15)),
    Job("digest", "汇总", record, at=dt.time(8, 0), workdays_only=True),
    Job("broken", "出错", explode, at=dt.time(1, 0)),
)


@pytest.fixture(autouse=True)
def jobs(settings):
    settings.NOTICES_SCHEDULE = "notices.tests.test_schedule.JOBS"
    calls.clear()


@pytest.mark.django_db
def test_periods():
    sweep, digest, _ = JOBS
    assert sweep.period(at(2026, 3, 2, 9, 14)) == sweep.period(at(2026, 3, 2, 9, 0)) == "2026-03-02T09:00:00"
    assert sweep.period(at(2026, 3, 2, 9, 15)) == "2026-03-02T09:15:00"
    assert digest.period(at(2026, 3, 2, 7, 59)) is None
    assert digest.period(at(2026, 3, 2, 8, 0)) == "2026-03-02"  # a Monday
    assert digest.period(at(2026, 3, 7, 9, 0)) is None  # Saturday
    assert digest.period(at(2026, 10, 1, 9, 0)) is None  # National Day


@pytest.mark.django_db
def test_each_job_runs_once_per_period_and_a_failure_is_recorded():
    schedule.run_due(at(2026, 3, 2, 8, 5))
    schedule.run_due(at(2026, 3, 2, 8, 10))  # same periods: nothing runs again
    assert calls == [at(2026, 3, 2, 8, 5), at(2026, 3, 2, 8, 5)]
    schedule.run_due(at(2026, 3, 2, 8, 15))  # a new sweep period
    assert len(calls) == 3
    broken = JobRun.objects.get(job="broken")
    assert broken.ok is False and "boom" in broken.detail
    assert JobRun.objects.get(job="digest").detail == "ran at 08:05"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_run_each_job_once():
    run_concurrently(lambda: schedule.run_due(at(2026, 3, 2, 8, 5)))
    assert len(calls) == 2  # sweep and digest, once each
    assert JobRun.objects.filter(job="sweep").count() == 1


@pytest.mark.django_db
def test_the_tick_chain_runs_in_the_real_worker_and_a_second_chain_stops(clock, settings, monkeypatch):
    settings.NOTICES_TICK_SECONDS = 30
    # The worker runs inside this test's transaction: it must not close the test's connection
    # between tasks, as it does in its own process (on PostgreSQL that ends the test transaction).
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda **kwargs: None
    )
    clock.set(at(2026, 3, 2, 8, 5))
    period = tasks.current_period(clock.state.now)
    tasks.start()
    tasks.start()  # started twice: the second tick of the period ends its chain
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert len(calls) == 2  # the jobs ran once
    assert Heartbeat.objects.get().beat_at == clock.state.now
    pending = DBTaskResult.objects.filter(status="READY")
    assert pending.count() == 1  # one chain goes on
    nxt = pending.get()
    assert nxt.args_kwargs["args"] == [period + 1]
    assert nxt.run_after == tasks.period_start(period + 1)
    results = sorted(r.return_value for r in DBTaskResult.objects.filter(status="SUCCESSFUL"))
    assert results[1] == "本周期已由其他进程执行，本链结束"


@pytest.mark.django_db
def test_hq_sees_a_stalled_worker(clock, settings):
    settings.NOTICES_TICK_SECONDS = 30
    assert schedule.worker_status().stalled  # never ran
    schedule.tick(clock.state.now)
    assert not schedule.worker_status(clock.state.now + dt.timedelta(seconds=89)).stalled
    assert schedule.worker_status(clock.state.now + dt.timedelta(seconds=91)).stalled


@pytest.mark.django_db
def test_run_job_command(clock, capsys):
    clock.set(at(2026, 3, 2, 9, 0))
    call_command("run_job", "sweep")
    call_command("run_job", "sweep")
    assert "本周期已执行" in capsys.readouterr().out
    call_command("run_job", "sweep", again=True)
    assert len(calls) == 2
    call_command("run_job", list=True)
    assert "digest" in capsys.readouterr().out
