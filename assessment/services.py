"""Assessment actions 考评: schemes, runs (compute, publish), circulars. HQ only.

Each action calls its ``check_*`` first (PermissionDenied 403, ValidationError 400,
ActionRefused 409), then changes everything in one transaction and records a RunEvent and an
audit entry. A published run is frozen: its Figure and Score rows are never written again."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Role, Unit, User
from org.scope import scope_for
from org.text import clean_text
from workdays.periods import aware, check_year

from . import circular as circular_doc
from . import inputs, notices
from .models import Accountability, Circular, Component, Figure, PeriodKind, Run, RunEvent, Scheme, Score

CENT = Decimal("0.01")
RANKED_KINDS = [k for k in Unit.Kind.values if k != Unit.Kind.HQ]


# --- who may ------------------------------------------------------------------------------------


def is_hq(user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN)


def check_manage(user: User | None) -> None:
    """Schemes, runs and circulars are HQ's (创文办) work."""
    if not is_hq(user):
        raise PermissionDenied("只有创文办管理员可以管理考评")


def visible_runs(user: User) -> QuerySet[Run]:
    """HQ sees every run; anyone else the published runs in which a unit of theirs is scored."""
    if is_hq(user):
        return Run.objects.all()
    units = scope_for(user).unit_ids
    return Run.objects.filter(status=Run.Status.PUBLISHED, scores__unit_id__in=units).distinct()


def own_scores(user: User) -> QuerySet[Score]:
    """A unit's own results: its scores in published runs."""
    return Score.objects.filter(
        run__status=Run.Status.PUBLISHED, unit_id__in=scope_for(user).unit_ids
    ).select_related("run__scheme", "unit")


# --- schemes ------------------------------------------------------------------------------------


@dataclass
class SchemeSpec:
    name: str
    period_kind: str
    unit_kinds: Sequence[str]
    weights: dict[str, int]  # component kind → weight; 0 leaves it out
    no_data: str = Scheme.NoData.REWEIGHT
    list_size: int = 3


def check_scheme(user: User | None, spec: SchemeSpec) -> dict[str, int]:
    check_manage(user)
    if not clean_text(spec.name).strip() or len(spec.name) > 100:
        raise ValidationError("方案名称不能为空，且不超过 100 字")
    if spec.period_kind not in PeriodKind.values:
        raise ValidationError("周期无效")
    if not spec.unit_kinds or any(k not in RANKED_KINDS for k in spec.unit_kinds):
        raise ValidationError("请选择参评单位类型")
    if spec.no_data not in Scheme.NoData.values:
        raise ValidationError("无数据规则无效")
    if not 1 <= spec.list_size <= 50:
        raise ValidationError("红黑榜人数应在 1 到 50 之间")
    weights = {k: int(w) for k, w in spec.weights.items() if w}
    if any(k not in Component.Kind.values or w < 0 for k, w in weights.items()):
        raise ValidationError("权重无效")
    if sum(weights.values()) != 100:
        raise ValidationError(f"各组成部分权重之和须为 100，现为 {sum(weights.values())}")
    if spec.period_kind == PeriodKind.WEEK and weights.get(Component.Kind.MATERIALS):
        raise ValidationError("报送材料按月考核，周督查方案不能计入材料得分")
    return weights


def save_scheme(actor: Actor, spec: SchemeSpec, scheme: Scheme | None = None) -> Scheme:
    """Create or edit a scheme. Runs already computed keep the weights they were computed with."""
    weights = check_scheme(actor.user, spec)
    with transaction.atomic():
        if scheme is None:
            scheme = Scheme(created_by=actor.user)
        scheme.name = clean_text(spec.name).strip()
        scheme.period_kind = spec.period_kind
        scheme.unit_kinds = list(spec.unit_kinds)
        scheme.no_data = spec.no_data
        scheme.list_size = spec.list_size
        scheme.save()
        scheme.components.all().delete()
        Component.objects.bulk_create(
            Component(scheme=scheme, kind=kind, weight=weight) for kind, weight in weights.items()
        )
        record(actor, "assessment.scheme_saved", scheme, scheme.name, weights=weights)
    return scheme


