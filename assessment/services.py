"""Assessment actions 考评: schemes, runs (compute, publish), circulars. HQ only.

Each action calls its ``check_*`` first (PermissionDenied 403, ValidationError 400,
ActionRefused 409), then changes everything in one transaction and records a RunEvent and an
audit entry. A published run is frozen: its Figure and Score rows are never written again."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from cases import metrics, photos
from cases.models import CasePhoto
from materials import files as materials_files
from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Contract, Role, Unit, User
from org.scope import scope_for
from org.text import clean_text
from workdays.periods import aware, check_year, local_midnight

from . import circular as circular_doc
from . import inputs, notices
from .models import (
    Accountability,
    Bonus,
    Circular,
    Component,
    Figure,
    PeriodKind,
    Run,
    RunEvent,
    Scheme,
    Score,
)

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
    """A unit's own results: its scores in the latest published version of each run."""
    return Score.objects.filter(
        run__in=latest_published(), unit_id__in=scope_for(user).unit_ids
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
    is_active: bool = True  # drafted by the background job after each period


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
    if spec.period_kind == PeriodKind.WEEK and weights.get(Component.Kind.CARDS):
        raise ValidationError("红黄牌按月认定，周督查方案不能计入红黄牌扣分")
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
        scheme.is_active = spec.is_active
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
    Without any data (besides 加减分, which every unit has) the unit is not ranked under either rule."""
    missing = [k for k in weights if values.get(k) is None]
    names = "、".join(Component.Kind(k).label for k in missing)
    present = {k: w for k, w in weights.items() if values.get(k) is not None}
    if not any(k != Component.Kind.BONUS for k in present):
        return None, "本期无数据，不参与排名"  # 加减分 adjusts a score, it does not make one
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


def latest_version(scheme: Scheme, start: dt.date) -> Run | None:
    """The newest version of a scheme's run for the period starting on ``start``."""
    return Run.objects.filter(scheme=scheme, period_start=start).order_by("-version").first()


def check_compute(user: User | None, scheme: Scheme, day: dt.date) -> Run | None:
    check_manage(user)
    check_year(day.year)
    if not scheme.components.exists():
        raise ValidationError("方案没有组成部分")
    start, _end, _label = period_of(scheme.period_kind, day)
    run = latest_version(scheme, start)
    if run is not None and run.is_published:
        raise ActionRefused("该期考评已发布，数据已冻结，不能重新计算；如需更正请生成更正版")
    return run


def compute_run(actor: Actor, scheme: Scheme, day: dt.date, at: dt.datetime | None = None) -> Run:
    """Compute (or recompute, while a draft) the run of the period containing ``day`` as of T."""
    existing = check_compute(actor.user, scheme, day)
    return _compute(actor, scheme, day, at, existing)


def draft_finished_periods(actor: Actor, now: dt.datetime) -> list[Run]:
    """The background step (a system actor, no HQ user): for every active scheme with components,
    draft the run of the period that ended last before ``now``, as of ``now``. A period that has a
    run already (draft, published or corrected) is skipped, so running it again changes nothing.
    HQ checks and publishes the drafts."""
    today = timezone.localtime(now).date()
    made = []
    for scheme in Scheme.objects.filter(is_active=True).prefetch_related("components").order_by("pk"):
        if not scheme.components.all():
            continue
        current = period_of(scheme.period_kind, today)[0]
        start = period_of(scheme.period_kind, current - dt.timedelta(days=1))[0]
        if Run.objects.filter(scheme=scheme, period_start=start).exists():
            continue
        made.append(_compute(actor, scheme, start, now, None))
    return made


def _compute(actor: Actor, scheme: Scheme, day: dt.date, at: dt.datetime | None, existing: Run | None) -> Run:
    start, _end, _label = period_of(scheme.period_kind, day)
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=existing.pk).first() if existing else None
        if run is not None and run.is_published:
            raise ActionRefused("该期考评已发布，数据已冻结，不能重新计算；如需更正请生成更正版")
        if run is None:
            run = Run(scheme=scheme, period_start=start)
        moment = _fill(run, scheme, at)
        kind = "recomputed" if existing else "computed"
        _event(actor, run, kind, f"数据截至 {timezone.localtime(moment):%Y-%m-%d %H:%M}")
    return run


