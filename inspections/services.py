"""The actions on inspections 督查: every state change is one function here.

Each ``do``-function takes the ``Actor`` first, calls its ``check_*`` (who may, in which state, on
which target: ``PermissionDenied`` 403, ``ValidationError`` 400, ``ActionRefused`` 409), runs in one
transaction and writes an ``InspectionEvent`` (who, role, when, IP, channel, device, GPS, why).
A refused step changes nothing.

Who: HQ (创文办管理员) builds checklists, plans, closes and publishes rounds and turns findings
into cases; the people a round names (inspectors or leaders) submit its sites' inspections.

Steps::

    plan_round ─→ submit_inspection (per site) ─→ close_round
                   └→ findings ─finding_to_case→ the case loop (立案, 派单 ... 结案)
    暗访: publish_round makes the round and its findings visible to the inspected
    复查: submit_inspection with a verdict per open finding at the site → 已整改 or not
"""

import datetime as dt
import random
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from cases import geo, photos
from cases import services as case_services
from cases.models import Case, Category
from cases.routing import suggest_unit
from indicators.models import Criterion, IndexSystem
from org.audit import Actor
from org.errors import ActionRefused
from org.models import Contract, Region, Role, Site, SiteType, Unit, User
from org.scope import scope_for
from org.xlsx import ImportResult
from workdays.clock import add_working_days

from . import notices, scoring, xlsx
from .models import (
    CheckItem,
    Checklist,
    Finding,
    FindingPhoto,
    Inspection,
    InspectionEvent,
    ItemResult,
    Round,
    RoundSite,
)

MAX_PHOTOS_PER_LINE = 6
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def checkin_radius_m() -> float:
    """Beyond this distance from the site a check-in is flagged (超出签到范围)."""
    return float(getattr(settings, "INSPECTIONS_CHECKIN_RADIUS_M", 200))


def rectify_working_days() -> int:
    """The working days a finding has to be rectified in (立查立改: 5 by default)."""
    return int(getattr(settings, "INSPECTIONS_RECTIFY_WORKING_DAYS", 5))


def clean_text(value, limit: int, what: str) -> str:
    """Text without NUL or control characters, at most ``limit`` characters (else ValidationError)."""
    text = _CONTROL.sub("", str(value or "")).strip()
    if len(text) > limit:
        raise ValidationError(f"{what}不能超过 {limit} 字")
    return text


# --- Who may act ---------------------------------------------------------------------------------


def _hq(user: User | None) -> str:
    if user is None:
        raise PermissionDenied("请先登录")
    if user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN):
        return Role.HQ_ADMIN
    raise PermissionDenied("只有创文办可以执行此操作")


def _role_of(user: User) -> str:
    roles = scope_for(user).roles
    for role in (Role.INSPECTOR, Role.LEADER, Role.HQ_ADMIN):
        if role in roles:
            return role
    return next(iter(sorted(roles)), "")


def _event(
    actor: Actor,
    action: str,
    *,
    role: str = "",
    round: Round | None = None,
    inspection: Inspection | None = None,
    finding: Finding | None = None,
    reason: str = "",
    device: str = "",
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    at: dt.datetime | None = None,
    **data,
) -> InspectionEvent:
    return InspectionEvent.objects.create(
        action=action,
        round=round,
        inspection=inspection,
        finding=finding,
        actor=actor.user,
        actor_role=role,
        at=at or timezone.now(),
        via=actor.via,
        ip=actor.ip,
        device=device[:200],
        lat=lat,
        lng=lng,
        reason=reason[:300],
        data=data,
    )


# --- Checklists 测评表 ----------------------------------------------------------------------------


def field_criteria(system: IndexSystem) -> QuerySet[Criterion]:
    """The criteria of ``system`` assessed on site (实地考察): what checklists are built from."""
    return Criterion.objects.filter(
        item__project__system=system, method=Criterion.Method.FIELD
    ).select_related("item__project")


def check_edit_checklist(user: User | None) -> str:
    return _hq(user)


