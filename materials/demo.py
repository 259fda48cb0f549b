"""The demo's report materials: six finished months before this one and this month's work.

Every community committee gets a report clerk 网报专员 (南池社区's is the ``clerk`` login; the
others are synthetic people without a usable password). Each month HQ assigns the active index
system's three monthly 材料审核 criteria to the 27 communities, reviewed by the ``inspector``
login. The past months run through the services in every state — missing, returned and never
resubmitted, returned and resubmitted, late, failing, scored, and (last month) waiting for review
— with their steps back-dated into the month; cards are issued for all but last month (left for
HQ to run), one card is given by hand and one revoked. This month is planned from last month's
plan, and ``clerk`` has a draft ready to submit, one started and one untouched.
Loading twice changes nothing.
"""

import datetime as dt
import io
import zipfile
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from indicators.models import Criterion, IndexSystem
from org.audit import Actor
from org.models import Membership, Role, Unit, User

from . import services
from .models import Card, Requirement, Submission, SubmissionEvent

PAST_MONTHS = 6
COLOURS = ["#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085"]
TEXTS = [
    "本月召开专题会议 1 次，开展学习宣讲 2 场，参与群众 120 余人次，已整理签到表和会议记录。",
    "本月按要求完成台账更新，公示栏内容及时更换，群众诉求均已按时回复并回访。",
    "组织志愿者开展环境整治和文明劝导活动 3 次，照片和活动记录见附件。",
]


def _photo(n: int) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (96, 72), COLOURS[n % len(COLOURS)]).save(out, "JPEG", quality=70)
    return SimpleUploadedFile(f"活动照片{n % 9 + 1}.jpg", out.getvalue(), content_type="image/jpeg")


def _docx(title: str) -> SimpleUploadedFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", f'<?xml version="1.0"?><document>{title}</document>')
    return SimpleUploadedFile(f"{title}.docx", out.getvalue())


def _clerks(units: list[Unit]) -> dict[int, User]:
    """The report clerk of each community (the existing ``clerk`` login for its own)."""
    found = {
        m.unit_id: m.user
        for m in Membership.objects.filter(unit__in=units, role=Role.REPORT_CLERK).select_related("user")
    }
    for unit in units:
        if unit.pk not in found:
            user, _ = User.objects.get_or_create(
                username=f"wb{unit.code.lower()}",
                defaults={
                    "display_name": f"{unit.short_name or unit.name}网报员",
                    "password": make_password(None),
                },
            )
            Membership.objects.get_or_create(
                user=user, unit=unit, role=Role.REPORT_CLERK, defaults={"title": "网报专员"}
            )
            found[unit.pk] = user
    return found


def _local(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), timezone.get_current_timezone())


def _backdate(sub: Submission, late: bool) -> None:
    """Move the steps of a past month's submission into that month (the services stamp now)."""
    due = sub.requirement.due_date
    start = _local(due + dt.timedelta(days=2) if late else due - dt.timedelta(days=6), 9)
    submitted: list[dt.datetime] = []
    reviewed = None
    for n, event in enumerate(sub.events.order_by("pk")):
        at = (
            _local(sub.requirement.month, 9)
            if event.kind == SubmissionEvent.Kind.ASSIGNED
            else start + dt.timedelta(hours=5 * n)
        )
        SubmissionEvent.objects.filter(pk=event.pk).update(at=at)
        if event.kind == SubmissionEvent.Kind.SUBMITTED:
            submitted.append(at)
        if event.kind in (SubmissionEvent.Kind.RETURNED, SubmissionEvent.Kind.SCORED):
            reviewed = at
    Submission.objects.filter(pk=sub.pk).update(
        first_submitted_at=submitted[0] if submitted else None,
        submitted_at=submitted[-1] if submitted else None,
        reviewed_at=reviewed,
        updated_at=reviewed or (submitted[-1] if submitted else start),
        is_late=bool(submitted) and timezone.localtime(submitted[-1]).date() > due,
    )


def _score(points: Decimal, fraction: Decimal) -> Decimal:
    return (points * fraction * 2).quantize(Decimal(1), ROUND_HALF_UP) / 2


