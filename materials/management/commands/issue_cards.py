"""``manage.py issue_cards [--month YYYY-MM]``: the monthly red and yellow card job 红黄牌认定 for
a month that is over (default: last month), under that month's card policy. Safe to run again:
cards already issued (or revoked) are not issued twice. The worker runs the same step on the first
days of each month (the ``material_cards`` job in ``chuangwen/schedule.py``); the command is for a
month issued by hand or again."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from materials import services
from materials.filtersets import parse_month
from org.audit import Actor
from org.errors import ActionRefused


class Command(BaseCommand):
    help = "Issue the month's red and yellow cards for report materials (default: last month)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: last month")

    def handle(self, *args, month=None, **options):
        if month:
            chosen = parse_month(month)
            if chosen is None:
                raise CommandError("--month 格式应为 YYYY-MM")
        else:
            chosen = services.previous_month(timezone.localdate())
        try:
            cards = services.issue_monthly_cards(Actor.system(), chosen)
        except (ActionRefused, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        for card in cards:
            self.stdout.write(f"{card.unit.name} {card.get_color_display()}：{card.reason}")
        self.stdout.write(f"{chosen:%Y-%m}：新认定 {len(cards)} 张红黄牌")