def build_checklist(
    actor: Actor, system: IndexSystem, site_kind: str, criteria: Iterable[Criterion], name: str = ""
) -> Checklist:
    """建表: the checklist of a site type under ``system``, one line per chosen 实地考察
    criterion, each worth the criterion's points with a deduction of 1 per occurrence."""
    role = check_edit_checklist(actor.user)
    chosen = list(criteria)
    if not SiteType.objects.filter(code=site_kind).exists():
        raise ValidationError("点位类型不存在")
    if not chosen:
        raise ValidationError("请至少选择一条实地考察标准")
    for criterion in chosen:
        if criterion.method != Criterion.Method.FIELD or criterion.item.project.system_id != system.pk:
            raise ValidationError(f"标准 {criterion.code} 不是本测评体系的实地考察标准")
    name = clean_text(name, 100, "名称") or f"{SiteType.names()[site_kind]}测评表（{system.version}）"
    with transaction.atomic():
        if Checklist.objects.filter(system=system, site_kind=site_kind).exists():
            raise ActionRefused("该点位类型在本测评体系下已有测评表")
        checklist = Checklist.objects.create(system=system, site_kind=site_kind, name=name)
        for position, criterion in enumerate(chosen, start=1):
            CheckItem.objects.create(
                checklist=checklist,
                criterion=criterion,
                code=criterion.code,
                text=criterion.text[:300],
                points=criterion.points,
                rule=CheckItem.Rule.PER_OCCURRENCE,
                unit_deduction=min(criterion.points, Decimal(1)),
                position=position,
            )
        _event(actor, InspectionEvent.Action.EDIT_CHECKLIST, role=role, reason=f"新建{checklist.name}")
    return checklist


def _decimal(value, what: str) -> Decimal:
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError(f"{what}不是有效的数字") from exc
    if not number.is_finite() or number < 0 or number >= Decimal("10000"):
        raise ValidationError(f"{what}超出范围")
    return number


def update_check_item(
    actor: Actor,
    item: CheckItem,
    *,
    text: str,
    points,
    rule: str,
    unit_deduction,
    cap=None,
    photo_required: bool = True,
    category: Category | None = None,
) -> CheckItem:
    """改项: a line's text, points, deduction rule, photo requirement and case category."""
    role = check_edit_checklist(actor.user)
    text = clean_text(text, 300, "检查内容")
    if not text:
        raise ValidationError("请填写检查内容")
    if rule not in CheckItem.Rule.values:
        raise ValidationError("扣分规则无效")
    points_d = _decimal(points, "分值")
    unit_d = _decimal(unit_deduction, "每处/固定扣分")
    cap_d = _decimal(cap, "扣分上限") if cap not in (None, "") else None
    if points_d <= 0:
        raise ValidationError("分值必须大于 0")
    if unit_d > points_d or (cap_d is not None and cap_d > points_d):
        raise ValidationError("扣分不能超过该项分值")
    if category is not None and (not category.active or category.public_only):
        raise ValidationError("该案件类别不可用")
    with transaction.atomic():
        before = {"points": str(item.points), "rule": item.rule, "unit_deduction": str(item.unit_deduction)}
        item.text, item.points, item.rule, item.unit_deduction = text, points_d, rule, unit_d
        item.cap, item.photo_required, item.category = cap_d, photo_required, category
        item.save()
        _event(
            actor,
            InspectionEvent.Action.EDIT_CHECKLIST,
            role=role,
            reason=f"修改检查项 {item.code}",
            item=item.pk,
            before=before,
        )
    return item


def import_checklists(actor: Actor, system: IndexSystem, file) -> ImportResult:
    """导入测评表: the checklists of the file's site types under ``system`` (``inspections.xlsx``):
    validated as a whole first; a file with any error changes nothing."""
    role = check_edit_checklist(actor.user)
    result = ImportResult()
    lines = xlsx.validate(system, file, result)
    if not result.ok:
        return result
    with transaction.atomic():
        result.counts = xlsx.write(system, lines)
        _event(
            actor,
            InspectionEvent.Action.EDIT_CHECKLIST,
            role=role,
            reason=f"导入测评表（{system}）：{result.summary()}",
            counts=result.counts,
        )
    return result


def checklist_for(round_: Round, site: Site) -> Checklist | None:
    """The checklist a site of this round is inspected with: its type's, under the round's system."""
    return (
        Checklist.objects.filter(system=round_.system, site_kind=site.kind)
        .prefetch_related("items__criterion")
        .first()
    )


