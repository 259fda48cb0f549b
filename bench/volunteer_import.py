"""``python -m bench.volunteer_import``: time the XLSX import of the volunteer register.

    python -m bench.volunteer_import                       # 130,000 rows into a fresh SQLite file
    python -m bench.volunteer_import --rows 20000
    python -m bench.volunteer_import --database-url postgres://...   # an empty PostgreSQL database

Makes a fresh database (migrated), 181 teams on one station, a register of ``--rows`` volunteers
(valid ID numbers, one or two teams each) written with XlsxWriter, then imports it twice through
``volunteers.xlsx.import_volunteers``: first into the empty register (all created), then again (all
updated). Prints the seconds of each (wall clock, and the CPU time of this process, which on a
shared machine is closer to what an idle one would take) and the process's peak resident memory.
"""

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TEAMS = 181


def id_number(serial: int) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    # A birth day per thousand serials and the serial's last three digits: distinct up to 20 million.
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=serial // 1000)
    body = f"511902{birth:%Y%m%d}{serial % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def write_register(path: Path, rows: int) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("志愿者")
    header = [
        "志愿者编号",
        "姓名",
        "身份证号",
        "手机号",
        "服务特长",
        "服务区域编码",
        "可服务时间",
        "服务队编码",
    ]
    for col, value in enumerate(header):
        sheet.write_string(0, col, value)
    for i in range(1, rows + 1):
        teams = f"BT{i % TEAMS}" + (
            f"、BT{(i * 7) % TEAMS}" if i % 4 == 0 and (i * 7) % TEAMS != i % TEAMS else ""
        )
        values = [
            f"BZ{i:07d}",
            f"志愿者{i}",
            id_number(i),
            f"139{i:08d}",
            "elderly、environment",
            "B",
            "周末",
            teams,
        ]
        for col, value in enumerate(values):
            sheet.write_string(i, col, value)
    book.close()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.volunteer_import", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=130_000)
    p.add_argument("--database-url", help="an empty database to use instead of a fresh SQLite file")
    args = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chuangwen.settings"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env["SQLITE_PATH"] = str(OUT / f"{stamp}-volunteers.sqlite3")
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.db import connection

    from org.audit import Actor
    from org.models import Region
    from volunteers.models import Station, Team
    from volunteers.xlsx import import_volunteers

    region = Region.objects.create(code="B", name="基准区", level=Region.Level.DISTRICT)
    station = Station.objects.create(code="B", name="基准中心", kind=Station.Kind.CENTRE, region=region)
    Team.objects.bulk_create(Team(code=f"BT{i}", name=f"基准队{i}", station=station) for i in range(TEAMS))

    register = OUT / f"{stamp}-volunteers-{args.rows}.xlsx"
    started = time.monotonic()
    write_register(register, args.rows)
    print(
        f"wrote {args.rows} rows ({register.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - started:.1f}s"
    )
    for label in ("create", "update"):
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started, cpu = time.monotonic(), time.process_time()
        with open(register, "rb") as handle:
            result = import_volunteers(Actor.system(), handle)
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{connection.vendor} {label}: {result.created} created, {result.updated} updated in {seconds:.1f}s "
            f"({args.rows / seconds:,.0f} rows/s, {cpu:.1f}s of CPU in this process); peak RSS {peak:.0f} MB (before {rss_before:.0f} MB)"
        )
    register.unlink()


if __name__ == "__main__":
    main()
