"""The dashboard and the screen as stored copies in the shared cache, refreshed by the worker.

Computing the dashboard reads months of cases (at 10M cases, seconds); a request should not. So a
request reads the copy kept in the shared cache (``kept``) and never computes while the copy is
fresh or only a little stale: a stale copy is served while the worker computes the next one
(``refresh_dashboard``, ``refresh_screen``), one refresh at a time, and the schedule's
``dashboards`` job keeps the district-wide copies fresh every minute (``refresh_district``), so
HQ's dashboard and the wall screen are ready before anyone asks. A request computes only when
there is no copy yet, or the copy is too old to show (the worker is down).
"""

import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django_tasks import task

from cases import stored_figures
from org.models import User
from org.scope import Scope, scope_for

from . import figures

# The district-wide dashboard is the same for every district-wide viewer: computed for nobody.
DISTRICT_WIDE = Scope(everything=True)

# How a stored copy of the dashboard or the screen is kept in the shared cache: fresh for
# ``CASES_FIGURES_MAX_AGE`` seconds, or ``REFRESH_COST_FACTOR`` times what computing it took if
# that is longer (as the stored monthly figures); then, for ``STALE_SERVE_SECONDS`` more, served
# as it is while the worker computes the next one (one refresh at a time: a claim in the cache);
# older than that, it is computed again in the request that finds it so.
STALE_SERVE_SECONDS = 10 * 60
# Waiting for the first copy that another request computes: how long at most, how often to look.
FIRST_WAIT_SECONDS = 90
FIRST_POLL_SECONDS = 0.5
KEEP_SECONDS = 24 * 3600
DISTRICT = "dashboards.charts.all"
SCREEN = "dashboards.screen"


def dashboard_key(user: User, scope: Scope) -> str:
    """One copy district-wide (HQ), one per person otherwise (a leader's cases and tasks)."""
    return DISTRICT if scope.everything else f"dashboards.charts.u{user.pk}"


def _fresh_seconds(entry: dict) -> float:
    return max(stored_figures.max_age().total_seconds(), entry["took"] * stored_figures.REFRESH_COST_FACTOR)


def district_dashboard() -> dict:
    """The district-wide dashboard (the same for every district-wide viewer)."""
    return figures.dashboard(None, DISTRICT_WIDE)


def _claim(key: str) -> bool:
    """Claim the computation of the copy under ``key`` (False if somebody holds the claim); a
    claim left by a process that died lapses after ``REFRESH_CLAIM_SECONDS``."""
    return cache.add(_claim_key(key), time.time(), timeout=stored_figures.REFRESH_CLAIM_SECONDS)


def _claim_key(key: str) -> str:
    return f"{key}.refresh"


def store(key: str, compute: Callable[[], dict]) -> dict:
    """Compute now and keep the copy (with when and how long it took)."""
    started = time.monotonic()
    data = compute()
    cache.set(key, {"data": data, "computed": time.time(), "took": time.monotonic() - started}, KEEP_SECONDS)
    return data


def kept(key: str, compute: Callable[[], dict], refresh_later: Callable[[], object]) -> dict:
    """The kept copy under ``key``: served while fresh; when stale, served while
    ``refresh_later`` (the worker) computes the next one; computed here when missing or too old."""
    entry = cache.get(key)
    if entry is None:
        return _first(key, compute)
    age = time.time() - entry["computed"]
    fresh = _fresh_seconds(entry)
    if age < fresh:
        return entry["data"]
    if not _claim(key):
        return entry["data"]  # somebody refreshes it already
    if age < fresh + STALE_SERVE_SECONDS:
        transaction.on_commit(refresh_later)
        return entry["data"]
    try:
        return store(key, compute)
    finally:
        cache.delete(_claim_key(key))


def _first(key: str, compute: Callable[[], dict]) -> dict:
    """No copy yet: one request computes it (the one that claims it); the others wait for its
    copy rather than compute the same at once (at 10M cases, four HQ people opening the dashboard
    together took 42 s each, computing it four times), and compute it themselves only if none
    comes within ``FIRST_WAIT_SECONDS``."""
    if _claim(key):
        try:
            return store(key, compute)
        finally:
            cache.delete(_claim_key(key))
    deadline = time.monotonic() + FIRST_WAIT_SECONDS
    while time.monotonic() < deadline:
        _pause(FIRST_POLL_SECONDS)
        entry = cache.get(key)
        if entry is not None:
            return entry["data"]
    return store(key, compute)


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def refresh(key: str, compute: Callable[[], dict], *, only_stale: bool = False) -> bool:
    """Compute the copy under ``key`` again (the worker's side of ``kept``) and release its claim;
    with ``only_stale``, only when it is missing or no longer fresh. True if it was computed."""
    try:
        entry = cache.get(key)
        if only_stale and entry is not None and time.time() - entry["computed"] < _fresh_seconds(entry):
            return False
        store(key, compute)
        return True
    finally:
        cache.delete(_claim_key(key))


def cached_dashboard(user: User, scope: Scope) -> dict:
    """The dashboard as kept (``kept``): computed at most about a minute ago as a rule, shared by
    everyone district-wide (HQ) and kept per person otherwise. The answer carries its moment
    ``at`` (数据截至)."""
    return kept(
        dashboard_key(user, scope),
        lambda: figures.dashboard(user, scope),
        lambda: refresh_dashboard.enqueue(None if scope.everything else user.pk),
    )


def cached_screen() -> dict:
    """The command-centre screen's figures as kept (``kept``), district-wide."""
    return kept(SCREEN, figures.screen, refresh_screen.enqueue)


@task()
def refresh_dashboard(user_id: int | None) -> str:
    """Compute the kept dashboard again: district-wide (``None``) or one person's."""
    if user_id is None:
        refresh(DISTRICT, district_dashboard)
        return "全区数据看板已刷新"
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return "该用户已停用"
    scope = scope_for(user)
    refresh(dashboard_key(user, scope), lambda: figures.dashboard(user, scope))
    return f"{user} 的数据看板已刷新"


@task()
def refresh_screen() -> str:
    refresh(SCREEN, figures.screen)
    return "指挥大屏数据已刷新"


def refresh_district(now) -> str:
    """The schedule's job: the district-wide dashboard and the screen, each when no longer fresh."""
    done = [
        name
        for name, key, compute in (
            ("数据看板", DISTRICT, district_dashboard),
            ("指挥大屏", SCREEN, figures.screen),
        )
        if refresh(key, compute, only_stale=True)
    ]
    return f"已刷新：{'、'.join(done)}" if done else "仍在有效期内，未刷新"