def _fill(run: Run, scheme: Scheme, at: dt.datetime | None) -> dt.datetime:
    """Compute ``run``'s figures, totals and ranks as of T (``at`` or now) with the scheme's
    current weights and rules, and store them, replacing a draft's rows. Inside a transaction."""
    moment = aware(at) if at is not None else timezone.now()
    start, end, label = period_of(scheme.period_kind, run.period_start)
    weights = {c.kind: c.weight for c in scheme.components.all()}
    units = list(Unit.objects.filter(kind__in=scheme.unit_kinds, is_active=True).order_by("code"))
    values = {kind: inputs.reader(kind, scheme)(units, start, end, moment) for kind in weights}
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
    return moment


# --- corrections 更正 -----------------------------------------------------------------------------


def check_correct(user: User | None, run: Run, reason: str = "x") -> str:
    """A correction is made of the latest version of a published run, with a reason."""
    check_manage(user)
    if not run.is_published:
        raise ActionRefused("只能更正已发布的考评；草稿可直接重新计算")
    if Run.objects.filter(
        scheme_id=run.scheme_id, period_start=run.period_start, version__gt=run.version
    ).exists():
        raise ActionRefused("本期已有更正版，请在最新版本上更正")
    cleaned = clean_text(reason or "", 500, "更正原因").strip()
    if not cleaned:
        raise ValidationError("请填写更正原因")
    return cleaned


def correct_run(actor: Actor, run: Run, reason: str, at: dt.datetime | None = None) -> Run:
    """A new version of a published run, computed again as of its own T (now by default) and
    linked to the one it corrects; a draft until published. The corrected run stays as it was."""
    cleaned = check_correct(actor.user, run, reason)
    with transaction.atomic():
        Run.objects.select_for_update().get(pk=run.pk)
        check_correct(actor.user, run, reason)
        correction = Run(
            scheme=run.scheme,
            period_start=run.period_start,
            version=run.version + 1,
            previous=run,
            reason=cleaned,
        )
        moment = _fill(correction, run.scheme, at)
        _event(
            actor,
            correction,
            "corrected",
            f"更正第{run.version}版（数据截至 {timezone.localtime(moment):%Y-%m-%d %H:%M}）：{cleaned[:200]}",
        )
        _event(actor, run, "correction", f"已生成更正版 第{correction.version}版")
    return correction


def versions(run: Run) -> list[Run]:
    """Every version of the run's scheme and period, oldest first."""
    return list(
        Run.objects.filter(scheme_id=run.scheme_id, period_start=run.period_start).order_by("version")
    )


def latest_published() -> QuerySet[Run]:
    """Published runs that no published correction replaced: the figures the rankings show."""
    return Run.objects.filter(status=Run.Status.PUBLISHED).exclude(corrections__status=Run.Status.PUBLISHED)


def replaced_by(run: Run) -> Run | None:
    """The published correction that replaced ``run``, if any."""
    return run.corrections.filter(status=Run.Status.PUBLISHED).first()


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


def previous_run(run: Run) -> Run | None:
    """The latest published version of the same scheme's run for the period before ``run``'s."""
    start = period_of(run.period_kind, run.period_start - dt.timedelta(days=1))[0]
    return (
        Run.objects.filter(scheme_id=run.scheme_id, period_start=start, status=Run.Status.PUBLISHED)
        .order_by("-version")
        .first()
    )


def movement_label(rank: int | None, previous: int | None, compared: bool) -> str:
    """↑n / ↓n / 持平 against the previous period's rank; 新 for a unit ranked now and not then."""
    if not compared or rank is None:
        return ""
    if previous is None:
        return "新"
    if previous == rank:
        return "持平"
    return f"↑{previous - rank}" if previous > rank else f"↓{rank - previous}"


