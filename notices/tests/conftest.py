import threading
from types import SimpleNamespace

import pytest

from notices import sms
from notices.tests.receiver import receiver  # noqa: F401  (fixture)
from org.tests.world import at


@pytest.fixture
def clock(monkeypatch):
    """The time every module sees (``timezone.now``): ``clock.set(at(...))``, no sleeping."""
    state = SimpleNamespace(now=at(2026, 3, 2, 9))
    monkeypatch.setattr("django.utils.timezone.now", lambda: state.now)
    return SimpleNamespace(set=lambda moment: setattr(state, "now", moment), state=state)


@pytest.fixture(autouse=True)
def _sms_memory(settings):
    settings.NOTICES_SMS_BACKEND = "notices.sms.MemoryBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _wait_while_locked(execute, sql, params, many, context):
    """Retry a statement the shared-cache test database refused with "table is locked", as a
    deployment's SQLite file database waits ``busy_timeout`` for the other writer."""
    from django.db import OperationalError

    for _ in range(100_000):
        try:
            return execute(sql, params, many, context)
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
    raise AssertionError("the database stayed locked")


def run_concurrently(fn, workers: int = 2) -> list:
    """Call ``fn`` in ``workers`` threads released at once (each thread its own connection);
    returns their results, raising the first error.

    The test database is SQLite in shared-cache memory, which answers "table is locked" at once
    where a deployment's file database (WAL, busy_timeout) waits for the other writer; each
    thread's statements wait the same way here (``_wait_while_locked``)."""
    from django.db import connection

    barrier = threading.Barrier(workers)
    results: list = []
    errors: list[Exception] = []

    def worker():
        try:
            with connection.execute_wrapper(_wait_while_locked):
                barrier.wait()
                results.append(fn())
        except Exception as exc:  # reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
