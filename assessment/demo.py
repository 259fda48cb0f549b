"""The demo's assessment 考评, from the demo's own figures:

- five schemes: streets and townships weekly 周督查 and monthly 月通报 (with 加减分), communities
  monthly, departments monthly and quarterly 季考评;
- their last finished periods computed as of T = 09:00 the day after each period, and published:
  two weeks, four months, the last quarter;
- a circular 通报 issued from each monthly and quarterly run, oldest period first, and an admonition
  talk 约谈 (the quarter's last unit also an accountability decision 问责) for each one's last unit;
- bonus and deduction entries 加减分 for the streets' last month, entered by ``hq`` and approved by a
  second HQ user ``hq2`` (one left pending): approved after that run's T, so they count only in
  its correction 更正版, which is published and gets its own circular — 14 circulars in all.

Every step looks first whether it was done, so loading twice changes nothing."""

import datetime as dt
import zlib
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from org.audit import Actor
from org.demo import DEMO_PASSWORD
from org.models import Membership, Role, Unit, User

from . import services
from .models import Bonus, Circular, Run, Scheme

STREETS = [Unit.Kind.STREET_OFFICE, Unit.Kind.TOWNSHIP_GOVERNMENT]
STREETS_MONTHLY = "街道乡镇月通报"
SCHEMES = [  # name, period kind, units ranked together, weights, red/black list size, periods
    ("街道乡镇周督查", "week", STREETS, {"cases": 60, "inspections": 40}, 3, 2),
    (STREETS_MONTHLY, "month", STREETS, {"cases": 60, "inspections": 25, "bonus": 15}, 3, 4),
    ("社区月考评", "month", [Unit.Kind.COMMUNITY_COMMITTEE], {"cases": 50, "materials": 50}, 5, 4),
    ("区级部门月通报", "month", [Unit.Kind.DEPARTMENT], {"cases": 60, "tasks": 40}, 5, 4),
    (
        "区级部门季考评",
        "quarter",
        [Unit.Kind.DEPARTMENT],
        {"cases": 50, "tasks": 30, "inspections": 20},
        5,
        1,
    ),
]
BONUSES = [  # rank in the run (from the top; negative from the bottom), points, reason, evidence
    (1, "5", "承办全市创文现场推进会，获市创文办书面表扬", "市创文办表扬信（2026）第 12 号"),
    (-1, "3", "主动认领背街小巷整治任务并提前完成", "区创文办现场验收记录"),
    (2, "-4", "中央文明办测评点位暗访发现问题未按期整改", "暗访通报截图及整改台账"),
    (3, "2", "志愿服务活动组织有力，获区文明办推荐", "推荐函"),
]
CORRECTION_REASON = "补计经两名管理员审核通过的加减分（审核晚于原考评的数据截至时刻）"


def _previous_periods(kind: str, today: dt.date, count: int) -> list[dt.date]:
    """The first days of the ``count`` finished periods before the one containing ``today``."""
    days, start = [], services.period_of(kind, today)[0]
    for _ in range(count):
        start = services.period_of(kind, start - dt.timedelta(days=1))[0]
        days.append(start)
    return list(reversed(days))


def _reviewer(hq_unit: Unit) -> User:
    """The second HQ administrator who approves 加减分 (the one entering them may not)."""
    user, _ = User.objects.get_or_create(
        username="hq2",
        defaults={
            "display_name": "李审核",
            "phone": f"139{zlib.crc32(b'hq2') % 10**8:08d}",
            "is_staff": True,
            "password": make_password(DEMO_PASSWORD),
        },
    )
    Membership.objects.get_or_create(user=user, unit=hq_unit, role=Role.HQ_ADMIN)
    return user