# --- Rounds 轮次 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draw:
    """A random draw (national method): ``per_group`` sites of each type in each street, drawn
    with ``seed``. The same seed over the same sites draws the same ones again."""

    seed: int
    kinds: tuple[str, ...]
    street_codes: tuple[str, ...]
    per_group: int

    def as_json(self) -> dict:
        return {"kinds": list(self.kinds), "streets": list(self.street_codes), "per_group": self.per_group}


def draw_sites(draw: Draw) -> list[Site]:
    """The sites ``draw`` picks: for each street (by code) and type (in the given order), a
    seeded sample of that street's active sites of that type, ordered by code."""
    if draw.per_group < 1:
        raise ValidationError("每组抽取数量至少为 1")
    rng = random.Random(draw.seed)
    streets = Region.objects.filter(code__in=draw.street_codes).order_by("code")
    if len(streets) != len(set(draw.street_codes)):
        raise ValidationError("街道不存在")
    chosen: list[Site] = []
    for street in streets:
        for kind in draw.kinds:
            pool = list(
                Site.objects.filter(is_active=True, kind=kind, region__path__startswith=street.path).order_by(
                    "code"
                )
            )
            chosen.extend(rng.sample(pool, min(draw.per_group, len(pool))))
    return chosen


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**53)


def check_plan(user: User | None) -> str:
    return _hq(user)


def plan_round(
    actor: Actor,
    *,
    title: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    inspectors: Sequence[User],
    sites: Sequence[Site] = (),
    draw: Draw | None = None,
    system: IndexSystem | None = None,
    note: str = "",
) -> Round:
    """计划: a round of ``kind`` over a period, its inspectors or leaders, and its sites: chosen
    by hand, drawn at random (``draw``, seed stored), or both."""
    role = check_plan(actor.user)
    title = clean_text(title, 100, "名称")
    note = clean_text(note, 300, "说明")
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["请填写名称"]
    if kind not in Round.Kind.values:
        errors["kind"] = ["督查类型无效"]
    if ends_on < starts_on:
        errors["ends_on"] = ["结束日期不能早于开始日期"]
    if not inspectors:
        errors["inspectors"] = ["请至少指定一名督查人员"]
    system = system or IndexSystem.active(starts_on.year)
    if system is None:
        errors["system"] = ["没有在用的测评体系"]
    drawn = draw_sites(draw) if draw is not None else []
    hand = [s for s in sites if s.pk not in {d.pk for d in drawn}]
    if not hand and not drawn:
        errors["sites"] = ["请选择或抽取点位"]
    if any(not s.is_active for s in hand):
        errors["sites"] = ["点位已停用"]
    if errors or system is None:
        raise ValidationError(errors)
    with transaction.atomic():
        round_ = Round.objects.create(
            title=title,
            kind=kind,
            system=system,
            starts_on=starts_on,
            ends_on=ends_on,
            seed=draw.seed if draw else None,
            draw=draw.as_json() if draw else None,
            note=note,
            created_by=actor.user,
        )
        round_.inspectors.set(inspectors)
        rows = [RoundSite(round=round_, site=s, drawn=True) for s in drawn]
        rows += [RoundSite(round=round_, site=s) for s in hand]
        for position, row in enumerate(rows, start=1):
            row.position = position
        RoundSite.objects.bulk_create(rows)
        _event(
            actor,
            InspectionEvent.Action.PLAN,
            role=role,
            round=round_,
            sites=[s.pk for s in [*drawn, *hand]],
            seed=round_.seed,
            draw=round_.draw,
        )
    return round_


def check_close(user: User | None, round_: Round) -> str:
    role = _hq(user)
    if round_.status == Round.Status.CLOSED:
        raise ActionRefused("该轮次已结束")
    return role


def close_round(actor: Actor, round_: Round, note: str = "") -> Round:
    """结束: no more submissions; the round's figures stand."""
    check_close(actor.user, round_)
    with transaction.atomic():
        round_ = Round.objects.select_for_update().get(pk=round_.pk)
        role = check_close(actor.user, round_)
        round_.status, round_.closed_at = Round.Status.CLOSED, timezone.now()
        round_.save(update_fields=["status", "closed_at"])
        _event(
            actor, InspectionEvent.Action.CLOSE, role=role, round=round_, reason=clean_text(note, 300, "说明")
        )
    return round_


