"""``manage.py send_notices``: send the outbox's due deliveries once (the worker does this every tick)."""

from django.core.management.base import BaseCommand

from notices.sending import send_due


class Command(BaseCommand):
    help = "Send the notices due now (group robots, e-mail, SMS), once."

    def handle(self, *args, **options):
        self.stdout.write(str(send_due()))
