"""Background runs: the periodic job drafts the run of each active scheme's period that just
ended, as of the job's moment, and skips a period already run; the command does the same."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from assessment import services
from assessment.models import Run
from assessment.schedule import draft_runs
from notices.schedule import job
from org.audit import Actor
from org.models import Unit

from .helpers import at, scheme, table

pytestmark = pytest.mark.django_db


def test_the_job_drafts_the_periods_that_just_ended_once(world):
    _units, hq = world
    monthly = scheme(hq, weights={"tasks": 100})
    weekly = services.save_scheme(
        Actor(hq), services.SchemeSpec("周督查", "week", [Unit.Kind.DEPARTMENT], {"tasks": 100})
    )
    idle = services.save_scheme(
        Actor(hq),
        services.SchemeSpec("停用", "month", [Unit.Kind.DEPARTMENT], {"tasks": 100}, is_active=False),
    )
    now = at(1, 2, month=12)  # Tuesday 1 December 2026, 02:00
    assert draft_runs(now) == "部门月考评 2026年11月；周督查 2026年第48周"
    month = Run.objects.get(scheme=monthly)
    assert (month.status, month.period_start, month.at) == ("draft", dt.date(2026, 11, 1), now)
    assert table(month)["A"] == (Decimal("100.00"), 1)  # both of A's tasks closed on time by T
    week = Run.objects.get(scheme=weekly)
    assert (week.period_start, week.period_end) == (dt.date(2026, 11, 23), dt.date(2026, 11, 30))
    assert not Run.objects.filter(scheme=idle).exists()
    assert week.events.get().actor is None and week.events.get().via == "task"
    # Again the same day, or the next day once HQ published: nothing new.
    assert draft_runs(now) == "无新结束的考评周期"
    services.publish_run(Actor(hq), month)
    assert draft_runs(now + dt.timedelta(days=1)) == "无新结束的考评周期"
    assert Run.objects.count() == 2
    assert job("assessment_runs").run is draft_runs  # in the project's job list


def test_the_command_drafts_as_seen_on_a_day(world):
    _units, hq = world
    scheme(hq, weights={"tasks": 100})
    out = io.StringIO()
    call_command("draft_runs", day="2026-11-01", stdout=out)
    run = Run.objects.get()
    assert run.label == "2026年10月" and "2026年10月: 草稿" in out.getvalue()
    call_command("draft_runs", day="2026-11-01", stdout=out)
    assert Run.objects.count() == 1 and "无新结束的考评周期" in out.getvalue()