def check_publish(user: User | None, round_: Round) -> str:
    role = _hq(user)
    if round_.kind != Round.Kind.UNANNOUNCED:
        raise ActionRefused("只有暗访轮次需要发布")
    if round_.published_at is not None:
        raise ActionRefused("该暗访轮次已发布")
    return role


def publish_round(actor: Actor, round_: Round, note: str = "") -> Round:
    """发布: an 暗访 round and its findings become visible to the inspected units and leaders."""
    check_publish(actor.user, round_)
    with transaction.atomic():
        round_ = Round.objects.select_for_update().get(pk=round_.pk)
        role = check_publish(actor.user, round_)
        round_.published_at = timezone.now()
        round_.save(update_fields=["published_at"])
        notices.notify_published(round_)
        _event(
            actor,
            InspectionEvent.Action.PUBLISH,
            role=role,
            round=round_,
            reason=clean_text(note, 300, "说明"),
        )
    return round_


# --- Inspecting 检查 ------------------------------------------------------------------------------


@dataclass
class Line:
    """One checklist line as the inspector marked it."""

    item_id: int
    result: str
    occurrences: int = 0
    deduction: Decimal | str | None = None
    note: str = ""
    photos: list = field(default_factory=list)


def open_findings_at(site: Site, round_: Round) -> QuerySet[Finding]:
    """The findings at ``site`` from other rounds still waiting for rectification (a 复查's work)."""
    return (
        Finding.objects.filter(site=site)
        .exclude(status=Finding.Status.RECTIFIED)
        .exclude(inspection__round=round_)
        .select_related("item")
        .order_by("found_at", "pk")
    )


def check_submit(user: User | None, round_: Round, site: Site, day: dt.date | None = None) -> str:
    """The person is named in the round, the round is open on ``day`` (today), the site belongs
    to it and has not been inspected in it yet."""
    if user is None:
        raise PermissionDenied("请先登录")
    if not round_.inspectors.filter(pk=user.pk).exists():
        raise PermissionDenied("您不是本轮督查人员")
    if round_.status == Round.Status.CLOSED:
        raise ActionRefused("该轮次已结束，不能再提交")
    if not round_.starts_on <= (day or timezone.localdate()) <= round_.ends_on:
        raise ActionRefused(f"本轮督查时间为 {round_.starts_on} 至 {round_.ends_on}")
    if not RoundSite.objects.filter(round=round_, site=site).exists():
        raise ValidationError("该点位不在本轮督查范围内")
    if Inspection.objects.filter(round=round_, site=site).exists():
        raise ActionRefused("该点位本轮已提交检查")
    return _role_of(user)


