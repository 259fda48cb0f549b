"""The actions on monthly report materials 网报资料. Every state change is one function here: it
takes the ``Actor`` first, calls its ``check_*`` (role, scope, state, input), then changes the
rows inside one transaction and writes its event. A refused step changes nothing:
``PermissionDenied`` (403), ``ValidationError`` (400), ``ActionRefused`` (409).

Who:
- HQ (创文办管理员) plans the month 月初安排: generates requirements from the active index system's
  材料审核 criteria, copies last month's plan, adds and edits requirements, and names the reviewer;
  HQ also issues and revokes red and yellow cards 红黄牌 and runs the monthly card job.
- The report clerk 网报专员 of an assigned unit drafts, uploads and submits 月底申报.
- The reviewer is the person named on the requirement, who must hold the HQ admin or inspector
  role; only that person reviews it (HQ changes the reviewer by editing the requirement).

Submission states::

    draft 待报送 ─submit→ submitted 待审核 ─score 评分→ accepted 已评分
                              │  ▲
                   return 退回 ▼  │ submit (resubmit; the version counts up)
                           returned 退回修改
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cases import photos
from indicators.models import Criterion, IndexSystem
from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Membership, Role, Unit, User
from org.scope import require_role, scope_for
from workdays.calendar import is_workday

from . import files, notices
from .models import DOCUMENT_TYPES, Card, CardPolicy, MaterialFile, Requirement, Submission, SubmissionEvent

HQ_ROLES = (Role.HQ_ADMIN,)
FIGURE_ROLES = (Role.HQ_ADMIN, Role.INSPECTOR, Role.LEADER)
REVIEWER_ROLES = (Role.HQ_ADMIN, Role.INSPECTOR)
CLERK_ROLES = (Role.REPORT_CLERK,)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Criteria are due in the months their frequency says (材料审核 criteria of a quarterly frequency
# in the quarter's last month, and so on).
DUE_MONTHS: dict[str, tuple[int, ...]] = {
    Criterion.Frequency.MONTHLY: tuple(range(1, 13)),
    Criterion.Frequency.ONGOING: tuple(range(1, 13)),
    Criterion.Frequency.QUARTERLY: (3, 6, 9, 12),
    Criterion.Frequency.HALF_YEARLY: (6, 12),
    Criterion.Frequency.YEARLY: (12,),
}


# -- small helpers ----------------------------------------------------------------------------


def _user(user: User | None) -> User:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录")
    return user


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def previous_month(month: dt.date) -> dt.date:
    return month_start(month_start(month) - dt.timedelta(days=1))


def default_due_date(month: dt.date) -> dt.date:
    """月底申报: the last working day of the month, by the shared working-day calendar."""
    day = month_end(month)
    while not is_workday(day) and day > month:
        day -= dt.timedelta(days=1)
    return day


def days_left(submission: Submission, today: dt.date | None = None) -> int:
    """Calendar days until the due date (0 on the day, negative when overdue)."""
    return (submission.requirement.due_date - (today or timezone.localdate())).days


def clean_text(value: str | None, limit: int | None, label: str) -> str:
    """Text without NUL or control characters (PostgreSQL refuses NUL), stripped, within ``limit``."""
    text = CONTROL.sub("", value or "").strip()
    if limit is not None and len(text) > limit:
        raise ValidationError(f"{label}不能超过 {limit} 个字")
    return text


def _event(actor: Actor, submission: Submission, kind: str, note: str = "", **data: Any) -> SubmissionEvent:
    return SubmissionEvent.objects.create(
        submission=submission,
        kind=kind,
        version=submission.version,
        actor=actor.user,
        via=actor.via,
        ip=actor.ip,
        note=note[:300],
        data=data,
    )


def _locked(submission: Submission) -> Submission:
    return Submission.objects.select_for_update().select_related("requirement").get(pk=submission.pk)


# -- who sees what ------------------------------------------------------------------------------


def visible_submissions(user: User) -> QuerySet[Submission]:
    """The submissions a person may see: their scope's units and territory, and what they review."""
    if not user.is_authenticated:
        return Submission.objects.none()
    return scope_for(user).filter(
        Submission.objects.all(), unit="unit", region="unit__region", extra=Q(requirement__reviewer=user)
    )