def load() -> None:
    hq_user = User.objects.filter(username="hq").first()
    hq_unit = Unit.objects.filter(code="HQ").first()
    if hq_user is None or hq_unit is None:
        return
    hq = Actor.system(via="command", user=hq_user)
    today = timezone.localdate()
    runs: list[Run] = []
    for name, kind, unit_kinds, weights, size, count in SCHEMES:
        scheme = Scheme.objects.filter(name=name).first()
        if scheme is None:
            spec = services.SchemeSpec(name, kind, unit_kinds, weights, Scheme.NoData.REWEIGHT, size)
            scheme = services.save_scheme(hq, spec)
        for day in _previous_periods(kind, today, count):
            run = Run.objects.filter(scheme=scheme, period_start=day, version=1).first()
            if run is None:
                end = services.period_of(kind, day)[1]
                at = timezone.make_aware(dt.datetime.combine(end, dt.time(9)))  # T: 09:00 after the period
                run = services.compute_run(hq, scheme, day, at=min(at, timezone.now()))
            if not run.is_published and run.scores.filter(rank__isnull=False).exists():
                services.publish_run(hq, run)  # a period without data stays a draft
            if run.is_published and kind != "week":
                runs.append(run)
    runs.sort(key=lambda r: (r.period_end, r.period_kind == "quarter", r.scheme.name))
    for run in runs:
        if not Circular.objects.filter(run=run).exists():
            _circular(hq, run, today)
    streets = [r for r in runs if r.scheme.name == STREETS_MONTHLY]
    if streets:
        _bonuses_and_correction(hq, _reviewer(hq_unit), streets[-1], today)


def _circular(hq: Actor, run: Run, today: dt.date) -> Circular:
    circular = services.issue_circular(hq, run, services.default_title(run), services.default_body(run))
    last = circular.run.scores.filter(rank__isnull=False).select_related("unit").order_by("-rank").first()
    if last is None:
        return circular
    kinds = ["talk", "accountability"] if run.period_kind == "quarter" else ["talk"]
    for kind in kinds:
        services.record_accountability(
            hq,
            circular,
            services.AccountabilitySpec(
                unit_id=last.unit_id,
                kind=kind,
                reason=f"{run.label}{run.scheme.name}排名末位（{last.total}分）"
                + ("，连续未完成整改任务，予以通报问责" if kind == "accountability" else ""),
                follow_up_on=today + dt.timedelta(days=30),
                person=f"{last.unit.short_name or last.unit.name}主要负责人",
                statement="已在全区创文推进会上作公开陈述，承诺一个月内完成问题整改并销号。",
            ),
        )
    return circular


def _bonuses_and_correction(hq: Actor, reviewer: User, run: Run, today: dt.date) -> None:
    """加减分 for the streets' last month, approved by the second administrator, and the run's
    correction 更正版 that counts them, published with its own circular."""
    if not run.scheme.components.filter(kind="bonus").exists():
        return  # a database loaded with an older demo, whose scheme does not weigh 加减分
    if not Bonus.objects.filter(scheme=run.scheme, period_start=run.period_start).exists():
        ranked = list(run.scores.filter(rank__isnull=False).order_by("rank", "unit__code"))
        second = Actor.system(via="command", user=reviewer)
        for i, (position, points, reason, evidence) in enumerate(BONUSES):
            score = ranked[position - 1] if position > 0 else ranked[position]
            spec = services.BonusSpec(
                run.scheme_id, run.period_start, score.unit_id, Decimal(points), reason, evidence
            )
            entry = services.enter_bonus(hq, spec)
            if i < len(BONUSES) - 1:  # the last one waits for review
                services.decide_bonus(second, entry, True, "佐证属实")
    correction = run.corrections.first()
    if (
        correction is None
        and not Run.objects.filter(
            scheme=run.scheme, period_start=run.period_start, version__gt=run.version
        ).exists()
    ):
        correction = services.correct_run(hq, run, CORRECTION_REASON)
    if correction is None:
        return
    if not correction.is_published:
        services.publish_run(hq, correction)
    if not Circular.objects.filter(run=correction).exists():
        circular = services.draft_circular(hq, correction)
        services.issue_circular(
            hq,
            correction,
            f"关于{correction.label}{correction.scheme.name}更正情况的通报",
            f"{circular.body}\n{correction.label}考评结果经复核更正：{CORRECTION_REASON}。本更正版公布后，原通报排名以本通报为准。",
        )
