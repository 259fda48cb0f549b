import importlib
import time

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from org.demo import DEMO_LOGINS, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load the demo world (巴州区). Idempotent: loading twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="the address printed for the demo"
        )

    def handle(self, *args, **options):
        # Each of our apps may have a demo module with load(); org first, the rest in app order.
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
            self.stdout.write(
                f"  {config.verbose_name} ({config.name}) loaded in {time.monotonic() - started:.1f}s"
            )
        self.stdout.write(self.style.SUCCESS(f"\n演示地址 Demo: {options['url']}"))
        self.stdout.write(f"演示账号 Logins (password for all: {DEMO_PASSWORD})")
        for username, name, _role, _unit, description in DEMO_LOGINS:
            self.stdout.write(f"  {username:<12} {name}  {description}")
