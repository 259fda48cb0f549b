"""Abuse control (防刷): rate limits per IP address, per phone number and per Open311 client.

Every counter costs one round trip, and all the counters of one attempt share it:

- the embedded default counts in the database, in ``RateCounter`` rows keyed by (key, window
  start), with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING count`` for all of an attempt's
  counters (SQLite ≥ 3.35 and PostgreSQL), so every app server counts together; old windows are
  pruned by the ``rate_counters`` job (``prune``);
- with ``RATE_LIMIT_REDIS_URL`` set, Redis counts instead: ``INCR`` and ``EXPIRE`` per counter in
  one pipeline.

Rates are ``count/period`` strings (``20/h``, ``5/m``, ``100/10s``) and may be tuned in settings with
``APPEALS_RATE_LIMITS = {"submit": {"ip": "20/h", "phone": "5/h"}, ...}``; a rate of ``None`` turns
that limit off and nothing is counted for it (behind a proxy that hides the clients' addresses,
say, or in the benchmark, whose clients all share one address). Windows are fixed (aligned on
the period); keys are hashed, so no phone number is stored. A refused attempt is taken back from
every counter it was counted on (one more statement or pipeline, on the refused path only), so a
flood on one phone number does not use up the IP's or the Open311 client's allowance; for that
moment an attempt of the same client at its limit may be refused too. The counting statement
runs alone, outside any transaction of the caller's (an Open311 POST counts before the case's
transaction: all the POSTs of one client count on one row, which that transaction would keep
locked until its commit).
"""

import functools
import hashlib
import logging
import re
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from org.audit import client_ip
from org.compiled import cursor_for

from .models import RateCounter

DEFAULT_RATES: dict[str, dict[str, str]] = {
    # public appeal submissions
    "submit": {"ip": "20/h", "phone": "5/h"},
    # Open311 POST requests: a client app submits for many people from one server, so it is
    # counted per API key rather than per IP address
    "open311": {"phone": "5/h", "client": "600/h"},
    # tracking look-ups by code + phone, and ratings: slow enough that a code cannot be guessed
    "track": {"ip": "30/h", "phone": "20/h"},
    # Open311 read endpoints, per IP address
    "read": {"ip": "600/h"},
}

_PERIODS = {"s": "秒", "m": "分钟", "h": "小时", "d": "天"}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_MESSAGES = {
    "submit": "提交过于频繁：同一{who}每{period}最多提交 {count} 次，请稍后再试。",
    "open311": "提交过于频繁：同一{who}每{period}最多提交 {count} 次，请稍后再试。",
    "track": "查询过于频繁：同一{who}每{period}最多查询 {count} 次，请稍后再试。",
    "read": "请求过于频繁：同一{who}每{period}最多请求 {count} 次，请稍后再试。",
}
_WHO = {"ip": "网络地址", "phone": "手机号", "client": "客户端"}
# Windows ended this long ago are pruned (the longest period is a day).
KEEP_SECONDS = 2 * 86400

logger = logging.getLogger(__name__)


class Throttled(Exception):
    """Too many attempts from one IP address or for one phone number (HTTP 429)."""


def rates(action: str) -> dict[str, str | None]:
    configured = getattr(settings, "APPEALS_RATE_LIMITS", {})
    return {**DEFAULT_RATES[action], **configured.get(action, {})}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/h"`` → (5, 3600); ``"100/10s"`` → (100, 10)."""
    match = _RATE.match(rate.strip())
    if match is None:
        raise ValueError(f"invalid rate {rate!r}: expected count/period, e.g. 20/h or 100/10s")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _SECONDS[unit]


def _message(action: str, who: str, rate: str) -> str:
    count, _, period = rate.partition("/")
    unit = period[-1:] if period[-1:] in _PERIODS else "s"
    multiple = period[:-1] if period[-1:] in _PERIODS else period
    return _MESSAGES[action].format(who=_WHO[who], period=f"{multiple}{_PERIODS[unit]}", count=count)


def _key(action: str, who: str, value: str) -> str:
    return hashlib.sha256(f"appeals.{action}.{who}:{value}".encode()).hexdigest()


