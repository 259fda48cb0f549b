"""``manage.py start_schedule``: start the worker's tick chain (run before or beside
``manage.py db_worker``). Safe to repeat: a second chain stops at its first tick."""

from django.core.management.base import BaseCommand

from notices import tasks


class Command(BaseCommand):
    help = "Enqueue the worker's periodic tick (safe when one is already running)."

    def handle(self, *args, **options):
        result = tasks.start()
        self.stdout.write(f"已排入定时任务（{result.id}）；由 manage.py db_worker 执行")