# --- periods ------------------------------------------------------------------------------------


def period_of(kind: str, day: dt.date) -> tuple[dt.date, dt.date, str]:
    """The period of ``kind`` containing ``day``: [start, end) and its label."""
    if kind == PeriodKind.WEEK:
        start = day - dt.timedelta(days=day.weekday())
        year, week, _ = start.isocalendar()
        return start, start + dt.timedelta(days=7), f"{year}年第{week}周"
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
        return start, (start + dt.timedelta(days=32)).replace(day=1), f"{start.year}年{start.month}月"
    if kind == PeriodKind.QUARTER:
        quarter = (day.month - 1) // 3
        start = dt.date(day.year, quarter * 3 + 1, 1)
        end = dt.date(day.year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1)
        return start, end, f"{day.year}年第{quarter + 1}季度"
    raise ValidationError("周期无效")


# --- scoring and ranking ------------------------------------------------------------------------


def total(
    weights: dict[str, int], values: dict[str, Decimal | None], no_data: str
) -> tuple[Decimal | None, str]:
    """A unit's total from its component values (0–100) and the scheme's no-data rule:
    ``reweight``: Σ weight × value ÷ Σ weight of the components with data;
    ``exclude``: no total (not ranked) when any component has no data.
    Without any data the unit is not ranked under either rule."""
    missing = [k for k in weights if values.get(k) is None]
    names = "、".join(Component.Kind(k).label for k in missing)
    present = {k: w for k, w in weights.items() if values.get(k) is not None}
    if not present:
        return None, "本期无数据，不参与排名"
    if missing and no_data == Scheme.NoData.EXCLUDE:
        return None, f"缺少{names}，不参与排名"
    weighted = sum((w * values[k] for k, w in present.items()), Decimal(0))  # type: ignore[operator]
    value = (Decimal(weighted) / sum(present.values())).quantize(CENT, ROUND_HALF_UP)
    return value, (f"缺少{names}，按其余部分重新计权" if missing else "")


def competition_ranks(totals: dict[int, Decimal | None]) -> dict[int, int | None]:
    """Ranks 1, 2, 2, 4: equal totals (to the cent, as published) share a rank, the next skips."""
    ranked = sorted((t, k) for k, t in totals.items() if t is not None)
    ranked.sort(key=lambda pair: -pair[0])
    ranks: dict[int, int | None] = {k: None for k in totals}
    previous: Decimal | None = None
    for position, (value, key) in enumerate(ranked, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[key] = rank
    return ranks


# --- runs ---------------------------------------------------------------------------------------


def check_compute(user: User | None, scheme: Scheme, day: dt.date) -> Run | None:
    check_manage(user)
    check_year(day.year)
    if not scheme.components.exists():
        raise ValidationError("方案没有组成部分")
    start, _end, _label = period_of(scheme.period_kind, day)
    run = Run.objects.filter(scheme=scheme, period_start=start).first()
    if run is not None and run.is_published:
        raise ActionRefused("该期考评已发布，数据已冻结，不能重新计算")
    return run


def compute_run(actor: Actor, scheme: Scheme, day: dt.date, at: dt.datetime | None = None) -> Run:
    """Compute (or recompute, while a draft) the run of the period containing ``day`` as of T."""
    existing = check_compute(actor.user, scheme, day)
    moment = aware(at) if at is not None else timezone.now()
    start, end, label = period_of(scheme.period_kind, day)
    weights = {c.kind: c.weight for c in scheme.components.all()}
    units = list(Unit.objects.filter(kind__in=scheme.unit_kinds, is_active=True).order_by("code"))
    values = {kind: inputs.READERS[kind](units, start, end, moment) for kind in weights}
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=existing.pk).first() if existing else None
        if run is not None and run.is_published:
            raise ActionRefused("该期考评已发布，数据已冻结，不能重新计算")
        if run is None:
            run = Run(scheme=scheme, period_start=start)
        run.period_kind, run.period_end, run.label = scheme.period_kind, end, label
        run.at, run.weights, run.no_data = moment, weights, scheme.no_data
        run.list_size, run.computed_at = scheme.list_size, timezone.now()
        run.save()
        run.figures.all().delete()
        run.scores.all().delete()
        figures, totals, notes = [], {}, {}
        for unit in units:
            mine = {kind: values[kind].get(unit.pk) for kind in weights}
            for kind, v in mine.items():
                v = v or inputs.Value(None)
                figures.append(
                    Figure(
                        run=run,
                        unit=unit,
                        kind=kind,
                        value=v.value,
                        numerator=v.numerator,
                        denominator=v.denominator,
                        source=v.source,
                    )
                )
            totals[unit.pk], notes[unit.pk] = total(
                weights, {k: (v.value if v else None) for k, v in mine.items()}, scheme.no_data
            )
        Figure.objects.bulk_create(figures)
        ranks = competition_ranks(totals)
        Score.objects.bulk_create(
            Score(run=run, unit=u, total=totals[u.pk], rank=ranks[u.pk], note=notes[u.pk]) for u in units
        )
        kind = "recomputed" if existing else "computed"
        _event(actor, run, kind, f"数据截至 {timezone.localtime(moment):%Y-%m-%d %H:%M}")
    return run