def visible_requirements(user: User) -> QuerySet[Requirement]:
    scope = scope_for(user)
    if scope.everything:
        return Requirement.objects.all()
    return Requirement.objects.filter(
        Q(reviewer=user) | Q(pk__in=visible_submissions(user).values("requirement_id"))
    )


def visible_cards(user: User) -> QuerySet[Card]:
    return scope_for(user).filter(Card.objects.all(), unit="unit", region="unit__region")


def unit_cards(user: User, months: int = 3) -> QuerySet[Card]:
    """The unrevoked cards of the units a person works in, over the last ``months`` months: shown
    on their home page."""
    since = month_start(timezone.localdate())
    for _ in range(months - 1):
        since = previous_month(since)
    return (
        Card.objects.filter(unit__memberships__user=user, revoked_at__isnull=True, month__gte=since)
        .select_related("unit")
        .distinct()
    )


def reviewers() -> QuerySet[User]:
    """The people who may be named reviewer: holders of the HQ admin or inspector role."""
    return (
        User.objects.filter(is_active=True, memberships__role__in=REVIEWER_ROLES)
        .distinct()
        .order_by("username")
    )


def check_figures(user: User | None):
    """Rankings and trends: HQ, inspectors and leaders (a leader sees the units they contract)."""
    return require_role(_user(user), *FIGURE_ROLES)


def check_package(user: User | None) -> None:
    """The upward report package holds every unit's accepted materials: HQ only."""
    check_plan(user)


# -- 月初安排: planning the month (HQ) ---------------------------------------------------------


@dataclass
class Spec:
    """What a requirement asks for; the fields of the HQ form and of the API body."""

    title: str
    points: Decimal
    reviewer: User
    description: str = ""
    needs_text: bool = True
    min_photos: int = 0
    document_types: Sequence[str] = ()
    due_date: dt.date | None = None
    criterion: Criterion | None = None


def check_plan(user: User | None) -> None:
    require_role(_user(user), *HQ_ROLES)


def _clean_spec(spec: Spec, month: dt.date) -> dict[str, Any]:
    title = clean_text(spec.title, 200, "资料名称")
    if not title:
        raise ValidationError({"title": "请填写资料名称"})
    try:
        points = Decimal(spec.points)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({"points": "分值应为数字"}) from exc
    if not Decimal(0) < points <= Decimal(1000) or points.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError({"points": "分值应大于 0、不超过 1000，最多两位小数"})
    if not 0 <= spec.min_photos <= 30:
        raise ValidationError({"min_photos": "照片数应在 0 到 30 之间"})
    unknown = [t for t in spec.document_types if t not in DOCUMENT_TYPES]
    if unknown:
        raise ValidationError({"document_types": f"不支持的文档类型：{'、'.join(unknown)}"})
    if not Membership.objects.filter(user=spec.reviewer, role__in=REVIEWER_ROLES).exists():
        raise ValidationError({"reviewer": "审核人应为创文办管理员或督查员"})
    if not spec.needs_text and not spec.min_photos and not spec.document_types:
        raise ValidationError("请至少要求文字说明、照片或文档中的一项")
    due = spec.due_date or default_due_date(month)
    if due < month:
        raise ValidationError({"due_date": "截止日期不能早于该月"})
    return {
        "title": title,
        "description": clean_text(spec.description, 5000, "报送要求"),
        "needs_text": spec.needs_text,
        "min_photos": spec.min_photos,
        "document_types": ",".join(t for t in DOCUMENT_TYPES if t in spec.document_types),
        "points": points,
        "due_date": due,
        "reviewer": spec.reviewer,
    }


def _check_units(units: Iterable[Unit]) -> list[Unit]:
    chosen = list({u.pk: u for u in units}.values())
    if not chosen:
        raise ValidationError({"units": "请选择报送单位"})
    if any(not u.is_active for u in chosen):
        raise ValidationError({"units": "不能向已停用的单位下达要求"})
    return chosen


def _assign(actor: Actor, requirement: Requirement, units: Sequence[Unit]) -> list[Submission]:
    made = []
    for unit in units:
        submission, created = Submission.objects.get_or_create(requirement=requirement, unit=unit)
        if created:
            _event(actor, submission, SubmissionEvent.Kind.ASSIGNED, requirement.title)
            made.append(submission)
    return made


def _set_template(requirement: Requirement, template) -> None:
    if template is None:
        return
    document = files.validate_document(template)
    requirement.template_name = files.clean_name(template.name, document.kind)
    requirement.template.save(requirement.template_name, template, save=False)


