"""``manage.py run_job NAME [--again]``: run one periodic job now (see ``chuangwen/schedule.py``;
``manage.py run_job --list`` names them). Like the worker, it claims the job's current period, so
a job the worker already ran in this period is skipped unless ``--again``."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notices import schedule


class Command(BaseCommand):
    help = "Run one periodic job (deadline sweeps, digests, warnings, figures) now."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the job's name")
        parser.add_argument("--list", action="store_true", help="list the jobs")
        parser.add_argument("--again", action="store_true", help="run even if it ran in this period")

    def handle(self, *args, name=None, list=False, again=False, **options):
        if list or not name:
            for j in schedule.jobs():
                when = f"每 {int(j.every.total_seconds())} 秒" if j.every else f"每天 {j.at:%H:%M}"
                self.stdout.write(f"{j.name}\t{when}{'（工作日）' if j.workdays_only else ''}\t{j.label}")
            return
        try:
            job = schedule.job(name)
        except KeyError as exc:
            raise CommandError(f"没有名为 {name} 的定时任务（--list 列出全部）") from exc
        now = timezone.now()
        period = f"manual-{now.isoformat()}" if again else None
        row = schedule.run(job, now, period)
        if row is None:
            self.stdout.write(f"{name}: 本周期已执行（--again 可再次执行）")
        elif not row.ok:
            raise CommandError(f"{name} 失败：{row.detail}")
        else:
            self.stdout.write(f"{name}: {row.detail}")