def ranking(run: Run) -> list[Score]:
    """The run's scores in rank order, each with its movement against the previous period."""
    scores = list(run.scores.select_related("unit").order_by(F("rank").asc(nulls_last=True), "unit__code"))
    before = previous_run(run)
    previous = dict(before.scores.values_list("unit_id", "rank")) if before else {}
    for s in scores:
        s.previous_rank = previous.get(s.unit_id)
        s.movement = movement_label(s.rank, s.previous_rank, before is not None)
    return scores


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
    circular = Circular.objects.filter(run=run).first()
    for name, check in (
        ("recompute", lambda: check_recompute(user, run)),
        ("publish", lambda: check_publish(user, run)),
        ("correct", lambda: check_correct(user, run)),
        ("draft", lambda: check_draft_circular(user, run)),
        (
            "edit",
            lambda: check_edit_circular(user, circular) if circular else check_draft_circular(user, run),
        ),
        ("issue", lambda: check_issue(user, run)),
    ):
        try:
            check()
        except (PermissionDenied, ValidationError, ActionRefused):
            continue
        actions.append(name)
    return actions


def check_recompute(user: User | None, run: Run) -> None:
    """A draft is recomputed in place (a correction's draft too); a published run never."""
    check_manage(user)
    if run.is_published:
        raise ActionRefused("该期考评已发布，数据已冻结，不能重新计算；如需更正请生成更正版")


def recompute_run(actor: Actor, run: Run, at: dt.datetime | None = None) -> Run:
    """Recompute a draft (a first version or a correction) as of T, keeping its version."""
    check_recompute(actor.user, run)
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        check_recompute(actor.user, locked)
        moment = _fill(locked, locked.scheme, at)
        _event(actor, locked, "recomputed", f"数据截至 {timezone.localtime(moment):%Y-%m-%d %H:%M}")
    return locked


def _event(actor: Actor, run: Run, kind: str, note: str = "") -> None:
    RunEvent.objects.create(run=run, kind=kind, actor=actor.user, ip=actor.ip, via=actor.via, note=note)
    record(actor, f"assessment.run_{kind}", run, f"{run} {kind}")


# --- circulars ----------------------------------------------------------------------------------


def default_title(run: Run) -> str:
    return f"关于{run.label}{run.scheme.name}情况的通报"


def default_body(run: Run) -> str:
    return (
        f"根据《巴州区创建全国文明城市考评办法》，现将{run.label}{run.scheme.name}情况通报如下。"
        "对排名靠前的单位予以通报表扬，排名靠后的单位要认真剖析原因，限期整改。"
    )


def _clean_circular(title: str, body: str) -> tuple[str, str]:
    title, body = clean_text(title or "").strip(), clean_text(body or "").strip()
    if not title or len(title) > 100:
        raise ValidationError("标题不能为空，且不超过 100 字")
    if not body or len(body) > 4000:
        raise ValidationError("正文不能为空，且不超过 4000 字")
    return title, body


def check_draft_circular(user: User | None, run: Run) -> None:
    check_manage(user)
    if not run.is_published:
        raise ActionRefused("只能从已发布的考评生成通报")
    if Circular.objects.filter(run=run).exists():
        raise ActionRefused("该期考评已有通报")


def draft_circular(actor: Actor, run: Run) -> Circular:
    """A draft circular from a published run, with a title and body HQ edits before issue."""
    check_draft_circular(actor.user, run)
    with transaction.atomic():
        Run.objects.select_for_update().get(pk=run.pk)
        check_draft_circular(actor.user, run)
        circular = Circular.objects.create(
            run=run,
            status=Circular.Status.DRAFT,
            title=default_title(run),
            body=default_body(run),
            drafted_by=actor.user,
            drafted_at=timezone.now(),
        )
        _event(actor, run, "circular_drafted", circular.title)
    return circular


