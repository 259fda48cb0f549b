from django.core.management.base import BaseCommand

from org.audit import Actor
from volunteers.services import expire_points


class Command(BaseCommand):
    help = "过期积分: expire points older than VOLUNTEER_POINTS_EXPIRE_MONTHS that were not spent."

    def handle(self, *args, **options):
        total = expire_points(Actor.system())
        self.stdout.write(f"expired {total} points")
