"""The test's PostgreSQL connection seen from inside: the statements it prepared (``org.compiled``
prepares its queries), for tests that check a statement is planned once and reused, and the
round trips a block of code makes (``org.compiled.together`` sends statements together)."""

import contextlib
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import connection


def prepared_statements(like: str) -> list[tuple[str, int, int]]:
    """``(text, generic plans, custom plans)`` of each statement prepared on this connection whose
    text matches the SQL pattern ``like``. Skips the test elsewhere than on PostgreSQL: call it
    after the test's own checks of the answers, which hold on every database."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's; on SQLite the answers above are the check")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [like],
        )
        return [(text, int(generic), int(custom)) for text, generic, custom in cursor.fetchall()]


@contextlib.contextmanager
def round_trips() -> Iterator[list[int]]:
    """Count the round trips the test's connection makes inside the block (a statement sent
    alone, ``BEGIN`` or a savepoint, ``COMMIT``, a ``together()`` block's answers) in the one
    item of the list it yields. psycopg waits on the socket for each of them; inside a pipeline
    it also waits to hand a statement over without an answer, which is not counted. Skips the
    test elsewhere than on PostgreSQL, as ``prepared_statements`` does."""
    if connection.vendor != "postgresql":
        pytest.skip("round trips are counted on PostgreSQL; SQLite runs in the process")
    connection.ensure_connection()
    raw = connection.connection
    counted = [0]
    wait = type(raw).wait

    def counting(self, gen, *args, **kwargs):
        handed_over = self._pipeline is not None and gen.__qualname__.endswith(
            ("._execute_gen", "._enter_gen")
        )
        if self is raw and not handed_over:
            counted[0] += 1
        return wait(self, gen, *args, **kwargs)

    with mock.patch.object(type(raw), "wait", counting):
        yield counted
