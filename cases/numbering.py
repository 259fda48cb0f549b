"""Case numbers 案件编号: ``YYYY-NNNNNN``, unique and increasing within a year.

On PostgreSQL a sequence per year, drawn without row locks; on SQLite (one writer at a time
anyway) one upsert of the year's ``CaseCounter`` row. Database-specific SQL lives here only.
"""

import datetime as dt
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from org.compiled import send

from .models import Case, CaseCounter


def draw_case_keys(moment: dt.datetime) -> Callable[[], tuple[str, int | None]]:
    """The next case number of the year of ``moment``: ``YYYY-NNNNNN``, unique and increasing
    within the year (a number drawn for a report that then fails is not reused: a gap), with, on
    PostgreSQL, the new case's id drawn from its sequence in the same statement (the case can then be inserted with the rows that refer to it, in one round trip:
    ``org.compiled.insert_all``); None elsewhere, where the insert returns it. The statement is
    sent now; the function returned reads it (so the draw can go with other statements:
    ``org.compiled.together``)."""
    year = timezone.localtime(moment).year
    if connection.vendor != "postgresql":
        number = _next_from_counter(year)
        return lambda: (f"{year}-{number:06d}", None)
    read = _send_sequence_draw(year)

    def keys() -> tuple[str, int | None]:
        number, case_id = read()
        return f"{year}-{number:06d}", case_id

    return keys


def last_case_numbers() -> dict[int, int]:
    """The last number handed out per year, for loaders that write numbered cases in bulk (they
    then store the new last number in ``CaseCounter``; the next report moves past it). Run them
    while no reports come in: a report drawn meanwhile may take a number the loader also uses."""
    counters = dict(CaseCounter.objects.values_list("year", "last"))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for year in counters:
                name = f"cases_case_number_{int(year)}"
                cursor.execute("SELECT to_regclass(%s)", [name])
                if cursor.fetchone()[0] is not None:
                    cursor.execute(
                        f"SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {name}"
                    )
                    counters[year] = max(counters[year], int(cursor.fetchone()[0]))
    return counters


def _counter_table() -> str:
    return connection.ops.quote_name(CaseCounter._meta.db_table)


def _next_from_counter(year: int) -> int:
    """One upsert of the year's counter row (SQLite: one writer at a time anyway)."""
    table = _counter_table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 1) "
            f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [year],
        )
        return int(cursor.fetchone()[0])


def _send_sequence_draw(year: int) -> Callable[[], tuple[int, int | None]]:
    """PostgreSQL: a sequence per year (``cases_case_number_<year>``). ``nextval`` takes no row
    lock and is not undone by a rollback, so concurrent reports never wait for each other's
    transactions. One query: the sequence's next value with the year's ``CaseCounter`` beside it,
    and the next id of the case table.

    The counter row marks the year's numbering as started and is the floor that bulk loaders
    (demo, benchmark generator) move when they write numbers themselves. Without the row (the
    year's first report, or a database emptied with ``flush``, which keeps sequences) the
    sequence is set just after the year's highest case number; a value at or below the floor (a
    bulk load since) draws the sequence forward past it. Both under the counter row's lock."""
    table = _counter_table()
    name = f"cases_case_number_{int(year)}"
    # Prepared once per connection (``cursor_for``): planning the catalogue lookup took as long
    # as running it.
    cursor = send(
        connection,
        f"SELECT nextval(c.oid), (SELECT last FROM {table} WHERE year = %s), "
        "nextval(pg_get_serial_sequence(%s, 'id')) FROM pg_class c "
        "WHERE c.relname = %s AND c.relkind = 'S' AND pg_table_is_visible(c.oid)",
        [year, Case._meta.db_table, name],
    )

    def read() -> tuple[int, int | None]:
        with cursor:
            row = cursor.fetchone()
        if row is not None and row[1] is not None and row[0] > row[1]:
            return int(row[0]), int(row[2])
        return _start_sequence(year, name), None if row is None else int(row[2])

    return read


def _start_sequence(year: int, name: str) -> int:
    """The year's number when its sequence is missing or not past the floor yet (see
    ``_send_sequence_draw``)."""
    table = _counter_table()
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 0) ON CONFLICT (year) DO NOTHING RETURNING year",
            [year],
        )
        started = cursor.fetchone() is not None
        cursor.execute(f"SELECT last FROM {table} WHERE year = %s FOR UPDATE", [year])
        floor = int(cursor.fetchone()[0])
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name}")
        if started:
            # Nobody draws meanwhile: they wait for this row. The next value is floor + 1.
            floor = max(floor, _highest_number(year))
            cursor.execute("SELECT setval(%s, %s, %s)", [name, max(floor, 1), floor > 0])
        while True:
            # Otherwise forward only (never setval back): values at or below the floor are
            # skipped, so a report drawing at the same time can never get a number twice.
            cursor.execute("SELECT nextval(%s)", [name])
            number = int(cursor.fetchone()[0])
            if number > floor:
                return number
            cursor.execute("SELECT max(nextval(%s)) FROM generate_series(1, %s)", [name, floor - number])


def _highest_number(year: int) -> int:
    """The highest number of the year's cases (0 without any), from the year's reports."""
    zone = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT max(CAST(split_part(number, '-', 2) AS bigint)) FROM {connection.ops.quote_name(Case._meta.db_table)} "
            "WHERE reported_at >= %s AND reported_at < %s AND number LIKE %s",
            [start, end, f"{year}-%"],
        )
        return int(cursor.fetchone()[0] or 0)
