"""The dashboard and the screen served from kept copies (``dashboards.stored``): a request computes
only when there is no copy or it is too old to show; a stale copy is served while the worker
computes the next one, one refresh at a time; the schedule keeps the district-wide copies fresh."""

import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult

from dashboards import stored
from org.models import Role
from org.tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db

CHARTS = "/api/v1/dashboards/charts"
SCREEN = "/api/v1/dashboards/screen"


class Counter:
    """A computation that says how often it ran."""

    def __init__(self):
        self.runs = 0

    def __call__(self) -> dict:
        self.runs += 1
        return {"run": self.runs}


def age(key: str, seconds: float, took: float = 0.1) -> None:
    """Make the kept copy under ``key`` look ``seconds`` old (and ``took`` seconds to compute)."""
    entry = cache.get(key)
    entry.update(computed=time.time() - seconds, took=took)
    cache.set(key, entry)


@pytest.fixture
def later():
    """The refreshes a request asked the worker for."""
    calls: list[str] = []
    return calls


def test_a_missing_copy_is_computed_once_then_served(django_capture_on_commit_callbacks, later):
    compute = Counter()
    with django_capture_on_commit_callbacks(execute=True):
        assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 1}
        assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 1}
    assert compute.runs == 1 and later == []


def test_while_one_request_computes_the_first_copy_the_others_wait_for_it(monkeypatch, later):
    compute = Counter()
    cache.add("k.refresh", time.time())  # another request is computing it
    looks = []

    def other_request_stores(seconds):
        looks.append(seconds)
        if len(looks) == 2:
            stored.store("k", lambda: {"run": "the other request's"})

    monkeypatch.setattr(stored, "_pause", other_request_stores)
    assert stored.kept("k", compute, lambda: later.append("k")) == {"run": "the other request's"}
    assert compute.runs == 0 and len(looks) == 2


def test_a_first_copy_that_never_comes_is_computed_after_the_wait(monkeypatch, later):
    compute = Counter()
    cache.add("k.refresh", time.time())  # claimed by a process that died
    monkeypatch.setattr(stored, "FIRST_WAIT_SECONDS", 0)
    assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 1}
    assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 1}


def test_a_stale_copy_is_served_while_the_worker_refreshes_it_once(django_capture_on_commit_callbacks, later):
    compute = Counter()
    stored.kept("k", compute, lambda: later.append("k"))
    age("k", 61)
    with django_capture_on_commit_callbacks(execute=True):
        # Two requests find it stale: both are served the old copy, one refresh is asked for.
        assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 1}
        assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 1}
    assert later == ["k"] and compute.runs == 1
    # The worker computes it and releases the claim: the next request gets the new copy.
    assert stored.refresh("k", compute) is True
    assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 2}
    age("k", 61)
    with django_capture_on_commit_callbacks(execute=True):
        stored.kept("k", compute, lambda: later.append("k"))
    assert later == ["k", "k"]


def test_a_copy_too_old_to_show_is_computed_in_the_request(later):
    compute = Counter()
    stored.kept("k", compute, lambda: later.append("k"))
    age("k", 61 + stored.STALE_SERVE_SECONDS)
    assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 2}
    assert later == [] and cache.get("k.refresh") is None


def test_a_costly_copy_stays_fresh_ten_times_as_long_as_it_took(django_capture_on_commit_callbacks, later):
    compute = Counter()
    stored.kept("k", compute, lambda: later.append("k"))
    age("k", 250, took=30)  # fresh for 300 s
    assert stored.kept("k", compute, lambda: later.append("k")) == {"run": 1}
    assert later == []
    age("k", 301, took=30)
    with django_capture_on_commit_callbacks(execute=True):
        stored.kept("k", compute, lambda: later.append("k"))
    assert later == ["k"]


def test_the_schedule_refreshes_the_district_copies_only_when_stale():
    assert stored.refresh_district(None) == "已刷新：数据看板、指挥大屏"
    assert stored.refresh_district(None) == "仍在有效期内，未刷新"
    age(stored.SCREEN, 61)
    assert stored.refresh_district(None) == "已刷新：指挥大屏"
    assert cache.get(stored.DISTRICT)["data"]["scope"] == "全区"


def run_worker(monkeypatch) -> None:
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda **kwargs: None
    )
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


@pytest.mark.parametrize("role", [Role.HQ_ADMIN, Role.LEADER])
def test_the_api_serves_a_stale_copy_and_the_worker_refreshes_it(
    monkeypatch, django_capture_on_commit_callbacks, role
):
    user = member(UnitFactory(), role)
    client = Client()
    client.force_login(user)
    first = client.get(CHARTS).json()
    key = stored.DISTRICT if role == Role.HQ_ADMIN else f"dashboards.charts.u{user.pk}"
    age(key, 120)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.get(CHARTS).json()
    assert again["at"] == first["at"]  # the kept copy, not a new computation
    queued = DBTaskResult.objects.get(status="READY")
    assert queued.task_path == "dashboards.stored.refresh_dashboard"
    assert queued.args_kwargs["args"] == ([None] if role == Role.HQ_ADMIN else [user.pk])
    run_worker(monkeypatch)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert client.get(CHARTS).json()["at"] > first["at"]


def test_the_screen_is_served_from_its_kept_copy(monkeypatch, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(member(UnitFactory(), Role.DISPATCHER))
    first = client.get(SCREEN).json()
    age(stored.SCREEN, 120)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(SCREEN).json()["at"] == first["at"]
    assert DBTaskResult.objects.get(status="READY").task_path == "dashboards.stored.refresh_screen"
    run_worker(monkeypatch)
    assert client.get(SCREEN).json()["at"] > first["at"]
