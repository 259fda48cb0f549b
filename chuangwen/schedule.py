"""Every periodic job of the project, in one place (``NOTICES_SCHEDULE`` points here).

The worker (``manage.py db_worker``, see docs/notices.md) runs each job once per period however
many workers run; ``manage.py run_job NAME`` runs one now. Other apps add their jobs here.
"""

import datetime as dt
import io

from django.core.management import call_command

from appeals.limits import prune as prune_rate_counters
from assessment.schedule import draft_runs
from cases import mapcells
from cases.deadlines import recompute_nightly
from cases.notices import daily_digest, sweep_deadlines
from cases.photos import sweep_orphans
from dashboards.stored import refresh_district
from indicators.notices import task_warnings
from materials.notices import materials_due
from materials.services import monthly_cards_job
from notices.schedule import Job, cleanup
from org.imports import prune as prune_imports


def freeze_figures(now: dt.datetime) -> str:
    """Store last month's and this month's case figures (``manage.py freeze_figures``)."""
    out = io.StringIO()
    call_command("freeze_figures", stdout=out)
    return "；".join(out.getvalue().splitlines())


def prune_task_results(now: dt.datetime) -> str:
    """Drop the worker's finished task rows older than a week (django-tasks-db's command)."""
    out = io.StringIO()
    call_command("prune_db_task_results", min_age_days=7, stdout=out)
    return "；".join(out.getvalue().splitlines()) or "已清理"


def prune_counters(now: dt.datetime) -> str:
    """Drop the rate-limit counters of windows that ended two days ago (appeals/limits.py)."""
    return f"删除过期的限流计数 {prune_rate_counters(now.timestamp())} 条"


def fold_map_cells(now: dt.datetime) -> str:
    """Fold the cases' pending map changes into the kept per-cell counts (cases/mapcells.py)."""
    return f"归并案件地图变化 {mapcells.fold()} 条"


def sweep_photo_files(now: dt.datetime) -> str:
    """Remove photo files that no row names, left by a process killed mid-step (cases/photos.py)."""
    return f"删除无记录的照片文件 {len(sweep_orphans())} 个"


JOBS = (
    Job("case_deadlines", "案件到期、超期与升级提醒", sweep_deadlines, every=dt.timedelta(minutes=15)),
    Job("case_digest", "每日 8:00 单位待办汇总", daily_digest, at=dt.time(8, 0), workdays_only=True),
    Job("task_warnings", "任务红黄预警", task_warnings, at=dt.time(8, 30), workdays_only=True),
    Job("material_cards", "认定上月网报资料红黄牌（每月 1–3 日）", monthly_cards_job, at=dt.time(6, 0)),
    Job("materials_due", "网报资料截止提醒", materials_due, at=dt.time(9, 0), workdays_only=True),
    Job("recompute_deadlines", "按现行日历重算未结案件时限", recompute_nightly, at=dt.time(2, 0)),
    Job("dashboards", "刷新全区数据看板与指挥大屏", refresh_district, every=dt.timedelta(minutes=1)),
    Job("map_cells", "归并案件地图格网计数", fold_map_cells, every=dt.timedelta(minutes=1)),
    Job("case_figures", "存储本月案件汇总", freeze_figures, at=dt.time(1, 0)),
    Job("assessment_runs", "计算刚结束周期的考评草稿", draft_runs, at=dt.time(2, 0)),
    Job("cleanup", "清理定时任务执行记录", cleanup, at=dt.time(3, 0)),
    Job("photo_sweep", "清理中断上报遗留的照片文件", sweep_photo_files, at=dt.time(3, 20)),
    Job("import_files", "清理过期的导入预览文件", prune_imports, every=dt.timedelta(hours=1)),
    Job("rate_counters", "清理过期的限流计数", prune_counters, every=dt.timedelta(hours=1)),
    Job("prune_tasks", "清理一周前的后台任务记录", prune_task_results, at=dt.time(3, 10)),
)