def create_requirement(
    actor: Actor, month: dt.date, spec: Spec, units: Iterable[Unit], template=None
) -> Requirement:
    """下达资料要求: one requirement for the month, assigned to ``units`` (one submission each)."""
    check_plan(actor.user)
    month = month_start(month)
    values = _clean_spec(spec, month)
    chosen = _check_units(units)
    if spec.criterion is not None:
        if spec.criterion.method != Criterion.Method.MATERIAL:
            raise ValidationError({"criterion": "只有测评方法为“材料审核”的测评标准可以下达网报资料"})
        if Requirement.objects.filter(month=month, criterion=spec.criterion).exists():
            raise ActionRefused(f"{month:%Y年%m月}已有该测评标准的资料要求")
    with photos.atomic():
        requirement = Requirement(month=month, criterion=spec.criterion, created_by=actor.user, **values)
        _set_template(requirement, template)
        requirement.save()
        _assign(actor, requirement, chosen)
        record(
            actor,
            "materials.requirement.create",
            requirement,
            f"下达资料要求 {requirement}（{len(chosen)} 个单位）",
            units=[u.pk for u in chosen],
        )
    return requirement


def update_requirement(
    actor: Actor, requirement: Requirement, spec: Spec, units: Iterable[Unit] | None = None, template=None
) -> Requirement:
    """调整资料要求: change what is asked, the due date, the reviewer or the units. A unit whose
    work has begun (a file, a text or a submission) cannot be taken off; points cannot drop below
    a score already given."""
    check_plan(actor.user)
    values = _clean_spec(spec, requirement.month)
    chosen = _check_units(units) if units is not None else None
    with photos.atomic():
        requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
        top = requirement.submissions.filter(score__isnull=False).order_by("-score").first()
        if top is not None and top.score is not None and values["points"] < top.score:
            raise ActionRefused(f"已有得分 {top.score}，分值不能低于它")
        changed = {k: str(v) for k, v in values.items() if getattr(requirement, k) != v}
        for key, value in values.items():
            setattr(requirement, key, value)
        _set_template(requirement, template)
        requirement.save()
        if chosen is not None:
            keep = {u.pk for u in chosen}
            dropped = requirement.submissions.exclude(unit_id__in=keep)
            started = dropped.filter(
                ~Q(state=Submission.State.DRAFT) | Q(version__gt=0) | ~Q(text="") | Q(files__isnull=False)
            )
            if started.exists():
                raise ActionRefused("已开始报送的单位不能从要求中移除")
            removed = list(dropped.values_list("unit__name", flat=True))
            dropped.delete()
            added = _assign(actor, requirement, chosen)
            if removed or added:
                changed["units"] = f"+{len(added)} -{len(removed)}"
        record(actor, "materials.requirement.update", requirement, f"调整资料要求 {requirement}", **changed)
    return requirement


def criteria_due(system: IndexSystem, month: dt.date) -> QuerySet[Criterion]:
    """The system's 材料审核 criteria due in ``month`` by their frequency."""
    frequencies = [f for f, months in DUE_MONTHS.items() if month.month in months]
    return (
        Criterion.objects.filter(
            item__project__system=system, method=Criterion.Method.MATERIAL, frequency__in=frequencies
        )
        .select_related("item")
        .order_by("item__project__position", "item__position", "position")
    )


def generate_month(
    actor: Actor, month: dt.date, units: Iterable[Unit], reviewer: User, due_date: dt.date | None = None
) -> list[Requirement]:
    """批量生成: a requirement per 材料审核 criterion of the active system due in ``month``, for
    ``units``; criteria that already have one this month are left as they are."""
    check_plan(actor.user)
    month = month_start(month)
    system = IndexSystem.active(month.year)
    if system is None:
        raise ActionRefused("还没有启用的测评体系")
    chosen = _check_units(units)
    made = []
    with transaction.atomic():
        taken = set(Requirement.objects.filter(month=month).values_list("criterion_id", flat=True))
        for criterion in criteria_due(system, month):
            if criterion.pk in taken:
                continue
            spec = Spec(
                title=f"{criterion.item.name}：{criterion.text}"[:200],
                description=criterion.text,
                points=criterion.points,
                reviewer=reviewer,
                min_photos=1,
                due_date=due_date,
                criterion=criterion,
            )
            made.append(create_requirement(actor, month, spec, chosen))
    return made