def _run(sub: Submission, clerk: Actor, reviewer: Actor, plan: str, n: int) -> None:
    """Take one submission through the steps ``plan`` names."""
    if plan == "missing":
        return
    if sub.requirement.min_photos:
        services.add_files(clerk, sub, [_photo(n)])
    elif n % 4 == 0:
        services.add_files(clerk, sub, [_docx(f"{sub.unit.short_name or sub.unit.name}工作台账")])
    sub = services.submit(clerk, sub, TEXTS[n % len(TEXTS)])
    points = sub.requirement.points
    if plan == "waiting":
        return
    if plan in ("returned", "resubmitted"):
        sub = services.return_submission(reviewer, sub, "佐证材料不足，请补充活动照片和签到表")
        if plan == "returned":
            return
        services.save_draft(clerk, sub, sub.text + "（已补充签到表）")
        sub = services.submit(clerk, sub)
    fraction = Decimal("0.4") if plan == "failing" else Decimal("0.7") + Decimal(n % 4) / 10
    services.score_submission(
        reviewer, sub, _score(points, fraction), "资料齐全" if fraction >= 1 else "基本符合要求"
    )


def _plan(u: int, k: int, r: int) -> str:
    h = (u * 7 + k * 3 + r * 5) % 20
    if k == PAST_MONTHS - 1 and (6 <= h <= 11 or h == 3):
        return "waiting"  # last month: the reviewer is behind, and nobody is late yet
    return {0: "missing", 1: "returned", 2: "failing", 3: "late", 4: "resubmitted", 5: "resubmitted"}.get(
        h, "scored"
    )


def load() -> None:
    system = IndexSystem.active()
    hq_user = User.objects.filter(username="hq").first()
    reviewer_user = User.objects.filter(username="inspector").first()
    if system is None or hq_user is None or reviewer_user is None:
        return
    hq, reviewer = Actor.system(user=hq_user), Actor.system(user=reviewer_user)
    criteria = list(
        Criterion.objects.filter(
            item__project__system=system,
            method=Criterion.Method.MATERIAL,
            frequency=Criterion.Frequency.MONTHLY,
        ).order_by("item__project__position", "item__position", "position")
    )
    units = list(Unit.objects.filter(kind=Unit.Kind.COMMUNITY_COMMITTEE, is_active=True).order_by("code"))
    if not criteria or not units:
        return
    clerks = _clerks(units)
    this_month = timezone.localdate().replace(day=1)
    months = [this_month]
    for _ in range(PAST_MONTHS):
        months.insert(0, services.previous_month(months[0]))
    for k, month in enumerate(months[:-1]):
        if Requirement.objects.filter(month=month).exists():
            continue
        for r, criterion in enumerate(criteria):
            spec = services.Spec(
                title=f"{criterion.item.name}：{criterion.text}"[:200],
                description=criterion.text,
                points=criterion.points,
                reviewer=reviewer_user,
                min_photos=1 if r == 0 else 0,
                criterion=criterion,
            )
            requirement = services.create_requirement(hq, month, spec, units)
            for u, unit in enumerate(units):
                sub = requirement.submissions.get(unit=unit)
                plan = _plan(u, k, r)
                _run(sub, Actor.system(user=clerks[unit.pk]), reviewer, plan, u + k + r)
                _backdate(sub, late=plan == "late")
        if k < PAST_MONTHS - 1:
            services.issue_monthly_cards(hq, month)
    _manual_cards(hq, units, months)
    _this_month(hq, this_month, clerks)


def _manual_cards(hq: Actor, units: list[Unit], months: list[dt.date]) -> None:
    if Card.objects.filter(is_automatic=False).exists():
        return
    services.issue_card(hq, units[3], months[-3], "yellow", "暗访发现公示栏资料与网报内容不一致")
    first = Card.objects.filter(is_automatic=True, month=months[1]).order_by("pk").first()
    if first is not None:
        services.revoke_card(hq, first, "经复核，该社区已在截止日前线下报送，撤销")


def _this_month(hq: Actor, month: dt.date, clerks: dict[int, User]) -> None:
    if Requirement.objects.filter(month=month).exists():
        return
    services.copy_previous_month(hq, month)
    own = Submission.objects.filter(requirement__month=month).select_related("requirement", "unit")
    for n, sub in enumerate(own.order_by("unit__code", "requirement_id")):
        clerk = Actor.system(user=clerks[sub.unit_id])
        is_demo_clerk = clerks[sub.unit_id].username == "clerk"
        if is_demo_clerk:
            if sub.requirement.min_photos:
                services.save_draft(clerk, sub, TEXTS[0])
                services.add_files(clerk, sub, [_photo(n)])  # complete: ready to submit
            elif n % 2:
                services.save_draft(clerk, sub, "本月工作情况：")  # started
        elif n % 5 == 0:
            if sub.requirement.min_photos:
                services.add_files(clerk, sub, [_photo(n)])
            services.submit(clerk, sub, TEXTS[n % len(TEXTS)])  # early birds for the reviewer's queue