def check_publish(user: User | None, run: Run) -> None:
    check_manage(user)
    if run.is_published:
        raise ActionRefused("该期考评已经发布")
    if not run.scores.filter(rank__isnull=False).exists():
        raise ValidationError("本期没有可排名的数据，不能发布")


def publish_run(actor: Actor, run: Run) -> Run:
    """Publish: from now on the run's figures, scores and ranks are frozen."""
    check_publish(actor.user, run)
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.is_published:
            raise ActionRefused("该期考评已经发布")
        locked.status, locked.published_at = Run.Status.PUBLISHED, timezone.now()
        locked.save(update_fields=["status", "published_at"])
        _event(actor, locked, "published")
    run.status, run.published_at = locked.status, locked.published_at
    return run


def ranking(run: Run) -> list[Score]:
    return list(run.scores.select_related("unit").order_by(F("rank").asc(nulls_last=True), "unit__code"))


def red_black(run: Run) -> tuple[list[Score], list[Score]]:
    """红榜 the top N and 黑榜 the bottom N of the ranked units (ties at the edge included)."""
    ranked = [s for s in ranking(run) if s.rank is not None]
    n = run.list_size
    if not ranked:
        return [], []
    red_edge = ranked[min(n, len(ranked)) - 1].rank
    red = [s for s in ranked if s.rank <= red_edge]  # type: ignore[operator]
    black_edge = ranked[max(len(ranked) - n, 0)].rank
    black = [s for s in reversed(ranked) if s.rank >= black_edge and s not in red]  # type: ignore[operator]
    return red, black


def figure_table(run: Run) -> list[tuple[Score, list[Figure | None]]]:
    """Each unit's score with its frozen figures in the order of the run's weights."""
    kinds = list(run.weights)
    by_unit: dict[int, dict[str, Figure]] = {}
    for fig in run.figures.all():
        by_unit.setdefault(fig.unit_id, {})[fig.kind] = fig
    return [(s, [by_unit.get(s.unit_id, {}).get(k) for k in kinds]) for s in ranking(run)]


def allowed_actions(user: User, run: Run) -> list[str]:
    actions = []
    for name, check in (
        ("recompute", lambda: check_compute(user, run.scheme, run.period_start)),
        ("publish", lambda: check_publish(user, run)),
        ("issue", lambda: check_issue(user, run)),
    ):
        try:
            check()
        except (PermissionDenied, ValidationError, ActionRefused):
            continue
        actions.append(name)
    return actions


def _event(actor: Actor, run: Run, kind: str, note: str = "") -> None:
    RunEvent.objects.create(run=run, kind=kind, actor=actor.user, ip=actor.ip, via=actor.via, note=note)
    record(actor, f"assessment.run_{kind}", run, f"{run} {kind}")


# --- circulars ----------------------------------------------------------------------------------


