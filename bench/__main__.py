"""``python -m bench`` (``make bench``): generate cases, serve them the production way, measure.

    python -m bench                                  # PostgreSQL started by the bench, 1M cases
    python -m bench --db sqlite --cases 1000000
    python -m bench --cases 200000 --scenarios list_api,detail_api --duration 10 --runs 1

PostgreSQL is a throwaway server of its own (``bench/pg.sh``, as in CI; port ``PG_PORT``, 54337 by
default); SQLite a fresh file under ``bench/out/``. The app runs under gunicorn (2 gthread
workers, DEBUG off, production settings) on a loopback port; every scenario is bounded in time
and count and everything stops by itself. Results: ``bench/out/<stamp>-<db>-<cases>.json`` and a
Markdown table on stdout.
"""

import argparse
import datetime as dt
import io
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--cases", type=int, default=1_000_000, help="cases to generate (default 1M)")
    p.add_argument("--months", type=int, default=12, help="months the cases are spread over")
    p.add_argument("--scenarios", default="all", help="comma-separated names, or all")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per load scenario run")
    p.add_argument("--max-requests", type=int, default=20_000, help="requests per load scenario run")
    p.add_argument("--runs", type=int, default=3, help="runs per scenario; the median is reported")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--import-cases", type=int, default=100_000, help="cases in the bulk import scenario")
    p.add_argument("--export-cases", type=int, default=100_000, help="cases in the XLSX export scenario")
    p.add_argument("--job-limit", type=float, default=120.0, help="seconds before a timed job is stopped")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the database at the end (PostgreSQL left running, prints how to stop it)",
    )
    p.add_argument(
        "--server",
        choices=["gunicorn", "granian"],
        default="gunicorn",
        help="the HTTP server that runs the application: gunicorn (as in production) or granian",
    )
    p.add_argument(
        "--redis",
        action="store_true",
        help="start a Redis server (Debian's redis-server) and use it as the shared cache and for "
        "the rate-limit counters, instead of the database",
    )
    p.add_argument(
        "--database-url",
        help="use this existing database instead of starting one; only the cases it lacks are generated",
    )
    return p.parse_args(argv)


def start_postgres() -> dict[str, str]:
    env = {**os.environ, "PG_PORT": os.environ.get("PG_PORT", "54337")}
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", int(env["PG_PORT"]))) == 0:
            raise SystemExit(f"port {env['PG_PORT']} is taken: stop that server or set PG_PORT")
    script = (
        f". {shlex.quote(str(ROOT / 'bench' / 'pg.sh'))}; pg_start >/dev/null; echo $PG_URL; echo $PG_DATA"
    )
    out = subprocess.run(["bash", "-c", script], env=env, check=True, capture_output=True, text=True)
    url, data = out.stdout.split()
    return {"PG_URL": url, "PG_DATA": data, "PG_PORT": env["PG_PORT"]}


def stop_postgres(pg: dict[str, str]) -> None:
    script = f". {shlex.quote(str(ROOT / 'bench' / 'pg.sh'))}; pg_stop"
    subprocess.run(["bash", "-c", script], env={**os.environ, **pg}, check=False)


def calibration() -> float:
    """Seconds for a fixed piece of pure Python: how fast (and how shared) the CPU was."""
    began = time.perf_counter()
    sum(range(10**7))
    return round(time.perf_counter() - began, 3)


def machine() -> dict:
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "python_sum_1e7_s_at_start": calibration(),
    }


