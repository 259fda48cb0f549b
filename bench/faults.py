"""The fault drill: nothing acknowledged is lost when a worker dies or the database restarts.

    python -m bench.faults                       # PostgreSQL started here, 16 clients, 30 s
    python -m bench.faults --clients 32 --seconds 60 --database-url postgres://…

Concurrent clients report cases with a photo through the JSON API (``POST /api/v1/cases/cases``,
multipart) to gunicorn (2 gthread workers, production settings) on PostgreSQL (fsync on). During
the load one gunicorn worker is killed with SIGKILL (its requests die mid-flight; the master starts
a new one) and later the PostgreSQL server is restarted in immediate mode (a crash: no checkpoint,
recovery from the WAL). Afterwards every request that got a 2xx is checked in the database: its
case with the description it sent, its report event, its photo rows and their three files. Also
checked: no case without its report event or its photos (half-written), no duplicate case numbers,
no photo file on disk that no row names (orphans). The figures go to stdout and
``bench/out/faults-<stamp>.json``; the exit status is non-zero when anything was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
MARK = "故障演练"


@dataclass
class Sent:
    marker: str
    status: int = 0
    case_id: int | None = None
    number: str = ""
    done: float = 0.0  # seconds since the load started, when the answer came


@dataclass
class Drill:
    sent: list[Sent] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 160, 90)).save(out, "JPEG")
    return out.getvalue()


async def load(base_url: str, ctx, drill: Drill, clients: int, seconds: float, started: float) -> None:
    import aiohttp

    from bench.load import check_loopback

    check_loopback(base_url)
    photo = jpeg()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url, timeout=timeout) as session:

        async def client(k: int) -> None:
            while time.perf_counter() < deadline:
                i = next(counter)
                lat, lng, dlat, dlng = ctx.rng.choice(ctx.points)
                marker = f"{MARK} {k}-{i}"
                form = aiohttp.FormData()
                form.add_field("category_id", str(ctx.rng.choice(ctx.categories)))
                form.add_field("description", marker)
                form.add_field("lat", f"{lat + ctx.rng.random() * dlat:.6f}")
                form.add_field("lng", f"{lng + ctx.rng.random() * dlng:.6f}")
                form.add_field("address", "演练地址")
                form.add_field("photos", photo, filename="scene.jpg", content_type="image/jpeg")
                sent = Sent(marker)
                drill.sent.append(sent)
                try:
                    async with session.post("/api/v1/cases/cases", data=form, headers=ctx.bearer) as response:
                        sent.status = response.status
                        if 200 <= response.status < 300:
                            body = await response.json()
                            sent.case_id, sent.number = body["id"], body["number"]
                        else:
                            await response.read()
                except (aiohttp.ClientError, TimeoutError):
                    sent.status = 0  # the connection died with the worker, or timed out
                sent.done = time.perf_counter() - started

        await asyncio.gather(*(client(k) for k in range(clients)))


def faults(master: int, pg: dict[str, str], drill: Drill, seconds: float, started: float) -> None:
    """At a third of the load kill one worker; at two thirds restart PostgreSQL (immediate)."""
    from bench.scenarios import worker_pids

    time.sleep(seconds / 3)
    victim = worker_pids(master)[0]
    os.kill(victim, signal.SIGKILL)
    drill.events.append((round(time.perf_counter() - started, 1), f"SIGKILL gunicorn worker {victim}"))
    time.sleep(seconds / 3)
    script = (
        f". {shlex.quote(str(ROOT / 'bench' / 'pg.sh'))}; "
        "pg_run \"'$(pg_bin)/pg_ctl' -D '$PG_DATA' -m immediate -w restart >/dev/null\""
    )
    t0 = time.perf_counter()
    subprocess.run(["bash", "-c", script], env={**os.environ, **pg}, check=True)
    drill.events.append(
        (
            round(t0 - started, 1),
            f"PostgreSQL restarted in immediate mode (down {time.perf_counter() - t0:.1f} s)",
        )
    )


def check(drill: Drill, media: Path) -> dict:
    """What the database and the media folder hold against what the clients were told."""
    from django.db.models import Count, Q

    from cases.models import Case, CaseEvent, CasePhoto

    acknowledged = [s for s in drill.sent if 200 <= s.status < 300]
    rows = list(
        Case.objects.filter(description__startswith=MARK).annotate(
            reports=Count("events", filter=Q(events__action=CaseEvent.Action.REPORT), distinct=True),
            n_photos=Count("photos", distinct=True),
        )
    )
    cases = {c.pk: c for c in rows}
    lost = [
        s.marker for s in acknowledged if s.case_id not in cases or cases[s.case_id].description != s.marker
    ]
    half = [c.number for c in rows if c.reports != 1 or c.n_photos != 1]  # type: ignore[attr-defined]
    numbers = list(Case.objects.values_list("number", flat=True))
    duplicates = len(numbers) - len(set(numbers))
    named: set[str] = set()
    missing_files = 0
    for photo in CasePhoto.objects.filter(case__in=list(cases)):
        for f in (photo.original, photo.image, photo.thumbnail):
            named.add(f.name)
            if not (media / f.name).is_file():
                missing_files += 1
    on_disk = {
        str(p.relative_to(media))
        for p in media.rglob("*")
        if p.is_file() and str(p.relative_to(media)).startswith(("cases/", "private/cases/"))
    }
    all_named: set[str] = set()
    for row in CasePhoto.objects.values_list("original", "image", "thumbnail"):
        all_named.update(row)
    orphans = sorted(on_disk - all_named)
    # Answers by phase: before the worker was killed, until the database restart, after it.
    cuts = [t for t, _what in drill.events]
    phases = ["before_kill", "after_kill", "after_db_restart"]
    statuses: dict[str, dict[int, int]] = {phase: {} for phase in phases}
    for s in drill.sent:
        phase = phases[sum(s.done >= cut for cut in cuts)]
        statuses[phase][s.status] = statuses[phase].get(s.status, 0) + 1
    unacknowledged_found = sum(1 for c in cases.values() if c.pk not in {s.case_id for s in acknowledged})
    return {
        "sent": len(drill.sent),
        "acknowledged": len(acknowledged),
        "found": len(acknowledged) - len(lost),
        "lost": len(lost),
        "lost_examples": lost[:5],
        "not_acknowledged_but_stored": unacknowledged_found,
        "half_written": len(half),
        "half_written_examples": half[:5],
        "duplicate_numbers": duplicates,
        "photo_files_missing": missing_files,
        "orphan_files": len(orphans),
        "orphan_examples": orphans[:5],
        "statuses": statuses,
        "faults": drill.events,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--cases", type=int, default=2000, help="cases generated first (the world around)")
    args = parser.parse_args(argv)

    from bench.__main__ import start_postgres, stop_postgres

    os.environ.setdefault("PG_FSYNC", "on")
    pg = start_postgres()
    media = Path(tempfile.mkdtemp(prefix="chuangwen-faults-media-"))
    os.environ.update(
        DATABASE_URL=pg["PG_URL"],
        MEDIA_ROOT=str(media),
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production-0123456789",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    try:
        import django

        sys.path.insert(0, str(ROOT))
        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from bench import scenarios as sc
        from bench.generate import generate
        from bench.server import serve

        OUT.mkdir(exist_ok=True)
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", verbosity=0, interactive=False)
        generate(args.cases, months=2)
        ctx = sc.Context.build()
        connections.close_all()  # the restart would break this process's connection anyway
        drill = Drill()
        with serve(pg["PG_URL"]) as (base_url, master):
            started = time.perf_counter()
            import threading

            chaos = threading.Thread(target=faults, args=(master, pg, drill, args.seconds, started))
            chaos.start()
            asyncio.run(load(base_url, ctx, drill, args.clients, args.seconds, started))
            chaos.join()
        figures = check(drill, media)
        from cases import photos

        # The nightly sweep (cases/photos.py), here at once: the load has stopped.
        figures["orphan_files_swept"] = len(photos.sweep_orphans(older_than=dt.timedelta(0)))
        figures["orphan_files_after_sweep"] = check(drill, media)["orphan_files"]
        figures.update(clients=args.clients, seconds=args.seconds, database="postgresql", fsync="on")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (OUT / f"faults-{stamp}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        ok = not (
            figures["lost"]
            or figures["half_written"]
            or figures["duplicate_numbers"]
            or figures["photo_files_missing"]
        )
        return 0 if ok else 1
    finally:
        stop_postgres(pg)


if __name__ == "__main__":
    raise SystemExit(main())
