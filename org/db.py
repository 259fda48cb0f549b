"""Database router for the scale-out path: reads that tolerate replica lag go to the replica.

Only code that opts in reads from the replica: ``Model.objects.using(read_db())``. Everything else,
and every write, uses the primary, so a request never reads its own write from a lagging copy.
"""

import functools
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connections, router


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


def insert_many(model, template, varying: list[str], rows: Iterable[Sequence], batch: int = 5000) -> int:
    """Insert one row per item of ``rows``: every column as in the unsaved ``template`` instance,
    but the fields named in ``varying``, which take the item's values (already in database form:
    ids for foreign keys). One prepared ``executemany`` per batch.

    For large imports: ``bulk_create`` prepares every field of every object through the field API
    (about 0.4 ms a person on the benchmark machine, 8 s for 20,000 people); here the constant
    fields are prepared once. Like ``bulk_create`` it sends no signals and calls no ``save()``;
    unlike it, callable defaults are evaluated once for all rows, so the template must carry
    whatever has to differ per row in ``varying``. Returns the number of rows inserted."""
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    constants = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in fields]
    positions = [fields.index(model._meta.get_field(name)) for name in varying]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    count, params = 0, []
    with connection.cursor() as cursor:
        for item in rows:
            values = list(constants)
            for position, value in zip(positions, item, strict=True):
                values[position] = value
            params.append(values)
            if len(params) >= batch:
                cursor.executemany(sql, params)
                count, params = count + len(params), []
        if params:
            cursor.executemany(sql, params)
            count += len(params)
    return count


def native_timestamptz_loader(sender, connection, **kwargs) -> None:
    """``connection_created``: read ``timestamptz`` values on a new PostgreSQL connection with
    psycopg's compiled parser instead of its pure-Python one.

    Django registers its own loader (``BaseTzLoader``: the parsed value given the connection's
    time zone), a subclass of psycopg's Python ``TimestamptzLoader``, so every datetime read is
    parsed in Python (≈ 4 µs a value on the benchmark machine: 2 ms for an Open311 list of 100
    requests). The loader here is Django's class, with the same time zone, whose ``load`` asks
    psycopg's compiled loader (≈ 0.2 µs) and then does what Django's does; Django's own check of
    the connection's loader (``create_cursor``) finds the time zone it expects. Without psycopg's
    compiled extension nothing changes."""
    if connection.vendor != "postgresql":
        return
    from psycopg import adapters
    from psycopg.pq import Format

    oid = adapters.types["timestamptz"].oid
    native = adapters.get_loader(oid, Format.TEXT)
    if native is None or native.__module__.split(".")[0] == "psycopg":  # the pure-Python one
        return
    connection.connection.adapters.register_loader(oid, _native_loader(native, connection.timezone))


@functools.cache
def _native_loader(native: type, timezone) -> type:
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class NativeTzLoader(BaseTzLoader):
        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._parse = native(oid, context).load

        def load(self, data):
            return self._parse(data).replace(tzinfo=self.timezone)

    NativeTzLoader.timezone = timezone
    return NativeTzLoader
