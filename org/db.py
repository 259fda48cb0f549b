"""Database router for the scale-out path: reads that tolerate replica lag go to the replica.

Only code that opts in reads from the replica: ``Model.objects.using(read_db())``. Everything else,
and every write, uses the primary, so a request never reads its own write from a lagging copy.
"""

from django.conf import settings


def read_db() -> str:
    """The alias dashboards and rankings read from: the replica when one is configured."""
    return "replica" if "replica" in settings.DATABASES else "default"


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