def copy_previous_month(actor: Actor, month: dt.date) -> list[Requirement]:
    """按上月生成: last month's requirements again for ``month`` (same asks, units and reviewer),
    due on this month's last working day; those already planned this month are skipped."""
    check_plan(actor.user)
    month = month_start(month)
    source = list(
        Requirement.objects.filter(month=previous_month(month)).select_related("criterion", "reviewer")
    )
    if not source:
        raise ActionRefused(f"{previous_month(month):%Y年%m月}没有资料要求可复制")
    made = []
    with transaction.atomic():
        planned = Requirement.objects.filter(month=month)
        taken = set(planned.values_list("criterion_id", flat=True))
        titles = set(planned.filter(criterion__isnull=True).values_list("title", flat=True))
        for old in source:
            if (old.criterion_id and old.criterion_id in taken) or (
                not old.criterion_id and old.title in titles
            ):
                continue
            spec = Spec(
                title=old.title,
                description=old.description,
                points=old.points,
                reviewer=old.reviewer,
                needs_text=old.needs_text,
                min_photos=old.min_photos,
                document_types=old.document_type_list,
                criterion=old.criterion,
            )
            units = Unit.objects.filter(material_submissions__requirement=old, is_active=True)
            made.append(create_requirement(actor, month, spec, units))
    return made


# -- 月底申报: the clerk's steps ---------------------------------------------------------------


def check_edit(user: User | None, submission: Submission) -> None:
    """The report clerk of the submission's own unit, while it is a draft or returned."""
    if not scope_for(_user(user)).acts_for(submission.unit_id, *CLERK_ROLES):
        raise PermissionDenied("只有本单位的网报专员可以报送这份资料")
    if submission.state not in Submission.EDITABLE:
        raise ActionRefused(f"资料{submission.get_state_display()}，不能修改")


def missing(submission: Submission) -> list[str]:
    """What the submission still lacks against its requirement (empty when complete)."""
    requirement = submission.requirement
    lacking = []
    if requirement.needs_text and not submission.text.strip():
        lacking.append("文字说明")
    kept = list(submission.files.all())
    photo_count = sum(1 for f in kept if f.kind == MaterialFile.Kind.PHOTO)
    if photo_count < requirement.min_photos:
        lacking.append(f"照片（还差 {requirement.min_photos - photo_count} 张）")
    types = requirement.document_type_list
    if types and not any(
        f.kind == MaterialFile.Kind.DOCUMENT and f.name.rsplit(".", 1)[-1] in types for f in kept
    ):
        lacking.append(f"文档（{requirement.document_type_labels()}）")
    return lacking


def save_draft(actor: Actor, submission: Submission, text: str) -> Submission:
    """保存草稿: the clerk saves the text; nothing is sent to the reviewer yet."""
    check_edit(actor.user, submission)
    cleaned = clean_text(text, 20000, "文字说明")
    with transaction.atomic():
        submission = _locked(submission)
        check_edit(actor.user, submission)
        if cleaned != submission.text:
            submission.text, submission.updated_at = cleaned, timezone.now()
            submission.save(update_fields=["text", "updated_at"])
            _event(actor, submission, SubmissionEvent.Kind.SAVED, length=len(cleaned))
    return submission


def _check_uploads(submission: Submission, uploads: Sequence) -> list[files.Checked]:
    if not uploads:
        raise ValidationError("请选择要上传的文件")
    if submission.files.count() + len(uploads) > files.max_files():
        raise ValidationError(f"每份资料最多 {files.max_files()} 个文件")
    checked = [files.check_upload(upload) for upload in uploads]
    allowed = submission.requirement.document_type_list or list(DOCUMENT_TYPES)
    for item in checked:
        if item.document is not None and item.document.kind not in allowed:
            labels = "、".join(DOCUMENT_TYPES[t] for t in allowed)
            raise ValidationError(f"「{item.name}」：本项资料只接受 {labels}")
    return checked


def add_files(actor: Actor, submission: Submission, uploads: Sequence) -> list[MaterialFile]:
    """上传文件: photos and documents, every one checked by content before any is stored."""
    check_edit(actor.user, submission)
    checked = _check_uploads(submission, uploads)
    with photos.atomic():
        submission = _locked(submission)
        check_edit(actor.user, submission)
        stored = [files.store(submission, item, actor.user) for item in checked]
        submission.updated_at = timezone.now()
        submission.save(update_fields=["updated_at"])
        _event(actor, submission, SubmissionEvent.Kind.UPLOADED, "、".join(f.name for f in stored)[:300])
    return stored


