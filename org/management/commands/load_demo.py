import importlib
import time
from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from org.demo import DEMO_LOGINS, DEMO_PASSWORD


def load_world(report: Callable[[str], None] = lambda line: None) -> None:
    """Every app's part of the demo world: each of our apps may have a ``demo`` module with
    ``load()``; org first, the rest in app order. Used by this command and the end-to-end tests."""
    for config in apps.get_app_configs():
        if not str(config.path).startswith(str(settings.BASE_DIR)):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        started = time.monotonic()
        module.load()
        report(f"  {config.verbose_name} ({config.name}) loaded in {time.monotonic() - started:.1f}s")
        if connection.vendor == "postgresql":
            # Thousands of rows just arrived: without fresh statistics the planner takes the tables
            # for empty and picks nested loops that take minutes, already in the next app's load
            # (autovacuum would only catch up later; inside a test's transaction it never runs).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")


class Command(BaseCommand):
    help = "Load the demo world (巴州区). Idempotent: loading twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="the address printed for the demo"
        )

    def handle(self, *args, **options):
        load_world(self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"\n演示地址 Demo: {options['url']}"))
        self.stdout.write(f"演示账号 Logins (password for all: {DEMO_PASSWORD})")
        for username, name, _role, _unit, description in DEMO_LOGINS:
            self.stdout.write(f"  {username:<12} {name}  {description}")