def check_issue(user: User | None, run: Run, title: str = "x", body: str = "x") -> None:
    check_manage(user)
    if not run.is_published:
        raise ActionRefused("只能从已发布的考评生成通报")
    if Circular.objects.filter(run=run).exists():
        raise ActionRefused("该期考评的通报已经印发，不能修改")
    if not clean_text(title).strip() or len(title) > 100:
        raise ValidationError("标题不能为空，且不超过 100 字")
    if not clean_text(body).strip() or len(body) > 4000:
        raise ValidationError("正文不能为空，且不超过 4000 字")


def issue_circular(actor: Actor, run: Run, title: str, body: str) -> Circular:
    """Number the circular from the year's sequence, render the Word document and keep it as
    issued; nothing about it changes afterwards."""
    check_issue(actor.user, run, title, body)
    assert actor.user is not None  # check_manage refuses anonymous
    title, body = clean_text(title).strip(), clean_text(body).strip()
    now = timezone.now()
    year = timezone.localtime(now).year
    with transaction.atomic():
        last = Circular.objects.select_for_update().filter(year=year).aggregate(m=Max("sequence"))["m"]
        sequence = (last or 0) + 1
        number = f"巴州创文办〔{year}〕{sequence}号"
        document = circular_doc.render(number, title, body, run, ranking(run), red_black(run))
        circular = Circular.objects.create(
            run=run,
            year=year,
            sequence=sequence,
            number=number,
            title=title,
            body=body,
            document=document,
            issued_by=actor.user,
            issued_at=now,
        )
        _event(actor, run, "circular", number)
        notices.notify_circular(circular)
    return circular


def check_download(user: User | None, circular: Circular) -> None:
    """HQ and the units the circular names (every unit scored in its run)."""
    if is_hq(user):
        return
    units = scope_for(user).unit_ids if user is not None else frozenset()
    if not circular.run.scores.filter(unit_id__in=units).exists():
        raise PermissionDenied("该通报未点名您的单位")


# --- accountability 约谈/问责 ----------------------------------------------------------------------


@dataclass
class AccountabilitySpec:
    unit_id: int
    kind: str
    reason: str
    follow_up_on: dt.date
    person: str = ""
    statement: str = ""


def check_accountability(user: User | None, circular: Circular, spec: AccountabilitySpec) -> dict[str, str]:
    """HQ records it against a unit the circular names, with a reason and a follow-up date."""
    check_manage(user)
    if spec.kind not in Accountability.Kind.values:
        raise ValidationError("请选择约谈或问责")
    if not circular.run.scores.filter(unit_id=spec.unit_id).exists():
        raise ValidationError("该单位不在本期通报之列")
    cleaned = {
        "reason": clean_text(spec.reason, 500, "事由"),
        "person": clean_text(spec.person, 50, "对象", multiline=False),
        "statement": clean_text(spec.statement, 2000, "公开陈述和承诺"),
    }
    if not cleaned["reason"]:
        raise ValidationError("请填写事由")
    if spec.follow_up_on < timezone.localtime(circular.issued_at).date():
        raise ValidationError("跟踪复查日期不能早于通报印发日期")
    return cleaned


def record_accountability(actor: Actor, circular: Circular, spec: AccountabilitySpec) -> Accountability:
    cleaned = check_accountability(actor.user, circular, spec)
    assert actor.user is not None  # check_manage refuses anonymous
    with transaction.atomic():
        item = Accountability.objects.create(
            circular=circular,
            unit_id=spec.unit_id,
            kind=spec.kind,
            follow_up_on=spec.follow_up_on,
            recorded_by=actor.user,
            **cleaned,
        )
        _event(actor, circular.run, spec.kind, f"{item.unit} {cleaned['reason'][:100]}")
    return item


def visible_accountabilities(user: User) -> QuerySet[Accountability]:
    """HQ sees every record; a unit its own (they are on the unit's record)."""
    qs = Accountability.objects.select_related("circular", "unit")
    if is_hq(user):
        return qs
    return qs.filter(unit_id__in=scope_for(user).unit_ids)
