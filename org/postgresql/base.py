"""Django's PostgreSQL backend with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django checks a persistent connection before a request's first
statement by running ``SELECT 1`` on it: a round trip on every request (in-process, 1.32 of the
Open311 detail's CPU milliseconds against 1.04 with the check here). A connection the server ended (a
restart, ``pg_terminate_backend``, an idle timeout) has by then received the server's goodbye
or its end of stream, so asking the socket whether anything arrived unasked on the idle
connection finds it without a statement; such a connection is replaced, as Django's check
replaces it. A connection lost without a word (a cable pulled) fails ``SELECT 1`` only after the
network's own time-outs, so the statement would not have saved that request either. After an
error Django still asks ``is_usable`` (``SELECT 1``).
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # ``pool`` and the health check's flags are Django's own (its type stubs lack them).
        checked = self.health_check_done  # type: ignore[has-type]
        if self.pool or self.connection is None or not self.health_check_enabled or checked:  # type: ignore[attr-defined]
            return
        if not still_open(self.connection):
            self.close()
        self.health_check_done = True


def still_open(connection) -> bool:
    """Whether the psycopg ``connection`` is open and idle with nothing arrived unasked (a
    notice before the server hangs up, or the end of the stream)."""
    if connection.closed or connection.broken:
        return False
    pgconn = connection.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    poller = select.poll()  # not select(): a socket's number may be above its 1,024 limit
    poller.register(pgconn.socket, select.POLLIN)
    return not poller.poll(0)
