import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from org.audit import Actor

from ... import services


class Command(BaseCommand):
    help = (
        "Draft the runs 考评批次 of the periods that just ended for every active scheme, as of now "
        "(or as seen on --day). A period already run is skipped; HQ checks and publishes the drafts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--day", help="YYYY-MM-DD: draft the periods ended before this day (default: today)"
        )

    def handle(self, *args, **options):
        now = timezone.now()
        if options["day"]:
            try:
                day = dt.date.fromisoformat(options["day"])
            except ValueError as exc:
                raise CommandError("--day: YYYY-MM-DD") from exc
            if day > timezone.localdate():
                raise CommandError("--day 不能晚于今天")
            now = min(now, timezone.make_aware(dt.datetime.combine(day, dt.time(0))))
        made = services.draft_finished_periods(Actor.system(via="command"), now)
        for run in made:
            self.stdout.write(
                f"{run.scheme.name} {run.label}: 草稿（数据截至 {timezone.localtime(run.at):%Y-%m-%d %H:%M}）"
            )
        if not made:
            self.stdout.write("无新结束的考评周期")