def check_edit_circular(
    user: User | None, circular: Circular, title: str = "x", body: str = "x"
) -> tuple[str, str]:
    check_manage(user)
    if circular.is_issued:
        raise ActionRefused("通报已印发，编号与内容不能再修改")
    return _clean_circular(title, body)


def edit_circular(actor: Actor, circular: Circular, title: str, body: str) -> Circular:
    """Edit a draft's title and body; an issued circular is refused (409)."""
    title, body = check_edit_circular(actor.user, circular, title, body)
    with transaction.atomic():
        locked = Circular.objects.select_for_update().get(pk=circular.pk)
        check_edit_circular(actor.user, locked, title, body)
        locked.title, locked.body = title, body
        locked.save(update_fields=["title", "body"])
        _event(actor, locked.run, "circular_edited", title)
    return locked


def check_issue(user: User | None, run: Run, title: str = "x", body: str = "x") -> tuple[str, str]:
    check_manage(user)
    if not run.is_published:
        raise ActionRefused("只能从已发布的考评生成通报")
    if Circular.objects.filter(run=run, status=Circular.Status.ISSUED).exists():
        raise ActionRefused("该期考评的通报已经印发，不能修改")
    return _clean_circular(title, body)


def issue_circular(actor: Actor, run: Run, title: str, body: str) -> Circular:
    """Issue the run's circular (its draft, or a new one) with this title and body: number it from
    the year's sequence, render the Word and PDF documents and keep them; nothing about it changes
    afterwards."""
    title, body = check_issue(actor.user, run, title, body)
    assert actor.user is not None  # check_manage refuses anonymous
    now = timezone.now()
    year = timezone.localtime(now).year
    with transaction.atomic():
        Run.objects.select_for_update().get(pk=run.pk)
        check_issue(actor.user, run, title, body)
        last = Circular.objects.select_for_update().filter(year=year).aggregate(m=Max("sequence"))["m"]
        sequence = (last or 0) + 1
        number = f"巴州创文办〔{year}〕{sequence}号"
        circular = Circular.objects.filter(run=run).first() or Circular(
            run=run, drafted_by=actor.user, drafted_at=now
        )
        scores, lists = ranking(run), red_black(run)
        issued_on = timezone.localtime(now).date()
        circular.status = Circular.Status.ISSUED
        circular.year, circular.sequence, circular.number = year, sequence, number
        circular.title, circular.body = title, body
        shown = problem_photos(run, lists[1])
        circular.document = circular_doc.render(number, title, body, run, scores, lists, issued_on, shown)
        circular.pdf = circular_doc.render_pdf(number, title, body, run, scores, lists, issued_on, shown)
        circular.issued_by, circular.issued_at = actor.user, now
        circular.save()
        _event(actor, run, "circular", number)
        notices.notify_circular(circular)
    return circular


def circular_pdf(circular: Circular) -> bytes:
    """The PDF kept at issue (circulars issued before PDFs existed: rendered from the stored rows)."""
    if circular.pdf:
        return bytes(circular.pdf)
    run = circular.run
    issued_on = timezone.localtime(circular.issued_at).date() if circular.issued_at else timezone.localdate()
    lists = red_black(run)
    return circular_doc.render_pdf(
        circular.number or "",
        circular.title,
        circular.body,
        run,
        ranking(run),
        lists,
        issued_on,
        problem_photos(run, lists[1]),
    )


PHOTOS_PER_CIRCULAR, PHOTOS_PER_UNIT = 4, 2