def _coordinate(value, low: int, high: int, what: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError(f"{what}无效") from exc
    if not Decimal(low) <= number <= Decimal(high):
        raise ValidationError(f"{what}超出范围")
    return number


@dataclass
class _Checked:
    item: CheckItem
    line: Line
    deduction: Decimal
    photos: list


def _check_lines(checklist: Checklist | None, lines: Sequence[Line], required: bool) -> list[_Checked]:
    """Every line of the checklist marked once, deductions within the line's limit, a photo on
    each failure that needs one, every photo a real image. Nothing is stored yet."""
    if checklist is None:
        if required:
            raise ValidationError("该类点位在本测评体系下没有测评表")
        if lines:
            raise ValidationError("该类点位没有测评表，不能填写检查项")
        return []
    items = {i.pk: i for i in checklist.items.all()}
    if not lines and not required:
        return []
    seen: set[int] = set()
    checked = []
    for line in lines:
        item = items.get(int(line.item_id))
        if item is None:
            raise ValidationError(f"检查项 {line.item_id} 不在本测评表中")
        if item.pk in seen:
            raise ValidationError(f"检查项 {item.code} 重复填写")
        seen.add(item.pk)
        if line.result not in ItemResult.Result.values:
            raise ValidationError(f"检查项 {item.code} 的结果无效")
        if len(line.photos) > MAX_PHOTOS_PER_LINE:
            raise ValidationError(f"检查项 {item.code} 最多上传 {MAX_PHOTOS_PER_LINE} 张照片")
        line.note = clean_text(line.note, 300, f"检查项 {item.code} 的说明")
        deduction = Decimal(0)
        valid: list = []
        if line.result == ItemResult.Result.FAIL:
            line.occurrences = max(int(line.occurrences or 1), 1)
            if line.deduction in (None, ""):
                deduction = scoring.suggested_deduction(item, line.occurrences)
            else:
                deduction = _decimal(line.deduction, f"检查项 {item.code} 的扣分")
            if deduction <= 0:
                raise ValidationError(f"检查项 {item.code} 不合格，扣分须大于 0")
            if deduction > item.max_deduction:
                raise ValidationError(f"检查项 {item.code} 扣分不能超过 {item.max_deduction} 分")
            valid = photos.validate_all(line.photos)
            if item.photo_required and not valid:
                raise ValidationError(f"检查项 {item.code} 不合格，须上传问题照片")
        else:
            line.occurrences = 0
        checked.append(_Checked(item, line, deduction, valid))
    missing = [i.code for pk, i in items.items() if pk not in seen]
    if missing:
        raise ValidationError(f"还有检查项未填写：{'、'.join(missing)}")
    return checked


def responsible_for(site: Site, day: dt.date) -> tuple[Unit | None, User | None]:
    """Who answers for ``site`` on ``day`` (包保): its own contracts, else those of the nearest of
    its region and the region's ancestors."""
    contracts = Contract.objects.active(day).select_related("unit", "leader", "region")
    unit = leader = None
    for c in contracts.filter(site=site).order_by("pk"):
        unit, leader = unit or c.unit, leader or c.leader
    if unit is None or leader is None:
        codes = site.region.path.strip("/").split("/")
        around = sorted(contracts.filter(region__code__in=codes), key=lambda c: (-len(c.region.path), c.pk))
        for c in around:
            unit, leader = unit or c.unit, leader or c.leader
    return unit, leader


def _store_photos(finding: Finding, valid: list, user: User | None) -> None:
    for photo in valid:
        files = photos.store_files(photo, "inspections")
        FindingPhoto.objects.create(finding=finding, uploaded_by=user, **files.fields())


def submit_inspection(
    actor: Actor,
    round_: Round,
    site: Site,
    *,
    uid,
    lines: Sequence[Line] = (),
    rechecks: dict[int, bool] | None = None,
    lat=None,
    lng=None,
    device: str = "",
    note: str = "",
    at: dt.datetime | None = None,
) -> tuple[Inspection, bool]:
    """提交检查: the inspector's check-in (GPS distance to the site, flagged beyond
    ``INSPECTIONS_CHECKIN_RADIUS_M``), every line's result, photos, and the score; each failed line
    becomes a finding on the rectification list. In a 复查 each earlier open finding at the site
    gets a verdict (``rechecks``: finding id → rectified?) and the checklist is optional.

    Idempotent: ``uid`` is the client's id of the submission; sending it again returns the stored
    inspection and ``False`` (nothing is written twice). ``at``: when the site was inspected, for
    a paper form entered later (default now, never in the future; within the round's period)."""
    try:
        uid = uuid.UUID(str(uid))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValidationError("提交编号无效") from exc
    again = _already_sent(actor, uid)
    if again is not None:
        return again, False
    moment = at or timezone.now()
    if moment > timezone.now():
        raise ValidationError("检查时间不能晚于现在")
    day = timezone.localdate(moment)
    role = check_submit(actor.user, round_, site, day)
    assert actor.user is not None
    lat_d = _coordinate(lat, -90, 90, "纬度")
    lng_d = _coordinate(lng, -180, 180, "经度")
    device, note = clean_text(device, 200, "设备"), clean_text(note, 500, "备注")
    reinspection = round_.kind == Round.Kind.REINSPECTION
    checklist = checklist_for(round_, site)
    checked = _check_lines(checklist, lines, required=not reinspection)
    pending = list(open_findings_at(site, round_)) if reinspection else []
    verdicts = _check_rechecks(pending, rechecks or {})
    distance = None
    if lat_d is not None and lng_d is not None and site.lat is not None and site.lng is not None:
        distance = round(geo.distance_m(lat_d, lng_d, site.lat, site.lng), 1)
    total = scoring.score((c.item.points, c.line.result, c.deduction) for c in checked)
    try:
        with photos.atomic():
            round_ = Round.objects.select_for_update().get(pk=round_.pk)
            check_submit(actor.user, round_, site, day)  # again, on the locked round
            inspection = _write(
                actor, role, round_, site, uid, checklist, checked, pending, verdicts, total,
                lat_d, lng_d, distance, device, note, moment,
            )  # fmt: skip
    except IntegrityError:
        # The same submission arrived twice at once: the other one stored it.
        again = _already_sent(actor, uid)
        if again is None:
            raise ActionRefused("该点位本轮已提交检查") from None
        return again, False
    return inspection, True


def _already_sent(actor: Actor, uid: uuid.UUID) -> Inspection | None:
    sent = Inspection.objects.filter(uid=uid).first()
    if sent is not None and (actor.user is None or sent.inspector_id != actor.user.pk):
        raise ValidationError("提交编号已被使用")
    return sent


def _check_rechecks(pending: list[Finding], rechecks: dict[int, bool]) -> dict[int, bool]:
    verdicts = {int(k): bool(v) for k, v in rechecks.items()}
    known = {f.pk for f in pending}
    unknown = set(verdicts) - known
    if unknown:
        raise ValidationError(f"问题 {sorted(unknown)} 不是该点位待复查的问题")
    missing = [f"{f.item.code}" for f in pending if f.pk not in verdicts]
    if missing:
        raise ValidationError(f"还有待复查问题未给出结论：{'、'.join(missing)}")
    return verdicts


def _write(
    actor,
    role,
    round_,
    site,
    uid,
    checklist,
    checked,
    pending,
    verdicts,
    total,
    lat,
    lng,
    distance,
    device,
    note,
    now,
) -> Inspection:
    user = actor.user
    unit, leader = responsible_for(site, timezone.localdate(now))
    inspection = Inspection.objects.create(
        uid=uid,
        round=round_,
        site=site,
        checklist=checklist,
        inspector=user,
        submitted_at=now,
        lat=lat,
        lng=lng,
        distance_m=distance,
        far_from_site=distance is None or distance > checkin_radius_m(),
        device=device,
        note=note,
        full_points=total.full_points,
        deductions=total.deductions,
        score=total.score,
        responsible_unit=unit,
        responsible_leader=leader,
    )
    deadline = add_working_days(now, rectify_working_days())
    findings = 0
    for c in checked:
        result = ItemResult.objects.create(
            inspection=inspection,
            item=c.item,
            result=c.line.result,
            occurrences=c.line.occurrences,
            deduction=c.deduction,
            note=c.line.note,
        )
        if c.line.result != ItemResult.Result.FAIL:
            continue
        finding = Finding.objects.create(
            inspection=inspection,
            result=result,
            site=site,
            item=c.item,
            description=(c.line.note or c.item.text)[:500],
            deduction=c.deduction,
            found_at=now,
            deadline=deadline,
            responsible_unit=unit,
            responsible_leader=leader,
        )
        _store_photos(finding, c.photos, user)
        findings += 1
    for finding in pending:
        _recheck(actor, role, finding, inspection, verdicts[finding.pk], now)
    notices.notify_findings(inspection)
    _event(
        actor,
        InspectionEvent.Action.SUBMIT,
        role=role,
        round=round_,
        inspection=inspection,
        device=device,
        lat=lat,
        lng=lng,
        at=now,
        reason=note[:300],
        distance_m=distance,
        far_from_site=inspection.far_from_site,
        score=str(total.score),
        findings=findings,
    )
    return inspection


def _recheck(actor, role, finding: Finding, inspection: Inspection, rectified: bool, now) -> None:
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if rectified:
        finding.status, finding.rectified_at, finding.verified_by = Finding.Status.RECTIFIED, now, inspection
        finding.save(update_fields=["status", "rectified_at", "verified_by"])
    else:
        finding.recheck_failures += 1
        finding.save(update_fields=["recheck_failures"])
    action = InspectionEvent.Action.RECHECK_PASS if rectified else InspectionEvent.Action.RECHECK_FAIL
    _event(actor, action, role=role, round=inspection.round, inspection=inspection, finding=finding, at=now)


# --- Findings → cases 转案件 -----------------------------------------------------------------------


def check_to_case(user: User | None, finding: Finding) -> str:
    role = _hq(user)
    if finding.case_id is not None:
        raise ActionRefused("该问题已转为案件")
    if finding.status == Finding.Status.RECTIFIED:
        raise ActionRefused("该问题已整改")
    round_ = finding.inspection.round
    if round_.is_hidden:
        raise ActionRefused("暗访结果发布后才能转为案件")
    return role


def finding_to_case(actor: Actor, finding: Finding, category: Category | None = None) -> Case:
    """转案件: the finding becomes a case in the loop — category from the check item (or the one
    given), place from the site, the finding's photos as its before-photos — accepted (立案) and
    dispatched (派单) by the routing rules; without a routing answer it waits in the dispatch
    queue. The case and the finding point to each other."""
    check_to_case(actor.user, finding)
    category = category or finding.item.category
    if category is None:
        raise ValidationError(f"检查项 {finding.item.code} 没有对应的案件类别，请选择类别")
    site = finding.site
    if site.lat is None or site.lng is None:
        raise ValidationError(f"点位 {site.name} 没有坐标，不能转为案件")
    if not finding.photos.exists():
        raise ValidationError(f"问题 {finding.item.code} 没有照片，督查案件须附问题照片")
    with photos.atomic():
        locked = (
            Finding.objects.select_for_update()
            .select_related("inspection__round", "item", "site")
            .get(pk=finding.pk)
        )
        role = check_to_case(actor.user, locked)
        uploads = [default_storage.open(p.original.name, "rb") for p in locked.photos.all()]
        try:
            case = case_services.report_case(
                actor,
                category=category,
                description=f"【{locked.inspection.round.get_kind_display()}】{site.name}：{locked.description}",
                lat=site.lat,
                lng=site.lng,
                address=site.address or site.name,
                photos_uploaded=uploads,
                source=Case.Source.INSPECTION,
            )
        finally:
            for upload in uploads:
                upload.close()
        case = case_services.accept_case(actor, case, note=f"督查问题转案件（点位 {site.code}）")
        unit = suggest_unit(case.category, case.region, case.grid) or locked.responsible_unit
        if unit is not None and unit.is_active:
            case = case_services.dispatch_case(actor, case, unit)
        locked.case, locked.status = case, Finding.Status.IN_CASE
        locked.save(update_fields=["case", "status"])
        if locked.responsible_unit is None and case.lead_unit is not None:
            locked.responsible_unit = case.lead_unit
            locked.save(update_fields=["responsible_unit"])
        _event(
            actor,
            InspectionEvent.Action.TO_CASE,
            role=role,
            round=locked.inspection.round,
            finding=locked,
            case=case.number,
        )
    return case


def findings_to_cases(
    actor: Actor, findings: Iterable[Finding], category: Category | None = None
) -> list[Case]:
    """转案件 for several findings (one round's, or a list's) in one action: all or none."""
    chosen = list(findings)
    if not chosen:
        raise ValidationError("没有可转为案件的问题")
    with photos.atomic():
        return [finding_to_case(actor, f, category) for f in chosen]


# --- What may this person do now -----------------------------------------------------------------

ROUND_CHECKS: dict[str, Callable[[User, Round], object]] = {
    "close": check_close,
    "publish": check_publish,
}


def allowed_actions(user: User, obj: Round | Finding) -> list[str]:
    """The steps ``user`` may take on a round or a finding now (pages and API show these)."""
    checks: dict[str, Callable] = ROUND_CHECKS if isinstance(obj, Round) else {"to_case": check_to_case}
    allowed = []
    for name, check in checks.items():
        try:
            check(user, obj)
        except (PermissionDenied, ActionRefused, ValidationError):
            continue
        allowed.append(name)
    return allowed


def may_inspect(user: User, round_: Round, site: Site) -> bool:
    try:
        check_submit(user, round_, site)
    except (PermissionDenied, ActionRefused, ValidationError):
        return False
    return True


def pending_sites(user: User, day: dt.date | None = None) -> QuerySet[RoundSite]:
    """Today's work of an inspector: the sites of their open rounds not yet inspected."""
    today = day or timezone.localdate()
    done = Inspection.objects.filter(round=OuterRef("round_id"), site=OuterRef("site_id"))
    return (
        RoundSite.objects.filter(
            round__inspectors=user,
            round__status=Round.Status.PLANNED,
            round__starts_on__lte=today,
            round__ends_on__gte=today,
        )
        .exclude(Exists(done))
        .select_related("round", "site__region")
    )
