"""What the monthly report materials tell, and whom (through ``notices.outbox``).

- Material due 网报资料即将截止 (a periodic job, ``chuangwen.schedule``): each submission not yet
  submitted (draft or returned) whose requirement is due today or on the next working day is told
  once per submission and due date to the unit's report clerks 网报专员 and its robots.
- Returned 退回修改 (``return_submission``) → the unit's report clerks and robots, with the reason.
- A card 红黄牌 (``issue_monthly_cards``, ``issue_card``) → the unit's report clerks and robots;
  a red card also its leader 单位负责人.

Everyone told works in the unit the record belongs to, so it is in their scope
(``services.visible_submissions``, ``services.visible_cards``); each person is checked against it.
"""

import datetime as dt
from collections.abc import Callable, Sequence

from django.urls import reverse
from django.utils import timezone

from notices import recipients
from notices.kinds import Kind
from notices.models import Notice
from notices.outbox import notify
from org.models import Role, Unit, User
from workdays.calendar import is_workday

from . import services
from .models import Card, Submission

UNIT_PEOPLE = (Role.REPORT_CLERK,)
NOT_SUBMITTED = (Submission.State.DRAFT, Submission.State.RETURNED)


def _name(unit: Unit) -> str:
    return unit.short_name or unit.name


def _clerks(unit_ids) -> dict[int, list[User]]:
    return recipients.members(unit_ids, *UNIT_PEOPLE)


def _seeing(people: Sequence[User | None], allowed: Callable[[User], bool]) -> list[User]:
    """``people`` who see the record (``allowed(user)`` answers)."""
    return [u for u in dict.fromkeys(people) if u is not None and allowed(u)]


def _sees_submission(submission: Submission) -> Callable[[User], bool]:
    return lambda user: services.visible_submissions(user).filter(pk=submission.pk).exists()


def _month(day: dt.date) -> str:
    return f"{day:%Y年%m月}"


def notify_returned(submission: Submission) -> None:
    """Called in ``return_submission``'s transaction."""
    unit = submission.unit
    notify(
        Kind.MATERIAL_RETURNED,
        _seeing(_clerks([unit.pk]).get(unit.pk, []), _sees_submission(submission)),
        {
            "unit": _name(unit),
            "title": submission.requirement.title[:60],
            "month": _month(submission.requirement.month),
            "version": submission.version,
            "count": submission.return_count,
            "reason": submission.review_comment,
        },
        reverse("materials:submission", args=[submission.pk]),
        f"material:{submission.pk}:returned:{submission.return_count}",
        units=[unit],
    )


def notify_card(card: Card) -> None:
    """Called in the transaction that issues ``card`` (monthly or by hand)."""
    unit = card.unit
    people: list[User | None] = list(_clerks([unit.pk]).get(unit.pk, []))
    if card.color == Card.Color.RED:
        people.append(recipients.unit_leaders([unit.pk]).get(unit.pk))
    notify(
        Kind.MATERIAL_CARD,
        _seeing(people, lambda user: services.visible_cards(user).filter(pk=card.pk).exists()),
        {
            "unit": _name(unit),
            "color": card.get_color_display(),
            "month": _month(card.month),
            "reason": card.reason,
        },
        reverse("materials:cards"),
        f"material-card:{card.pk}",
        units=[unit],
    )


def next_workday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


def materials_due(now: dt.datetime) -> str:
    """Tell each unit of its materials not yet submitted that are due today or on the next working
    day (once per submission and due date)."""
    today = timezone.localtime(now).date()
    subs = Submission.objects.filter(
        state__in=NOT_SUBMITTED,
        requirement__due_date__gte=today,
        requirement__due_date__lte=next_workday(today),
    ).select_related("requirement", "unit")
    keyed = {f"material:{s.pk}:due:{s.requirement.due_date.isoformat()}": s for s in subs}
    told = set(Notice.objects.filter(key__in=list(keyed)).values_list("key", flat=True))
    fresh = {k: s for k, s in keyed.items() if k not in told}
    clerks = _clerks({s.unit_id for s in fresh.values()})
    for key, sub in fresh.items():
        unit, req = sub.unit, sub.requirement
        notify(
            Kind.MATERIAL_DUE,
            _seeing(clerks.get(unit.pk, []), _sees_submission(sub)),
            {
                "unit": _name(unit),
                "title": req.title[:60],
                "month": _month(req.month),
                "due": f"{req.due_date:%m月%d日}",
                "state": sub.get_state_display(),
            },
            reverse("materials:submission", args=[sub.pk]),
            key,
            units=[unit],
        )
    return f"{len(fresh)} 份"