def remove_file(actor: Actor, item: MaterialFile) -> None:
    """删除文件: the clerk takes a file off a draft or returned submission (its storage is freed)."""
    check_edit(actor.user, item.submission)
    names = [item.file.name, item.original.name, item.thumbnail.name]
    with transaction.atomic():
        submission = _locked(item.submission)
        check_edit(actor.user, submission)
        _event(actor, submission, SubmissionEvent.Kind.REMOVED, item.name, file=item.pk)
        item.delete()
        transaction.on_commit(lambda: [item.file.storage.delete(n) for n in names if n])


def check_submit(user: User | None, submission: Submission) -> None:
    check_edit(user, submission)
    lacking = missing(submission)
    if lacking:
        raise ValidationError(f"资料不完整，还缺：{'、'.join(lacking)}")


def submit(actor: Actor, submission: Submission, text: str | None = None) -> Submission:
    """提交 / 重新提交: send the material to the reviewer. After the due date it is accepted and
    marked late (逾期)."""
    if text is not None:
        submission = save_draft(actor, submission, text)
    check_submit(actor.user, submission)
    with transaction.atomic():
        submission = _locked(submission)
        check_submit(actor.user, submission)
        now = timezone.now()
        submission.state = Submission.State.SUBMITTED
        submission.version += 1
        submission.submitted_at = submission.updated_at = now
        submission.first_submitted_at = submission.first_submitted_at or now
        submission.is_late = timezone.localtime(now).date() > submission.requirement.due_date
        submission.save()
        _event(actor, submission, SubmissionEvent.Kind.SUBMITTED, "逾期提交" if submission.is_late else "")
    return submission


# -- review -------------------------------------------------------------------------------------


def check_review(user: User | None, submission: Submission, version: int | None = None) -> None:
    """The requirement's named reviewer, on a submitted version not yet reviewed."""
    if _user(user).pk != submission.requirement.reviewer_id:
        raise PermissionDenied("只有该资料要求指定的审核人可以审核")
    if submission.state != Submission.State.SUBMITTED:
        raise ActionRefused(f"资料{submission.get_state_display()}，当前没有待审核的版本")
    if version is not None and version != submission.version:
        raise ActionRefused(f"第 {version} 版已审核或已被新版本取代（当前第 {submission.version} 版）")


def return_submission(
    actor: Actor, submission: Submission, reason: str, version: int | None = None
) -> Submission:
    """退回修改: the reviewer sends the material back with reasons; the clerk resubmits."""
    check_review(actor.user, submission, version)
    reason = clean_text(reason, 300, "退回原因")
    if not reason:
        raise ValidationError({"reason": "请填写退回原因"})
    with transaction.atomic():
        submission = _locked(submission)
        check_review(actor.user, submission, version)
        now = timezone.now()
        submission.state = Submission.State.RETURNED
        submission.return_count += 1
        submission.review_comment, submission.reviewed_by, submission.reviewed_at = reason, actor.user, now
        submission.updated_at = now
        submission.save()
        _event(actor, submission, SubmissionEvent.Kind.RETURNED, reason, count=submission.return_count)
        notices.notify_returned(submission)
    return submission


def score_submission(
    actor: Actor, submission: Submission, score, comment: str = "", version: int | None = None
) -> Submission:
    """评分: the reviewer accepts the material with a score from 0 to the requirement's points."""
    check_review(actor.user, submission, version)
    try:
        value = Decimal(str(score))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({"score": "得分应为数字"}) from exc
    points = submission.requirement.points
    if not value.is_finite() or not Decimal(0) <= value <= points or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError({"score": f"得分应在 0 到 {points} 之间，最多两位小数"})
    comment = clean_text(comment, 300, "审核意见")
    with transaction.atomic():
        submission = _locked(submission)
        check_review(actor.user, submission, version)
        now = timezone.now()
        submission.state, submission.score = Submission.State.ACCEPTED, value
        submission.review_comment, submission.reviewed_by, submission.reviewed_at = comment, actor.user, now
        submission.updated_at = now
        submission.save()
        _event(actor, submission, SubmissionEvent.Kind.SCORED, comment, score=str(value))
    return submission


