"""``python -m bench.assessment_ranking``: time an assessment run and its ranking over 1,500 units.

    python -m bench.assessment_ranking                        # a fresh SQLite file
    python -m bench.assessment_ranking --units 1500 --database-url postgres://...

Issue 19's target: ranking 1,500 units from stored figures in ≤ 1 s. Makes a fresh database with
1,500 departments, a monthly scheme weighing 联合执法报到率 (ten joint actions a month, each
summoning every unit, signed in at random) and 加减分 (an approved entry per unit), then for two
months: computes the run (every input read once and frozen as figures, scores, ranks), publishes
it, and reads the ranking with the movement against the month before and the red and black
lists (``assessment.services.ranking`` / ``red_black``, what the pages and circulars read).
Prints the seconds of each step. The case component is not weighed here: its input at 10M cases
is the stored case figures, measured in docs/performance.md ("Monthly summary, metrics, ranking").
"""

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def timed(label: str, fn, *args, **kwargs):
    started, cpu = time.monotonic(), time.process_time()
    result = fn(*args, **kwargs)
    print(
        f"  {label}: {time.monotonic() - started:.3f} s ({time.process_time() - cpu:.3f} s of CPU)",
        flush=True,
    )
    return result


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.assessment_ranking", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--units", type=int, default=1500)
    p.add_argument("--database-url", help="an empty database to use instead of a fresh SQLite file")
    args = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chuangwen.settings"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env["SQLITE_PATH"] = str(OUT / f"{stamp}-assessment.sqlite3")
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from zoneinfo import ZoneInfo

    from assessment import services
    from assessment.models import Bonus
    from org.audit import Actor
    from org.models import Membership, Region, Role, Unit, User
    from streets.models import JointAction, JointSummons

    rng = random.Random(19)
    shanghai = ZoneInfo("Asia/Shanghai")
    district = Region.objects.create(code="B", name="基准区", level=Region.Level.DISTRICT)
    hq_unit = Unit.objects.create(code="BHQ", name="创文办", kind=Unit.Kind.HQ, region=district)
    hq = User.objects.create(username="bench-hq", first_name="基准")
    checker = User.objects.create(username="bench-hq2", first_name="审核")
    for person in (hq, checker):
        Membership.objects.create(user=person, unit=hq_unit, role=Role.HQ_ADMIN)
    Unit.objects.bulk_create(
        Unit(code=f"BD{i:05d}", name=f"基准部门{i}", kind=Unit.Kind.DEPARTMENT, region=district)
        for i in range(args.units)
    )
    units = list(Unit.objects.filter(kind=Unit.Kind.DEPARTMENT))
    scheme = services.save_scheme(
        Actor(hq),
        services.SchemeSpec(
            "基准月考评", "month", [Unit.Kind.DEPARTMENT], {"joint": 60, "bonus": 40}, list_size=10
        ),
    )
    months = [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    for month in months:
        for k in range(10):
            day = month + dt.timedelta(days=2 * k + 1)
            action = JointAction.objects.create(
                organiser=hq_unit,
                title=f"联合执法{k}",
                day=day,
                start_time=dt.time(9),
                place="广场",
                lat=Decimal("31.85"),
                lng=Decimal("106.74"),
                lead_unit=units[k],
                created_at=dt.datetime(2026, 9, 1, tzinfo=shanghai),
            )
            signed = dt.datetime.combine(day, dt.time(9, 5), tzinfo=shanghai)
            JointSummons.objects.bulk_create(
                JointSummons(action=action, unit=u, signed_in_at=signed if rng.random() < 0.8 else None)
                for u in units
            )
        Bonus.objects.bulk_create(
            Bonus(
                scheme=scheme,
                period_start=month,
                label=f"{month:%Y年%-m月}",
                unit=u,
                points=Decimal(rng.randint(-10, 10)),
                reason="基准",
                evidence_text="基准",
                status=Bonus.Status.APPROVED,
                entered_by=hq,
                decided_by=checker,
                decided_at=dt.datetime(2026, 9, 1, tzinfo=shanghai),
            )
            for u in units
        )
    print(
        f"{len(units)} units, {JointSummons.objects.count()} summons, {Bonus.objects.count()} bonus entries"
    )
    for month in months:
        print(f"{month:%Y-%m}:", flush=True)
        at = dt.datetime.combine(month.replace(day=28) + dt.timedelta(days=5), dt.time(10), tzinfo=shanghai)
        run = timed(
            "compute the run (inputs frozen, scores, ranks)",
            services.compute_run,
            Actor(hq),
            scheme,
            month,
            at=at,
        )
        run = timed("publish", services.publish_run, Actor(hq), run)
        ranked = timed("ranking with movement", services.ranking, run)
        red, black = timed("red and black lists", services.red_black, run)
        print(f"  ranked {sum(1 for s in ranked if s.rank is not None)}; 红榜 {len(red)}, 黑榜 {len(black)}")


if __name__ == "__main__":
    main()
