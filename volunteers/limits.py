"""Abuse control 防刷 for the public order pages: rate limits per IP address and per phone
number through the shared cache, as ``appeals.limits`` does for appeals (the same
``django-ratelimit`` counters; tune with ``VOLUNTEER_RATE_LIMITS = {"order": {"ip": "20/h"}}``,
``None`` turns a limit off)."""

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from org.audit import client_ip

DEFAULT_RATES: dict[str, dict[str, str | None]] = {
    # public orders: a citizen orders a few services a day at most
    "order": {"ip": "20/h", "phone": "5/h"},
    # tracking look-ups and ratings by code + phone: slow enough that a code cannot be guessed
    "track": {"ip": "30/h", "phone": "20/h"},
}
_MESSAGES = {"order": "点单过于频繁，请稍后再试。", "track": "查询过于频繁，请稍后再试。"}


class Throttled(Exception):
    """Too many attempts from one IP address or for one phone number (HTTP 429)."""


def rates(action: str) -> dict[str, str | None]:
    configured = getattr(settings, "VOLUNTEER_RATE_LIMITS", {})
    return {**DEFAULT_RATES[action], **configured.get(action, {})}


def check(request: HttpRequest, action: str, phone: str = "") -> None:
    """Count one attempt of ``action`` for the client's IP and ``phone``; Throttled beyond the limit."""
    keys = {"ip": client_ip(request) or "unknown", "phone": "".join(ch for ch in phone if ch.isdigit())}
    for who, rate in rates(action).items():
        value = keys.get(who)
        if not value or rate is None:
            continue
        if is_ratelimited(
            request,
            group=f"volunteers.{action}.{who}",
            key=lambda _group, _request, value=value: value,
            rate=rate,
            increment=True,
        ):
            raise Throttled(_MESSAGES[action])