def count_in_database(counters: list[tuple[str, int, int]], now: int) -> dict[str, int]:
    """Add one to each (key, window start, period) counter in one statement; their new counts."""
    table = RateCounter._meta.db_table
    values = ", ".join(["(%s, %s, 1, %s)"] * len(counters))
    params: list[Any] = []
    for key, window, period in counters:
        params += [key, window, window + period]
    with cursor_for(connection) as cursor:  # prepared on PostgreSQL, once per shape and connection
        cursor.execute(
            f"INSERT INTO {table} (name, window_start, count, expires) VALUES {values} "
            f"ON CONFLICT (name, window_start) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING name, count",
            params,
        )
        return dict(cursor.fetchall())


def uncount_in_database(counters: list[tuple[str, int, int]]) -> None:
    """Take one back from each (key, window start, period) counter, in one statement."""
    table = RateCounter._meta.db_table
    rows = " OR ".join(["(name = %s AND window_start = %s)"] * len(counters))
    params: list[Any] = []
    for key, window, _period in counters:
        params += [key, window]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET count = count - 1 WHERE {rows}", params)


@functools.cache
def _redis(url: str):
    import redis  # installed with django-redis; imported only when Redis is configured

    return redis.Redis.from_url(url)


def count_in_redis(url: str, counters: list[tuple[str, int, int]]) -> dict[str, int]:
    """INCR and EXPIRE per counter, all in one pipeline (one round trip); their new counts."""
    pipe = _redis(url).pipeline(transaction=False)
    for key, window, period in counters:
        name = f"rl:{key}:{window}"
        pipe.incr(name)
        pipe.expire(name, period + 1)
    replies = pipe.execute()
    return {key: int(replies[2 * i]) for i, (key, _window, _period) in enumerate(counters)}


def uncount_in_redis(url: str, counters: list[tuple[str, int, int]]) -> None:
    """DECR per counter, in one pipeline."""
    pipe = _redis(url).pipeline(transaction=False)
    for key, window, _period in counters:
        pipe.decr(f"rl:{key}:{window}")
    pipe.execute()


def count(counters: list[tuple[str, int, int]], now: int) -> dict[str, int]:
    url = getattr(settings, "RATE_LIMIT_REDIS_URL", "")
    if url:
        return count_in_redis(url, counters)
    return count_in_database(counters, now)


def uncount(counters: list[tuple[str, int, int]]) -> None:
    url = getattr(settings, "RATE_LIMIT_REDIS_URL", "")
    if url:
        uncount_in_redis(url, counters)
    else:
        uncount_in_database(counters)


def check(request: HttpRequest, action: str, phone: str = "", client: str = "") -> None:
    """Count one attempt of ``action`` for the client's IP (and ``phone``, and the Open311
    ``client``); beyond a limit take it back and raise Throttled (naming the first limit exceeded,
    in the order of the rates)."""
    keys = {"ip": client_ip(request) or "unknown", "phone": phone, "client": client}
    now = int(time.time())
    wanted: list[tuple[str, str, int, str]] = []  # who, rate, limit, key
    counters: list[tuple[str, int, int]] = []
    for who, rate in rates(action).items():
        value = keys.get(who)
        if not value or rate is None:
            continue
        limit, period = parse_rate(rate)
        key = _key(action, who, value)
        wanted.append((who, rate, limit, key))
        counters.append((key, now - now % period, period))
    if not counters:
        return
    counts = count(counters, now)
    for who, rate, limit, key in wanted:
        if counts[key] > limit:
            uncount(counters)
            # Operators see who is held back (the IP or Open311 client; never a phone number).
            logger.warning(
                "rate limit: %s refused for %s %s (%s)",
                action,
                who,
                "***" if who == "phone" else keys[who],
                rate,
            )
            raise Throttled(_message(action, who, rate))


def prune(now: float | None = None) -> int:
    """Delete the counters of windows that ended more than two days ago; how many went."""
    moment = int(now if now is not None else time.time())
    deleted, _ = RateCounter.objects.filter(expires__lt=moment - KEEP_SECONDS).delete()
    return deleted
