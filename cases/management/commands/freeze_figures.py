"""``manage.py freeze_figures [--month YYYY-MM] [--leaders] [--refresh]``: compute and store the
monthly summary and the metrics (``cases.stored_figures``) ahead of the first request, for cron and the
monthly close. Without ``--month``: last month (frozen as of its end) and this month (a snapshot
as of now). A stored past month is kept as it is unless ``--refresh`` (after a data correction)."""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases import stored_figures
from org.models import Role, User
from workdays.periods import parse_month


class Command(BaseCommand):
    help = "Precompute the monthly summary and metrics (district, and with --leaders each leader's scope)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: last month and this month")
        parser.add_argument(
            "--leaders", action="store_true", help="also every leader's scope (one per distinct scope)"
        )
        parser.add_argument("--refresh", action="store_true", help="recompute months already stored")

    def handle(self, *args, month=None, leaders=False, refresh=False, **options):
        if month:
            try:
                months = [parse_month(month)]
            except ValidationError as exc:
                raise CommandError(exc.messages[0]) from exc
        else:
            today = timezone.localdate()
            last = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
            months = [last, (today.year, today.month)]
        viewers: list[User | None] = [None]
        if leaders:
            people = User.objects.filter(is_active=True, memberships__role=Role.LEADER).distinct()
            viewers += list(people.order_by("pk"))
        for year, number in months:
            seen: set[str] = set()
            for viewer in viewers:
                key = stored_figures.scope_key(viewer, stored_figures.metrics.month(year, number)[1])
                if key in seen:
                    continue
                seen.add(key)
                began = time.perf_counter()
                at = stored_figures.freeze(year, number, viewer=viewer, refresh=refresh)
                self.stdout.write(
                    f"{year}-{number:02d} {viewer or '全区'}: 数据截至 {timezone.localtime(at):%Y-%m-%d %H:%M:%S}"
                    f" ({time.perf_counter() - began:.2f} s)"
                )
