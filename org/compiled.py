"""Queries compiled once per process and run as prepared statements on PostgreSQL.

For hot paths whose query Django would otherwise build and compile on every request, and
PostgreSQL plan on every run (Open311's request rows, the duplicate search at intake, the rows
every report and step inserts: ``insert``).
"""

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import ForeignKey, Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.signals import post_init, post_save, pre_init, pre_save
from psycopg import sql

# A parameter's place in Django's SQL (``%%`` is a literal percent sign).
_PLACEHOLDER = re.compile(r"%%|%s")


def _constant(param: Any) -> str | int | bool | None:
    """``param`` as a plain string, integer or truth value (a choice's enum member is one), else
    None: only those are written into a query's text."""
    for kind in (bool, int, str):
        if isinstance(param, kind):
            return kind(param)
    return None


class Compiled:
    """A values() queryset compiled to SQL once per process and shape, then run with new arguments.

    Building and compiling a query (Open311's request rows: a dozen joins and three subqueries;
    the duplicate search's distance expression) can cost Django more CPU than the database takes
    to answer it, so each shape (how many numbers, which filters) is compiled once with marker
    arguments — values no request sends — and later calls put their own arguments where the
    markers are. Rows come back as dicts through the same converters ``values()`` uses.
    """

    def __init__(self, queryset, marks: list[Any]):
        connection = connections[queryset.db]
        self.db = queryset.db
        compiler = queryset.query.get_compiler(queryset.db)
        self.sql, params = compiler.as_sql()
        adapted = [self._adapt(connection, m) for m in marks]
        self.params = list(params)
        self.slots = [self._slot(p, adapted) for p in self.params]
        # Every marker found (an expression used twice, as a square, carries its argument twice).
        if {s for s in self.slots if s is not None} != set(range(len(marks))):
            raise RuntimeError("a marker argument was not found in the compiled query")
        if connection.vendor == "postgresql":
            self._inline_constants()
        self.converters = list(
            compiler.get_converters([col[0] for col in compiler.select[: compiler.col_count]]).items()
        )
        # The rows' keys, taken from the first answer's description and kept: psycopg builds a
        # column object per column each time ``description`` is read (≈ 0.2 ms for the detail's
        # 160 columns).
        self.names: list[str] | None = None

    def _inline_constants(self) -> None:
        """Write the query's own constants (a status list, a flag) into its text, leaving only the
        callers' arguments as parameters. PostgreSQL plans a prepared statement once for any
        arguments (its generic plan) only if that plan is not costlier than planning each run; a
        partial index's condition (``status IN (…)``) can be proven only against literals, so
        with the statuses as parameters the duplicate search lost its index in the generic plan
        and was planned again on every report (0.2 ms of the database's time, 4× running it)."""
        params, slots = [], []
        pairs = iter(zip(self.params, self.slots, strict=True))

        def place(match: re.Match) -> str:
            if match.group() == "%%":
                return "%%"
            param, slot = next(pairs)
            constant = _constant(param) if slot is None else None
            if constant is not None:
                # psycopg quotes the literal; the statement is still formatted, so % is doubled.
                return sql.Literal(constant).as_string().strip().replace("%", "%%")
            params.append(param)
            slots.append(slot)
            return "%s"

        self.sql = _PLACEHOLDER.sub(place, self.sql)
        self.params, self.slots = params, slots

    @staticmethod
    def _adapt(connection, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        return value

    @staticmethod
    def _slot(param: Any, adapted: list[Any]) -> int | None:
        for k, mark in enumerate(adapted):
            if type(param) is type(mark) and param == mark:
                return k
        return None

    def rows(self, arguments: list[Any]) -> list[dict[str, Any]]:
        return self.send(arguments)()

    def send(self, arguments: list[Any]) -> Callable[[], list[dict[str, Any]]]:
        """Send the query with ``arguments`` now and return the function that reads its rows:
        inside ``together()`` the query goes with the statements around it, and the first read
        waits for the answers of everything sent before it."""
        connection = connections[self.db]
        cursor = send(connection, self.sql, self._params(connection, arguments))

        def read() -> list[dict[str, Any]]:
            try:
                return self._read(connection, cursor)
            finally:
                cursor.close()

        return read

    def _params(self, connection, arguments: list[Any]) -> list[Any]:
        return [
            p if slot is None else self._adapt(connection, arguments[slot])
            for p, slot in zip(self.params, self.slots, strict=True)
        ]

    def _read(self, connection, cursor) -> list[dict[str, Any]]:
        names = self.names
        if names is None:
            names = self.names = [column[0] for column in cursor.description]
        found = [list(row) for row in cursor.fetchall()]
        for row in found:
            for pos, (functions, expression) in self.converters:
                value = row[pos]
                for convert in functions:
                    value = convert(value, expression, connection)
                row[pos] = value
        return [dict(zip(names, row, strict=True)) for row in found]


@contextlib.contextmanager
def together(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Statements sent inside the block go to PostgreSQL without waiting for each other's answers
    (psycopg's pipeline mode): reading an answer (``Compiled.send``'s reader, an insert's new id)
    waits for everything sent before it, in one round trip, and the block's end for the rest. An
    error is raised where its answer is read, or at the block's end. Elsewhere nothing changes:
    each statement runs when it is sent. Django's ``BEGIN`` is not saved: psycopg waits for it."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    _connect(connection)
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def rows_together(calls: list[tuple[Compiled, list[Any]]]) -> list[list[dict[str, Any]]]:
    """The rows of several compiled queries (each with its arguments), in order, sent together
    (``together``: one round trip on PostgreSQL), so the statements of a page's related tables do
    not each wait for the answer before them."""
    if not calls:
        return []
    with together(calls[0][0].db):
        readers = [query.send(arguments) for query, arguments in calls]
    return [read() for read in readers]


def send(connection, statement: str, params: list[Any]):
    """``statement`` executed on a ``cursor_for`` cursor, which is returned for its answer to be
    read (inside ``together()`` the statement is only sent); the cursor is closed if sending
    fails. The caller closes it after reading."""
    cursor = cursor_for(connection)
    try:
        cursor.execute(statement, params)
    except BaseException:
        cursor.close()
        raise
    return cursor


def cursor_for(connection):
    """A cursor for a compiled query. On PostgreSQL one that binds its arguments on the server and
    prepares the statement (psycopg's ``Cursor`` with ``prepare=True``; Django's default cursor
    binds them in the client and never prepares), so PostgreSQL plans each shape once per
    connection: planning the dozen-join query took longer than running it (≈ 2.6 ms against
    0.5 ms). psycopg keeps at most ``prepared_max`` (100) statements a connection. Still wrapped by
    Django (database errors, query logging, execute wrappers)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    _connect(connection)
    conn = connection.connection
    if conn.prepare_threshold is None:
        # Django opens connections with preparing off (None), which also refuses an explicit
        # prepare; a threshold never reached turns it on for the cursors that ask only
        # (Django's own client-binding cursors never prepare).
        conn.prepare_threshold = 2**31 - 1
    with connection.wrap_database_errors:
        raw = _preparing_cursor()(conn)
    connection.validate_thread_sharing()
    return _DebugCursor(raw, connection) if connection.queries_logged else connection.make_cursor(raw)


def _connect(connection) -> None:
    """Connect, as Django's own cursors do: a persistent connection is first health-checked once
    per request (``CONN_HEALTH_CHECKS``), so one the server dropped (a restart, an idle timeout) is
    replaced instead of failing the request's first statement. Without this, a request whose
    statements all run here (an API detail, Open311's rows) never checked its connection."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()


class _DebugCursor(CursorDebugWrapper):
    """Logs the statement with its arguments as Django's own cursor does (Django reads it back from
    client-binding cursors only, and would log nothing for these)."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


@functools.cache
def _preparing_cursor() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


_COMPILED: dict[tuple, Compiled] = {}


def compiled(shape: tuple, build: Callable[[list[Any]], QuerySet], marks: list[Any]) -> Compiled:
    """The compiled query of ``shape`` (built once from ``build(marks)``)."""
    found = _COMPILED.get(shape)
    if found is None:
        found = _COMPILED[shape] = Compiled(build(marks), marks)
    return found


class _Insert:
    """One model's ``INSERT … RETURNING pk`` with every concrete column, compiled once; ``with_pk``:
    with the primary key's column too, for a row whose id was drawn beforehand."""

    def __init__(self, model: type[Model], connection, with_pk: bool):
        meta = model._meta
        if meta.parents or meta.auto_field is None:
            raise TypeError(f"{meta.label}: only models with their own auto primary key")
        self.fields = [
            f for f in meta.concrete_fields if (with_pk or f is not meta.auto_field) and not f.generated
        ]
        quote = connection.ops.quote_name
        self.returning = connection.features.can_return_columns_from_insert
        self.sql = "INSERT INTO {} ({}) VALUES ({}){}".format(
            quote(meta.db_table),
            ", ".join(quote(f.column) for f in self.fields),
            ", ".join(["%s"] * len(self.fields)),
            f" RETURNING {quote(meta.auto_field.column)}" if self.returning else "",
        )


_INSERTS: dict[tuple[type[Model], str, bool], _Insert] = {}


M = TypeVar("M", bound=Model)


def insert(obj: M) -> M:
    """Save the new row ``obj`` as ``obj.save()`` would (the same ``pre_save`` and ``post_save``
    signals, field ``pre_save`` such as ``auto_now_add``, values prepared by each field), with the
    statement built once per model and process and, on PostgreSQL, prepared once per connection.

    Django builds and compiles an insert afresh for every ``create()`` (≈ 0.2 ms of CPU for a row
    of the case table on the benchmark machine), more than PostgreSQL takes to plan and run it;
    a report writes four such rows (the case, its event, the appeal, the audit entry). Only for
    rows with an auto primary key and plain values (no expressions). A row whose id is already set
    (drawn from its sequence beforehand) is inserted with that id."""
    insert_all([obj])
    return obj


def insert_all(objs: Sequence[Model]) -> None:
    """``insert`` for several new rows, sent together (``together``: one round trip on
    PostgreSQL). A row may refer to one before it only if that row's id was drawn beforehand (its
    ``pk`` set). Each row's ``pre_save`` signal is sent before its statement, every ``post_save``
    after the last answer."""
    if not objs:
        return
    if len(objs) == 1:  # one statement: nothing to send together, no pipeline to open
        _send_insert(objs[0])()
        return
    first = objs[0]
    with together(router.db_for_write(type(first), instance=first)):
        readers = [_send_insert(obj) for obj in objs]
    for read in readers:
        read()


def _send_insert(obj: Model) -> Callable[[], None]:
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    connection = connections[alias]
    key = (model, alias, obj.pk is not None)
    compiled_insert = _INSERTS.get(key)
    if compiled_insert is None:
        compiled_insert = _INSERTS[key] = _Insert(model, connection, obj.pk is not None)
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    pre_save.send(sender=model, instance=obj, raw=False, using=alias, update_fields=None)
    params = []
    for field in compiled_insert.fields:
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{model._meta.label}.{field.name}: an expression cannot be inserted here")
        params.append(field.get_db_prep_save(value, connection))
    cursor = send(connection, compiled_insert.sql, params)

    def read() -> None:
        with cursor:
            if compiled_insert.returning:
                pk = cursor.fetchone()[0]
            else:  # pragma: no cover - SQLite before 3.35
                pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
        auto_field = model._meta.auto_field
        assert auto_field is not None, "insert() needs an auto primary key"
        setattr(obj, auto_field.attname, pk)
        obj._state.adding, obj._state.db = False, alias
        post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=alias)

    return read


def columns(model: type[Model], prefix: str = "") -> list[str]:
    """The names to ask ``values()`` for so that ``instance`` can build a ``model`` from each row:
    every concrete field's attname, after ``prefix`` (``"unit__"`` for a related row)."""
    return [prefix + name for name in _attnames(model)]


@functools.cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


def instance(model: type[M], db: str, row: dict[str, Any], prefix: str = "", related: tuple = ()) -> M:
    """A ``model`` built from a row of ``Compiled.rows`` as the ORM would build it (``from_db``),
    read under ``columns(model, prefix)``; each name in ``related`` is a foreign key whose row was
    read too (``columns(related_model, prefix + name + "__")``) and is cached on the object, as
    ``select_related`` does (None when the key is empty)."""
    names = _attnames(model)
    obj = _from_db(model, db, names, [row[prefix + name] for name in names])
    for name in related:
        field = model._meta.get_field(name)
        assert isinstance(field, ForeignKey), f"{model._meta.label}.{name} is not a foreign key"
        target = cast(type[Model], field.related_model)
        inner = f"{prefix}{name}__"
        found = None
        if row[inner + target._meta.pk.attname] is not None:
            found = instance(target, db, row, inner)
        field.set_cached_value(obj, found)
    return obj


def _from_db(model: type[M], db: str, names: tuple[str, ...], values: list[Any]) -> M:
    """``model.from_db(db, names, values)`` for every concrete field: what ``Model.__init__``
    leaves behind (each value under its attname, a state neither adding nor unbound) set
    directly, ≈ 4× faster, when the model has no ``pre_init``/``post_init`` receivers (an image
    field with dimension fields has one) and no ``from_db`` of its own; else ``from_db`` itself."""
    if model.from_db.__func__ is not Model.from_db.__func__ or _init_receivers(model):  # type: ignore[attr-defined]
        return model.from_db(db, names, values)
    obj = model.__new__(model)
    obj.__dict__.update(zip(names, values, strict=True))
    state = obj._state = ModelState()
    state.adding, state.db = False, db
    return obj


def _init_receivers(model: type[Model]) -> bool:
    return pre_init.has_listeners(model) or post_init.has_listeners(model)
