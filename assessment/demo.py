"""The demo's assessment 考评: four schemes (weekly streets, monthly streets and communities,
quarterly departments), their last finished periods computed from the demo's own figures and
published, a circular issued from each monthly and quarterly run, and an admonition talk 约谈 for
the last unit of each of those. Loading twice changes nothing (existing schemes and runs stay)."""

import datetime as dt

from django.utils import timezone

from org.audit import Actor
from org.models import Unit, User

from . import services
from .models import Circular, Run, Scheme

STREETS = [Unit.Kind.STREET_OFFICE, Unit.Kind.TOWNSHIP_GOVERNMENT]
SCHEMES = [
    ("街道乡镇周督查", "week", STREETS, {"cases": 60, "inspections": 40}, 3),
    ("街道乡镇月通报", "month", STREETS, {"cases": 70, "inspections": 30}, 3),
    ("社区月考评", "month", [Unit.Kind.COMMUNITY_COMMITTEE], {"cases": 50, "materials": 50}, 5),
    ("区级部门季考评", "quarter", [Unit.Kind.DEPARTMENT], {"cases": 50, "tasks": 30, "inspections": 20}, 5),
]


def _previous_periods(kind: str, today: dt.date, count: int) -> list[dt.date]:
    """The first days of the ``count`` finished periods before the one containing ``today``."""
    days, start = [], services.period_of(kind, today)[0]
    for _ in range(count):
        start = services.period_of(kind, start - dt.timedelta(days=1))[0]
        days.append(start)
    return list(reversed(days))


def load() -> None:
    hq_user = User.objects.filter(username="hq").first()
    if hq_user is None:
        return
    hq = Actor.system(via="command", user=hq_user)
    today = timezone.localdate()
    for name, kind, unit_kinds, weights, size in SCHEMES:
        scheme = Scheme.objects.filter(name=name).first()
        if scheme is None:
            spec = services.SchemeSpec(name, kind, unit_kinds, weights, Scheme.NoData.REWEIGHT, size)
            scheme = services.save_scheme(hq, spec)
        count = {"week": 2, "month": 2, "quarter": 1}[kind]
        for day in _previous_periods(kind, today, count):
            if Run.objects.filter(scheme=scheme, period_start=day).exists():
                continue
            end = services.period_of(kind, day)[1]
            at = timezone.make_aware(dt.datetime.combine(end, dt.time(9)))  # T: 09:00 after the period
            run = services.compute_run(hq, scheme, day, at=min(at, timezone.now()))
            if not run.scores.filter(rank__isnull=False).exists():
                continue  # a period without data stays a draft
            services.publish_run(hq, run)
            if kind == "week":
                continue
            circular = services.issue_circular(
                hq,
                run,
                f"关于{run.label}{scheme.name.removesuffix('月通报').removesuffix('月考评').removesuffix('季考评')}创文工作考评情况的通报",
                f"根据《巴州区创建全国文明城市考评办法》，现将{run.label}考评情况通报如下。"
                "对排名靠前的单位予以通报表扬，排名靠后的单位要认真剖析原因，限期整改。",
            )
            _talk(hq, circular, today)


def _talk(hq: Actor, circular: Circular, today: dt.date) -> None:
    last = circular.run.scores.filter(rank__isnull=False).select_related("unit").order_by("-rank").first()
    if last is None:
        return
    services.record_accountability(
        hq,
        circular,
        services.AccountabilitySpec(
            unit_id=last.unit_id,
            kind="talk",
            reason=f"{circular.run.label}考评排名末位（{last.total}分）",
            follow_up_on=today + dt.timedelta(days=30),
            person=f"{last.unit.short_name or last.unit.name}主要负责人",
            statement="已在全区创文推进会上作公开陈述，承诺一个月内完成问题整改并销号。",
        ),
    )
