import datetime as dt
import threading
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from notices import sms
from notices.tests.receiver import receiver  # noqa: F401  (fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


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


def run_concurrently(fn, workers: int = 2) -> list:
    """Call ``fn`` in ``workers`` threads released at once (each thread its own connection);
    returns their results, raising the first unexpected error.

    The test database is SQLite in shared-cache memory, which answers "table is locked" at once
    where a deployment's file database (WAL, busy_timeout) waits for the other writer; a thread
    that gets that answer calls ``fn`` again, as a worker's next tick would."""
    from django.db import OperationalError, connection

    barrier = threading.Barrier(workers)
    results: list = []
    errors: list[Exception] = []

    def worker():
        try:
            barrier.wait()
            for _ in range(200):
                try:
                    results.append(fn())
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc):
                        raise
            raise AssertionError("the database stayed locked")
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
