"""The work queues 待办队列 as querysets: the queue pages list them and the home page counts
them (``cases.counts``), so a count always equals the length of the list it opens."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from org.models import Role
from org.scope import Scope
from workdays.clock import due_soon_until

from .models import Case, CasePart, ExtensionRequest
from .permissions import OPEN_PART

UNIT_STATES = {"overdue": "已超期", "due_soon": "即将到期"}


def reported() -> QuerySet[Case]:
    """待立案: reports to accept, reject or merge."""
    return Case.objects.filter(status=Case.Status.REPORTED)


def to_dispatch() -> QuerySet[Case]:
    """待派遣: accepted cases and cases a unit returned."""
    return Case.objects.filter(status__in=(Case.Status.ACCEPTED, Case.Status.RETURNED))


def to_verify() -> QuerySet[Case]:
    """待核查: handled cases to close or send back for rework."""
    return Case.objects.filter(status=Case.Status.HANDLED)


def pending_extensions() -> QuerySet[ExtensionRequest]:
    """延期待批: the units' extension requests awaiting a decision."""
    return ExtensionRequest.objects.filter(status=ExtensionRequest.Status.PENDING)


def handler_unit_ids(scope: Scope) -> list[int]:
    return [unit_id for unit_id, roles in scope.unit_roles.items() if Role.HANDLER in roles]


def unit_parts(
    unit_ids: list[int], state: str | None = None, now: dt.datetime | None = None
) -> QuerySet[CasePart]:
    """待办: the open parts of the units; ``state`` narrows to the overdue (deadline passed) or the
    due-soon ones (deadline within ``due_soon_until``), as the list marks them."""
    qs = CasePart.objects.filter(unit_id__in=unit_ids, status__in=OPEN_PART)
    now = now or timezone.now()
    if state == "overdue":
        qs = qs.filter(deadline__lt=now)
    elif state == "due_soon":
        qs = qs.filter(deadline__gte=now, deadline__lt=due_soon_until(now))
    return qs