CHECKS: dict[str, Callable[[User, Submission], None]] = {
    "edit": check_edit,
    "submit": check_edit,  # shown while editable; submitting names what is missing
    "review": check_review,
}


def allowed_actions(user: User, submission: Submission) -> list[str]:
    """The steps ``user`` may take on ``submission`` now (pages and API show exactly these)."""
    allowed = []
    for name, check in CHECKS.items():
        try:
            check(user, submission)
        except (PermissionDenied, ActionRefused, ValidationError):
            continue
        allowed.append(name)
    return allowed


# -- 红黄牌: cards --------------------------------------------------------------------------------


@dataclass
class Finding:
    """What one unit's month earns under the policy, before it is issued."""

    yellow: list[str] = field(default_factory=list)
    red: list[str] = field(default_factory=list)
    yellow_submissions: list[Submission] = field(default_factory=list)
    red_submissions: list[Submission] = field(default_factory=list)


def _quarter_start(month: dt.date) -> dt.date:
    return month.replace(month=(month.month - 1) // 3 * 3 + 1, day=1)


def findings(month: dt.date, today: dt.date, policy: CardPolicy | None = None) -> dict[int, Finding]:
    """The cards each unit earns for ``month`` (requirements due before ``today``), by ``policy``:
    - a yellow card for a submission never submitted (未报送), accepted with a score under the
      pass line (不合格), or — when switched on — submitted late (逾期);
    - a red card for a returned submission not resubmitted (退回后未重报);
    - a red card when this month's yellow is the unit's Nth unrevoked yellow of the quarter.
    A submission still waiting for review earns nothing."""
    month = month_start(month)
    policy = policy or CardPolicy.for_month(month)
    found: dict[int, Finding] = {}
    due = Submission.objects.filter(requirement__month=month, requirement__due_date__lt=today).select_related(
        "requirement"
    )
    for sub in due.order_by("unit_id", "pk"):
        rules: list[tuple[str, str]] = []  # (colour, rule)
        if sub.state == Submission.State.DRAFT and policy.yellow_for_missing:
            rules.append((Card.Color.YELLOW, Card.Rule.MISSING))
        if sub.state == Submission.State.RETURNED:
            if policy.red_for_missing_after_return:
                rules.append((Card.Color.RED, Card.Rule.MISSING_AFTER_RETURN))
            elif policy.yellow_for_missing:
                rules.append((Card.Color.YELLOW, Card.Rule.MISSING))
        if (
            sub.state == Submission.State.ACCEPTED
            and policy.yellow_for_failing
            and sub.score is not None
            and sub.score * 100 < sub.requirement.points * policy.pass_percent
        ):
            rules.append((Card.Color.YELLOW, Card.Rule.FAILING))
        if sub.is_late and policy.yellow_for_late:
            rules.append((Card.Color.YELLOW, Card.Rule.LATE))
        for colour, rule in rules:
            finding = found.setdefault(sub.unit_id, Finding())
            names, subs = (
                (finding.yellow, finding.yellow_submissions)
                if colour == Card.Color.YELLOW
                else (finding.red, finding.red_submissions)
            )
            if rule not in names:
                names.append(rule)
            if sub not in subs:
                subs.append(sub)
    if policy.yellows_for_red:
        for unit_id, finding in found.items():
            if not finding.yellow:
                continue
            earlier = (
                Card.objects.filter(
                    unit_id=unit_id,
                    color=Card.Color.YELLOW,
                    revoked_at__isnull=True,
                    month__gte=_quarter_start(month),
                    month__lt=month,
                ).count()
                + Card.objects.filter(
                    unit_id=unit_id,
                    month=month,
                    color=Card.Color.YELLOW,
                    is_automatic=False,
                    revoked_at__isnull=True,
                ).count()
            )
            if earlier + 1 >= policy.yellows_for_red:
                finding.red.append(Card.Rule.REPEATED_YELLOW)
                finding.red_submissions.extend(
                    s for s in finding.yellow_submissions if s not in finding.red_submissions
                )
    return found


def _reason(rules: Sequence[str], subs: Sequence[Submission]) -> str:
    labels = "、".join(Card.Rule(r).label for r in rules)
    titles = "；".join(s.requirement.title for s in subs)
    return f"{labels}：{titles}"[:500]


def check_cards(user: User | None) -> None:
    check_plan(user)


# The worker issues last month's cards on these first days of a month (then reviews of the last
# submissions are done; running again issues nothing new).
CARD_DAYS = 3


def monthly_cards_job(now: dt.datetime) -> str:
    """The periodic job 红黄牌认定 (``chuangwen/schedule.py``, ``manage.py run_job material_cards``):
    on the first ``CARD_DAYS`` days of a month, last month's cards (as ``manage.py issue_cards``)."""
    today = timezone.localdate(now)
    if today.day > CARD_DAYS:
        return f"每月 1–{CARD_DAYS} 日认定上月红黄牌，今日不执行"
    month = previous_month(today)
    cards = issue_monthly_cards(Actor.system(via="task"), month, today)
    return f"{month:%Y-%m}：新认定 {len(cards)} 张红黄牌"


def issue_monthly_cards(actor: Actor, month: dt.date, today: dt.date | None = None) -> list[Card]:
    """月度红黄牌: issue the cards ``month`` earns under its policy, once the month is over. Run it
    month by month in order (the quarter's earlier yellows count). Running it again issues nothing
    new; a card HQ revoked is not issued again. ``Actor.system()`` (the command) may run it."""
    if actor.user is not None:
        check_cards(actor.user)
    month = month_start(month)
    today = today or timezone.localdate()
    if today <= month_end(month):
        raise ActionRefused(f"{month:%Y年%m月}尚未结束，不能认定红黄牌")
    issued = []
    with transaction.atomic():
        for unit_id, finding in findings(month, today).items():
            for colour, rules, subs in (
                (Card.Color.YELLOW, finding.yellow, finding.yellow_submissions),
                (Card.Color.RED, finding.red, finding.red_submissions),
            ):
                if (
                    not rules
                    or Card.objects.filter(
                        unit_id=unit_id, month=month, color=colour, is_automatic=True
                    ).exists()
                ):
                    continue
                card = Card.objects.create(
                    unit_id=unit_id,
                    month=month,
                    color=colour,
                    rules=list(rules),
                    reason=_reason(rules, subs),
                    is_automatic=True,
                    issued_by=actor.user,
                    issued_via=actor.via,
                    issued_ip=actor.ip,
                )
                card.submissions.set(subs)
                notices.notify_card(card)
                issued.append(card)
        record(
            actor,
            "materials.cards.monthly",
            None,
            f"{month:%Y年%m月}红黄牌认定：{len(issued)} 张",
            month=str(month),
        )
    return issued


def issue_card(
    actor: Actor, unit: Unit, month: dt.date, color: str, reason: str, submissions: Iterable[Submission] = ()
) -> Card:
    """直接认定: HQ gives a unit a card by hand, with its reason (and the submissions behind it)."""
    check_cards(actor.user)
    if color not in Card.Color.values:
        raise ValidationError({"color": "请选择黄牌或红牌"})
    reason = clean_text(reason, 500, "原因")
    if not reason:
        raise ValidationError({"reason": "请填写认定原因"})
    month = month_start(month)
    subs = list(submissions)
    if any(s.unit_id != unit.pk or s.requirement.month != month for s in subs):
        raise ValidationError({"submissions": "相关报送应为该单位该月的资料"})
    with transaction.atomic():
        card = Card.objects.create(
            unit=unit,
            month=month,
            color=color,
            rules=[Card.Rule.MANUAL],
            reason=reason,
            issued_by=actor.user,
            issued_via=actor.via,
            issued_ip=actor.ip,
        )
        card.submissions.set(subs)
        notices.notify_card(card)
        record(actor, "materials.card.issue", card, f"认定{card}：{reason}")
    return card


def revoke_card(actor: Actor, card: Card, reason: str) -> Card:
    """撤销: HQ revokes a card with a reason; the card stays on file, marked revoked."""
    check_cards(actor.user)
    reason = clean_text(reason, 300, "撤销原因")
    if not reason:
        raise ValidationError({"reason": "请填写撤销原因"})
    with transaction.atomic():
        card = Card.objects.select_for_update().get(pk=card.pk)
        if card.revoked_at is not None:
            raise ActionRefused("该红黄牌已撤销")
        card.revoked_at, card.revoked_by, card.revoke_reason = timezone.now(), actor.user, reason
        card.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        record(actor, "materials.card.revoke", card, f"撤销{card}：{reason}")
    return card
