"""The assessment's periodic job (listed in the project's ``chuangwen.schedule.JOBS``): after each
period ends, draft the run of every active scheme for it (``services.draft_finished_periods``).
``manage.py draft_runs`` does the same now."""

import datetime as dt

from org.audit import Actor

from . import services


def draft_runs(now: dt.datetime) -> str:
    """Draft the runs of the periods that just ended; a period already run is skipped."""
    made = services.draft_finished_periods(Actor.system(via="task"), now)
    return "；".join(f"{run.scheme.name} {run.label}" for run in made) or "无新结束的考评周期"