def problem_photos(run: Run, black: Sequence[Score]) -> list["circular_doc.Photo"]:
    """Photos of the worst problems for a circular: the before-photos 处置前 of the black-listed
    units' cases overdue 超期未处置 at the run's T among the parts due in its period (the cases
    behind their 超期待处置率), worst-ranked unit first, at most two per unit and four in all, one
    per case, newest case first. Only the public copies (re-encoded, without EXIF and GPS) are
    used, never the originals under ``private/``; a file that cannot be read is left out."""
    lo, hi = local_midnight(run.period_start), local_midnight(run.period_end)
    at_text = f"{timezone.localtime(run.at):%m月%d日%H:%M}"
    shown: list[circular_doc.Photo] = []
    for score in black:
        overdue = metrics.behind(metrics.select(lo, hi, at=run.at, unit=score.unit), "overdue_pending_rate")
        photos_of_unit = (
            CasePhoto.objects.filter(case__in=overdue, kind=CasePhoto.Kind.BEFORE)
            .select_related("case__category")
            .order_by("-case__reported_at", "case_id", "pk")
        )
        cases_seen: set[int] = set()
        for photo in photos_of_unit:
            if photo.case_id in cases_seen or not photo.image:
                continue
            try:
                with default_storage.open(photo.image.name, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            case = photo.case
            place = f"，{case.address}" if case.address else ""
            shown.append(
                circular_doc.Photo(
                    data,
                    f"{score.unit.name}：案件 {case.number} {case.category.name}{place}，"
                    f"截至{at_text}超期未处置",
                )
            )
            cases_seen.add(photo.case_id)
            if len(cases_seen) >= PHOTOS_PER_UNIT or len(shown) >= PHOTOS_PER_CIRCULAR:
                break
        if len(shown) >= PHOTOS_PER_CIRCULAR:
            break
    return shown


def visible_circulars(user: User) -> QuerySet[Circular]:
    """Issued circulars: HQ sees all (and drafts); a unit those naming it."""
    qs = Circular.objects.select_related("run__scheme")
    if is_hq(user):
        return qs
    units = scope_for(user).unit_ids
    return qs.filter(status=Circular.Status.ISSUED, run__scores__unit_id__in=units).distinct()


def check_download(user: User | None, circular: Circular) -> None:
    """HQ and the units the circular names (every unit scored in its run), once issued."""
    if not circular.is_issued:
        raise ActionRefused("通报尚未印发")
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
    if not circular.is_issued:
        raise ActionRefused("通报尚未印发")
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
    if circular.issued_at and spec.follow_up_on < timezone.localtime(circular.issued_at).date():
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


# --- a unit's history 历次排名 ---------------------------------------------------------------------


def check_history(user: User | None, unit: Unit) -> None:
    """HQ sees every unit's history; a unit its own; a leader 包保领导 the units they contract."""
    if is_hq(user):
        return
    if user is None or (unit.pk not in scope_for(user).unit_ids and unit.pk not in leader_unit_ids(user)):
        raise PermissionDenied("只能查看本单位或包保单位的考评历史")


def can_open_runs(user: User | None, unit: Unit) -> bool:
    """Whether the history may link to the runs (their pages show every unit of the run): HQ and
    the unit itself; a leader sees the contracted units' own rows only."""
    return is_hq(user) or (user is not None and unit.pk in scope_for(user).unit_ids)


def unit_history(user: User | None, unit: Unit) -> list[Score]:
    """The unit's scores in the latest published version of every run, newest period first, each
    with its movement against the scheme's previous period (when that was published too)."""
    check_history(user, unit)
    return _history(unit)


def _history(unit: Unit) -> list[Score]:
    scores = list(
        Score.objects.filter(run__in=latest_published(), unit=unit)
        .select_related("run__scheme", "unit")
        .order_by("run__scheme__period_kind", "run__scheme__name", "run__period_start")
    )
    by_period = {(s.run.scheme_id, s.run.period_start): s for s in scores}
    for s in scores:
        before_start = period_of(s.run.period_kind, s.run.period_start - dt.timedelta(days=1))[0]
        before = by_period.get((s.run.scheme_id, before_start))
        compared = before is not None or previous_run(s.run) is not None
        s.previous_rank = before.rank if before else None
        s.movement = movement_label(s.rank, s.previous_rank, compared)
    scores.sort(key=lambda s: (s.run.period_start, s.run.scheme.name), reverse=True)
    return scores


# --- the leader's view 包保领导 ----------------------------------------------------------------------


@dataclass
class ContractedArea:
    """One of a leader's active contracts 包保: the region or site, and the ranked units it covers."""

    label: str
    kind: str  # "region" or "site"
    units: list[Unit]


def check_leader_view(user: User | None) -> None:
    """The leader's view is for leaders 包保领导 (what they contract, nothing else); a superuser,
    who is offered every page, sees the contracts of their own (usually none)."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("只有包保领导可以查看包保单位的考评结果")
    if not user.is_superuser and not scope_for(user).has_role(Role.LEADER):
        raise PermissionDenied("只有包保领导可以查看包保单位的考评结果")


def contracted_areas(user: User) -> list[ContractedArea]:
    """The leader's active contracts (``org`` contracts, as ``org.scope`` reads them): a region
    covers the ranked units located in it (its street office, communities …); a site the units
    answering for that site 包保单位 in their own active contracts."""
    areas = []
    for contract in (
        Contract.objects.active().filter(leader=user).select_related("region", "site").order_by("pk")
    ):
        ranked = Unit.objects.filter(kind__in=RANKED_KINDS, is_active=True).order_by("code")
        if contract.region is not None:
            units = ranked.filter(region__path__startswith=contract.region.path)
            areas.append(ContractedArea(contract.region.name, "region", list(units)))
        elif contract.site is not None:
            answering = Contract.objects.active().filter(site_id=contract.site_id, unit__isnull=False)
            units = ranked.filter(pk__in=answering.values("unit_id"))
            areas.append(ContractedArea(f"{contract.site.name}（点位）", "site", list(units)))
    return areas


def leader_unit_ids(user: User) -> set[int]:
    """The ids of the units a leader contracts (empty for anyone else)."""
    if not scope_for(user).has_role(Role.LEADER):
        return set()
    return {u.pk for area in contracted_areas(user) for u in area.units}


@dataclass
class UnitResults:
    unit: Unit
    latest: list[Score]  # the newest published result of each scheme, with movement
    history: list[Score]  # every published result, newest first


def leader_view(user: User) -> list[tuple[ContractedArea, list[UnitResults]]]:
    """For each contracted area, its units' results: the latest of each scheme and the history
    (latest published versions only, as everywhere a period's result is read)."""
    check_leader_view(user)
    out = []
    for area in contracted_areas(user):
        rows = []
        for unit in area.units:
            history = _history(unit)  # the unit is the leader's: contracted_areas chose it
            seen: set[int] = set()
            latest = []
            for score in history:  # newest first
                if score.run.scheme_id not in seen:
                    seen.add(score.run.scheme_id)
                    latest.append(score)
            rows.append(UnitResults(unit, latest, history))
        out.append((area, rows))
    return out


# --- bonus and deduction entries 加减分 ------------------------------------------------------------

BONUS_LIMIT = Decimal(50)


@dataclass
class BonusSpec:
    scheme_id: int
    day: dt.date
    unit_id: int
    points: Decimal
    reason: str
    evidence_text: str = ""


def check_enter_bonus(user: User | None, spec: BonusSpec, upload=None) -> dict:
    """HQ enters points for a unit the scheme ranks, in one of its periods, with a reason and
    evidence (a text, a file, or both)."""
    check_manage(user)
    check_year(spec.day.year)
    scheme = Scheme.objects.filter(pk=spec.scheme_id).first()
    if scheme is None:
        raise ValidationError("请选择考评方案")
    if not scheme.components.filter(kind=Component.Kind.BONUS).exists():
        raise ValidationError("该方案未设置加减分组成部分（权重为 0）")
    unit = Unit.objects.filter(pk=spec.unit_id, kind__in=scheme.unit_kinds).first()
    if unit is None:
        raise ValidationError("该单位不参加此方案的考评")
    try:
        points = Decimal(spec.points).quantize(CENT, ROUND_HALF_UP)
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ValidationError("分值无效") from exc
    if points == 0 or abs(points) > BONUS_LIMIT:
        raise ValidationError(f"分值应在 -{BONUS_LIMIT} 到 {BONUS_LIMIT} 之间，且不为 0")
    reason = clean_text(spec.reason or "", 500, "事由").strip()
    if not reason:
        raise ValidationError("请填写加减分事由")
    evidence = clean_text(spec.evidence_text or "", 2000, "佐证说明").strip()
    checked = materials_files.check_upload(upload) if upload else None
    if not evidence and checked is None:
        raise ValidationError("请提供佐证材料（文件或文字说明）")
    start, _end, label = period_of(scheme.period_kind, spec.day)
    return {
        "scheme": scheme,
        "unit": unit,
        "points": points,
        "reason": reason,
        "evidence_text": evidence,
        "checked": checked,
        "period_start": start,
        "label": label,
    }


def enter_bonus(actor: Actor, spec: BonusSpec, upload=None) -> Bonus:
    """Record a pending entry; it counts in a run only after a second HQ user approved it."""
    data = check_enter_bonus(actor.user, spec, upload)
    assert actor.user is not None  # check_manage refuses anonymous
    checked = data.pop("checked")
    with photos.atomic():
        bonus = Bonus(entered_by=actor.user, **data)
        if checked is not None:
            stem = f"private/assessment/bonus/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}"
            if checked.photo is not None:
                bonus.evidence_file.name = photos.save(f"{stem}.jpg", photos.copies(checked.photo).display)
                bonus.evidence_type = "image/jpeg"
                bonus.evidence_name = materials_files.clean_name(checked.name, "jpg")
            else:
                document = checked.document
                bonus.evidence_file.name = photos.save(f"{stem}.{document.kind}", document.data)
                bonus.evidence_type = materials_files.CONTENT_TYPES[document.kind]
                bonus.evidence_name = materials_files.clean_name(checked.name, document.kind)
        bonus.save()
        record(actor, "assessment.bonus_entered", bonus, f"{bonus.unit} {bonus.points:+} {bonus.reason[:80]}")
    return bonus


def check_decide_bonus(user: User | None, bonus: Bonus) -> None:
    """A second HQ user decides: never the one who entered it, and only once."""
    check_manage(user)
    if user is not None and bonus.entered_by_id == user.pk:
        raise PermissionDenied("加减分须由录入人以外的另一名管理员审核，不能审核自己录入的记录")
    if bonus.status != Bonus.Status.PENDING:
        raise ActionRefused(f"该加减分已{bonus.get_status_display()}，不能再次审核")


def decide_bonus(actor: Actor, bonus: Bonus, approve: bool, note: str = "") -> Bonus:
    """Approve (it counts in runs computed from now on) or reject (a note is required)."""
    check_decide_bonus(actor.user, bonus)
    note = clean_text(note or "", 300, "审核意见", multiline=False).strip()
    if not approve and not note:
        raise ValidationError("驳回时请填写审核意见")
    with transaction.atomic():
        locked = Bonus.objects.select_for_update().get(pk=bonus.pk)
        check_decide_bonus(actor.user, locked)
        locked.status = Bonus.Status.APPROVED if approve else Bonus.Status.REJECTED
        locked.decided_by, locked.decided_at, locked.decision_note = actor.user, timezone.now(), note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(actor, f"assessment.bonus_{locked.status}", locked, f"{locked.unit} {locked.points:+}")
    return locked


def bonus_actions(user: User, bonus: Bonus) -> list[str]:
    try:
        check_decide_bonus(user, bonus)
    except (PermissionDenied, ActionRefused):
        return []
    return ["approve", "reject"]


def check_bonus_evidence(user: User | None, bonus: Bonus) -> None:
    """The evidence of an entry is HQ's to open."""
    check_manage(user)