def median_result(results: list[dict]) -> dict:
    """The run with the median p95 (its other figures with it), plus every run's p95."""
    ordered = sorted(results, key=lambda r: r.get("p95_ms", 0))
    chosen = dict(ordered[len(ordered) // 2])
    chosen["runs"] = len(results)
    chosen["p95_ms_runs"] = [r.get("p95_ms") for r in results]
    chosen["rps_runs"] = [r.get("rps") for r in results]
    return chosen


def markdown(report: dict) -> str:
    lines = [
        f"Database: {report['database']}{' + Redis' if report.get('redis') else ''} · "
        f"server: {report.get('server', 'gunicorn')} · "
        f"cases: {report['cases']:,} · clients: {report['clients']} · "
        f"machine: {report['machine']['nproc']} cores, {report['machine']['memory_gib']} GiB",
        "",
        "| scenario | requests | req/s | of calibration | p50 ms | p95 ms | p99 ms | errors | 1 client p50/p95 ms | target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in report["results"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[r.get("met")]
        if r.get("unavailable"):
            lines.append(f"| {r['name']} | — | — | — | — | — | — | — | — | {r['target']} | not built |")
            continue
        if "p95_ms" in r:
            lines.append(
                f"| {r['name']} | {r['requests']} | {r['rps']} | {r.get('of_calibration', '—')} | "
                f"{r['p50_ms']} | {r['p95_ms']} | "
                f"{r['p99_ms']} | {r['errors']} | {r.get('single_p50_ms')}/{r.get('single_p95_ms')} | "
                f"{r['target']} | {met} |"
            )
        else:
            extra = f" ({r['detail']})" if r.get("detail") else ""
            lines.append(
                f"| {r['name']} | {r.get('count', '')} | — | — | — | — | — | {r.get('errors', 0)} | — | "
                f"{r['target']} | {met}: {r['seconds']} s{extra} |"
            )
    gen = report["generation"]
    if gen.get("cases"):
        lines += [
            "",
            f"Generation: {gen['cases']:,} cases in {gen['total_s']} s ({gen['cases_per_s']:,} cases/s while "
            f"loading, {gen['loaders']} loader(s); indexes {gen.get('index_s', 0)} s).",
        ]
    if report.get("figures_frozen"):
        frozen = ", ".join(f"{month} {s} s" for month, s in report["figures_frozen"].items())
        lines += [
            "",
            f"Stored figures computed before the load (district, as `freeze_figures` does): {frozen}.",
        ]
    m = report["machine"]
    lines.append(
        f"CPU check (sum(range(10**7))): {m['python_sum_1e7_s_at_start']} s at start, "
        f"{report['python_sum_1e7_s_at_end']} s at end; load average {m['load_average_at_start'][0]:.1f} → "
        f"{report['load_average_at_end'][0]:.1f}."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    pg = None
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "STATIC_ROOT": str(OUT / "static"),
        "MEDIA_ROOT": str(OUT / "media"),
        "AXES_ENABLED": "0",
        "BENCH_SERVER": args.server,
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    elif args.db == "postgres":
        pg = start_postgres()
        env["DATABASE_URL"] = pg["PG_URL"]
    else:
        path = OUT / f"bench-{stamp}.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.update(env)
    try:
        with ExitStack() as stack:
            if args.redis:
                from bench.redis_server import redis_server

                url = stack.enter_context(redis_server())
                # The shared cache in database 0, the counters in database 1 (settings.py).
                os.environ.update(
                    CACHE_BACKEND="django_redis.cache.RedisCache",
                    CACHE_LOCATION=url,
                    RATE_LIMIT_REDIS_URL=url[: -len("/0")] + "/1",
                )
                print(f"Redis: {url} (the shared cache and the rate-limit counters)", flush=True)
            return run(args, stamp)
    finally:
        if pg and args.keep:
            print(f"PostgreSQL left running: {pg['PG_URL']} (data {pg['PG_DATA']}); stop it with")
            print(f"  PG_DATA={pg['PG_DATA']} bash -c '. bench/pg.sh; pg_stop'")
        elif pg:
            stop_postgres(pg)
        elif args.db == "sqlite" and args.keep and not args.database_url:
            print(f"SQLite database kept: {env['DATABASE_URL']}")
        elif args.db == "sqlite" and not args.database_url:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{OUT}/bench-{stamp}.sqlite3{suffix}").unlink(missing_ok=True)


def freeze_months(months: list[str]) -> dict[str, float]:
    """Compute and store the district's summary and metrics of the months the load scenarios ask
    for, as a deployment's ``freeze_figures`` (cron, monthly close) does; the seconds each took."""
    from django.core.management import call_command

    took = {}
    for month in months:
        began = time.perf_counter()
        call_command("freeze_figures", month=month, refresh=True, stdout=io.StringIO())
        took[month] = round(time.perf_counter() - began, 2)
        print(f"  figures of {month} stored in {took[month]} s", flush=True)
    return took


def cancel_leftover_queries() -> None:
    """Stop what the server's connections were still running when it was stopped."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def run(args, stamp: str) -> int:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    from bench import scenarios as sc
    from bench.generate import generate
    from bench.server import serve

    started = time.perf_counter()
    host = machine()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    from cases.models import Case

    missing = args.cases - Case.objects.count()
    print(f"Generating {max(missing, 0):,} cases on {args.db} …", flush=True)
    generation = generate(missing, months=args.months) if missing > 0 else {"cases": 0, "reused": True}
    print(f"  {generation}", flush=True)
    sc.ensure_hot_spot()
    from cases import mapcells

    ctx = sc.Context.build()

    @contextmanager
    def serving():
        try:
            with serve(os.environ["DATABASE_URL"]) as server:
                yield server
        finally:
            cancel_leftover_queries()

    wanted = None if args.scenarios == "all" else set(args.scenarios.split(","))
    # The scenarios that read the months' stored figures (the dashboard's on-time rate too).
    reads_months = {"summary_page", "metrics_api", "dashboard_api", "screen_api", "dashboard_compute"}
    frozen = freeze_months(ctx.months) if wanted is None or wanted & reads_months else {}
    results = []
    for scenario in sc.LOAD_SCENARIOS:
        if wanted is not None and scenario.name not in wanted:
            continue
        row: dict[str, Any] = {
            "name": scenario.name,
            "description": scenario.description,
            "target": scenario.target.text(),
        }
        if not scenario.available():
            results.append({**row, "unavailable": True, "met": None})
            continue
        runs = []
        # The map's pending changes folded, as the worker's minute job does between scenarios
        # (the benchmarked server runs no worker; the intake scenarios leave thousands).
        mapcells.fold()
        # A fresh server per scenario: work a timed-out client left behind does not slow the next one.
        with serving() as (base_url, _master):
            # One request first, not counted: what the first request after a start costs (a
            # kept copy computed, a statement prepared, a connection opened) is reported apart.
            warmup = scenario.run(base_url, ctx, clients=1, duration=120, max_requests=1).summary()
            row["warmup_ms"] = warmup["mean_ms"]
            print(f"  {scenario.name} warm-up request: {warmup['mean_ms']} ms", flush=True)
            for k in range(args.runs):
                result = scenario.run(
                    base_url,
                    ctx,
                    clients=args.clients,
                    duration=args.duration,
                    max_requests=args.max_requests,
                )
                runs.append(result.summary())
                print(f"  {scenario.name} run {k + 1}: {runs[-1]}", flush=True)
        # One client alone, on a fresh server too: what a request costs without queueing.
        with serving() as (base_url, _master):
            single = scenario.run(base_url, ctx, clients=1, duration=args.duration / 2, max_requests=200)
        single_figures = single.summary()
        print(f"  {scenario.name} single client: {single_figures}", flush=True)
        row.update(median_result(runs))
        row["clients"] = args.clients
        row.update(
            single_p50_ms=single_figures["p50_ms"],
            single_p95_ms=single_figures["p95_ms"],
            single_requests=single_figures["requests"],
            single_errors=single_figures["errors"],
        )
        row["met"] = scenario.target.met(row)
        results.append(row)
    # Every load scenario also as a fraction of the calibration (a trivial view, same server).
    calibration_rps = next((r.get("rps") for r in results if r["name"] == "calibration"), None)
    if calibration_rps:
        for r in results:
            if r.get("rps") is not None:
                r["of_calibration"] = round(r["rps"] / calibration_rps, 4)
    for timed in sc.TIMED_SCENARIOS:
        if wanted is not None and timed.name not in wanted:
            continue
        row = {"name": timed.name, "description": timed.description, "target": timed.target.text()}
        if not timed.available():
            results.append({**row, "unavailable": True, "met": None})
            continue
        with serving() as (base_url, master):
            figures = timed.run(base_url, master, ctx, args)
        print(f"  {timed.name}: {figures}", flush=True)
        row.update(figures)
        row["met"] = timed.target.met(row)
        results.append(row)

    report = {
        "stamp": stamp,
        "database": args.db,
        "cases": args.cases,
        "clients": args.clients,
        "redis": bool(args.redis),
        "server": args.server,
        "duration_s": args.duration,
        "runs": args.runs,
        "machine": sc.machine_versions(host),
        "generation": generation,
        "figures_frozen": frozen,
        "results": results,
        "wall_s": round(time.perf_counter() - started, 1),
        "load_average_at_end": os.getloadavg(),
        "python_sum_1e7_s_at_end": calibration(),
    }
    path = OUT / f"{stamp}-{args.db}-{args.cases}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    print()
    print(markdown(report))
    print(f"\nWritten {path.relative_to(ROOT)}")
    return 0 if all(r.get("errors", 0) == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
