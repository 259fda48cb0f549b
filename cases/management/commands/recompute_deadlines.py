"""``manage.py recompute_deadlines [--reason TEXT]``: count open parts' deadlines again after HQ
entered a year's holidays or changed the working hours (``cases.deadlines``). Each change is a
case event; closed cases keep their deadlines. The worker runs the same after each change made on
HQ's pages and nightly; this is the hand-run way (a run without changes writes nothing)."""

from django.core.management.base import BaseCommand

from cases.deadlines import recompute_open_deadlines
from org.audit import Actor


class Command(BaseCommand):
    help = "Recompute the deadlines of open case parts with the current calendar and working hours."

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="工作日历或作息时间调整", help="recorded on each change")

    def handle(self, *args, reason: str = "", **options):
        changed = recompute_open_deadlines(Actor.system(via="command"), reason=reason)
        self.stdout.write(f"{changed} 个责任单位的处置时限已重算")
