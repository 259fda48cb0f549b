"""The benchmark in miniature, so that it keeps working: a thousand generated cases, every
scenario of ``python -m bench`` driven for a few requests through the real load driver against
the live test server, and no errors. Seconds, not minutes; the figures are not judged here."""

import os
from types import SimpleNamespace

import pytest
from django.db.models import Count, F, Q, Sum

from appeals.models import Appeal
from bench import scenarios
from bench.generate import generate
from cases import mapcells
from cases.models import Case, CaseEvent, CasePart, CasePhoto, MapCell, MapDelta

# serialized_rollback: the catalogue from the data migrations is back even after another
# transactional test (e.g. the restore drill) flushed the database.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_generator_and_every_scenario_run_without_errors(live_server, settings):
    # One test: a transactional test empties the tables after it, the migrated category
    # catalogue included, so a second one would start without categories.
    settings.ROOT_URLCONF = "bench.urls"  # as the benchmarked server: with the calibration view
    loaded = generate(1000, months=3, workers=1)
    assert loaded["rows"]["cases_case"] == Case.objects.count() == 1000
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"closed", "rejected", "handling"} <= statuses
    # Every case has its timeline from the report on; dispatched ones their parts.
    assert not Case.objects.annotate(n=Count("events")).filter(n=0).exists()
    assert CaseEvent.objects.filter(action="report").count() == 1000
    dispatched = Case.objects.filter(dispatched_at__isnull=False)
    assert (
        CasePart.objects.filter(case__in=dispatched).values("case").distinct().count() == dispatched.count()
    )
    # Each unit's first part of a case carries the case's report time (the unit list's index).
    held = CasePart.objects.values("case", "unit").annotate(
        n=Count("pk", filter=Q(case_reported_at=F("case__reported_at")))
    )
    assert held and [r for r in held if r["n"] != 1] == []
    assert (
        not CasePart.objects.exclude(case_reported_at=F("case__reported_at"))
        .exclude(case_reported_at__isnull=True)
        .exists()
    )
    assert CasePhoto.objects.exists()
    # Open cases have a running clock; closed ones none.
    assert not Case.objects.filter(status__in=Case.TIMED_STATUSES, due_at__isnull=True).exists()
    assert not Case.objects.filter(status="closed", due_at__isnull=False).exists()
    # Numbers continue from the counter, so the next real report does not collide.
    assert Case.objects.values("number").distinct().count() == 1000
    # About a fifth of the cases came from citizens and are published Open311 requests.
    citizens = Case.objects.filter(source__in=["appeal", "open311"])
    assert Appeal.objects.count() == citizens.count() and 120 <= citizens.count() <= 280
    assert Appeal.objects.filter(case__in=citizens).count() == citizens.count()
    assert Appeal.objects.values("code").distinct().count() == Appeal.objects.count()
    # The map's per-cell counts were rebuilt once, not written row by row.
    assert not MapDelta.objects.exists()
    for level in (mapcells.LEVEL_MIN, mapcells.LEVEL_MAX):
        assert MapCell.objects.filter(level=level, day=0).aggregate(n=Sum("count"))["n"] == 1000

    assert scenarios.ensure_hot_spot(60) == 60 and scenarios.ensure_hot_spot(60) == 0
    ctx = scenarios.Context.build()
    assert len(ctx.hot_ids) == 60
    assert ctx.hq_bearer and ctx.display_bearer  # the dashboard and screen scenarios sign in
    for scenario in scenarios.LOAD_SCENARIOS:
        assert scenario.available(), scenario.name
        # One client: the test database may be SQLite in memory, whose shared cache locks whole
        # tables against concurrent writers (a file in WAL mode, as the benchmark uses, does not).
        result = scenario.run(live_server.url, ctx, clients=1, duration=20, max_requests=4)
        assert result.count == 4, scenario.name
        assert result.errors == 0, (scenario.name, result.first_error)
    options = SimpleNamespace(import_cases=200, export_cases=300)
    for timed in scenarios.TIMED_SCENARIOS:
        assert timed.available(), timed.name
        figures = timed.run(live_server.url, os.getpid(), ctx, options)
        assert figures["errors"] == 0, (timed.name, figures)
        assert figures["count"] > 0
    intakes = sum(1 for s in scenarios.LOAD_SCENARIOS if s.name.startswith("intake"))
    # The hot spot, the intakes and the import added theirs.
    assert Case.objects.count() == 1000 + 60 + 4 * intakes + 200


@pytest.mark.django_db(transaction=False)
def test_the_bench_serves_with_gunicorn_or_granian_and_refuses_another_server():
    from bench.server import _command, serve

    for server, app, threads in (
        ("gunicorn", "chuangwen.wsgi", "--threads=4"),
        ("granian", "chuangwen.wsgi:application", "--blocking-threads=4"),
    ):
        command = _command(server, 8123, 2, 4)
        assert command[1:3] == ["-m", server]
        assert {app, "--workers=2", threads} <= set(command)
        assert any(part.endswith("8123") for part in command)
    with pytest.raises(ValueError, match="unknown server"), serve("sqlite:///unused", server="uwsgi"):
        pass
