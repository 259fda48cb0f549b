"""``python -m bench.org_import``: how long the org import takes for many new people on the command line.

    python -m bench.org_import                 # 20,000 new people, SQLite, target ≤ 10 s
    python -m bench.org_import --people 50000

A fresh SQLite file under ``bench/out/`` gets the migrations and the demo organisation
(``org.demo``); the workbook is the organisation's own export (regions and units, unchanged on
import) plus ``--people`` new people spread over the demo units, each with one or two roles.
Then ``manage.py import_org`` runs as a separate process, the way an operator runs it, three
times: ``--dry-run`` (the preview), the import itself, and the same file again (everything
unchanged). Wall-clock seconds of each process, Django's start-up included.
"""

import argparse
import io
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGET_SECONDS = 10.0


def build(path: Path, people: int) -> None:
    from openpyxl import load_workbook

    from org import xlsx
    from org.audit import Actor
    from org.models import Role, Unit
    from org.sheets import append_row

    exported = load_workbook(xlsx.export_workbook(Actor.system()))
    units = list(Unit.objects.order_by("code").values_list("code", flat=True))
    roles = [Role.HANDLER.label, Role.COLLECTOR.label, f"{Role.HANDLER.label}、{Role.REPORT_CLERK.label}"]
    sheet = exported[xlsx.PEOPLE_SHEET]
    for n in range(people):
        append_row(sheet, [f"p{n:06d}", f"测试人员{n}", f"139{n:08d}", units[n % len(units)], roles[n % 3]])
    out = io.BytesIO()
    exported.save(out)
    path.write_bytes(out.getvalue())


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system) of one ``import_org`` process, and its last
    counts line. CPU seconds tell what the run costs when the machine is shared."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "import_org", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode:
        raise SystemExit(f"import_org failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines() or [""]
    return seconds, cpu, next((line for line in lines if line.startswith("人员")), lines[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.org_import", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    options = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / f"org-import-{os.getpid()}.sqlite3"
    workbook = OUT / f"org-import-{options.people}.xlsx"
    env = {**os.environ, "SQLITE_PATH": str(database), "DJANGO_SETTINGS_MODULE": "chuangwen.settings"}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from org import demo
    from org.models import Membership, User

    call_command("migrate", verbosity=0)
    demo.load()
    build(workbook, options.people)
    before = User.objects.count()
    print(f"workbook: {workbook.stat().st_size / 1e6:.1f} MB, {options.people} new people")
    try:
        for label, args in (
            ("dry run (preview)", ["--dry-run"]),
            ("import", []),
            ("same file again", []),
        ):
            seconds, cpu, line = timed([str(workbook), *args], env)
            print(f"{label:<18} {seconds:6.2f} s wall, {cpu:6.2f} s CPU  {line}")
        print(f"people {before} → {User.objects.count()}, memberships {Membership.objects.count()}")
        print(
            f"target: {options.people} new people ≤ {TARGET_SECONDS:.0f} s; load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
