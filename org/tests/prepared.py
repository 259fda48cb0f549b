"""The prepared statements of the test's database connection (``org.compiled`` prepares its
queries on PostgreSQL): for tests that check a statement is planned once and reused."""

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
