"""Abuse control (防刷): rate limits per IP address and per phone number, through the shared cache.

The counters live in the default cache (the database cache unless configured otherwise), so every
app server counts together. Rates are ``django-ratelimit`` strings and may be tuned in settings
with ``APPEALS_RATE_LIMITS = {"submit": {"ip": "20/h", "phone": "5/h"}, ...}``; a rate of ``None``
turns that limit off and nothing is counted for it (behind a proxy that hides the clients'
addresses, say, or in the benchmark, whose clients all share one address).
"""

import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from org.audit import client_ip

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
_MESSAGES = {
    "submit": "提交过于频繁：同一{who}每{period}最多提交 {count} 次，请稍后再试。",
    "open311": "提交过于频繁：同一{who}每{period}最多提交 {count} 次，请稍后再试。",
    "track": "查询过于频繁：同一{who}每{period}最多查询 {count} 次，请稍后再试。",
    "read": "请求过于频繁：同一{who}每{period}最多请求 {count} 次，请稍后再试。",
}
_WHO = {"ip": "网络地址", "phone": "手机号", "client": "客户端"}

logger = logging.getLogger(__name__)


class Throttled(Exception):
    """Too many attempts from one IP address or for one phone number (HTTP 429)."""


def rates(action: str) -> dict[str, str | None]:
    configured = getattr(settings, "APPEALS_RATE_LIMITS", {})
    return {**DEFAULT_RATES[action], **configured.get(action, {})}


def _message(action: str, who: str, rate: str) -> str:
    count, _, period = rate.partition("/")
    unit = period[-1:] if period[-1:] in _PERIODS else "s"
    multiple = period[:-1] if period[-1:] in _PERIODS else period
    return _MESSAGES[action].format(who=_WHO[who], period=f"{multiple}{_PERIODS[unit]}", count=count)


def check(request: HttpRequest, action: str, phone: str = "", client: str = "") -> None:
    """Count one attempt of ``action`` for the client's IP (and ``phone``, and the Open311
    ``client``); raise Throttled beyond the limit."""
    keys = {"ip": client_ip(request) or "unknown", "phone": phone, "client": client}
    for who, rate in rates(action).items():
        value = keys.get(who)
        if not value or rate is None:
            continue
        if is_ratelimited(
            request,
            group=f"appeals.{action}.{who}",
            key=lambda _group, _request, value=value: value,
            rate=rate,
            increment=True,
        ):
            # Operators see who is held back (the IP or Open311 client; never a phone number).
            logger.warning(
                "rate limit: %s refused for %s %s (%s)", action, who, "***" if who == "phone" else value, rate
            )
            raise Throttled(_message(action, who, rate))
