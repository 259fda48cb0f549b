"""What the volunteer order loop tells, and whom (through ``notices.outbox``).

- 派单 (``assign_order``) → the leader 队长 of the team the order was given to (their volunteer
  record's login), with the service, the station and the deadline to accept.
- 评单 at 2 stars or fewer (``rate_order``) → the staff of the order's station (its managers, or
  those of the nearest station above it that has managers), to call back.

Everyone told sees the order (``access.orders_for``). Messages name the service, the station and
the team: never the citizen's name, phone, address, description or comment.
"""

from django.urls import reverse
from django.utils import timezone

from notices.kinds import Kind
from notices.outbox import notify
from org.models import User

from . import access
from .models import Order, Station, TeamMember

LOW_STARS = 2


def _seeing(people, order: Order) -> list[User]:
    return [
        u for u in dict.fromkeys(people) if u.is_active and access.orders_for(u).filter(pk=order.pk).exists()
    ]


def _context(order: Order, **extra) -> dict:
    return {
        "service": order.service.name,
        "station": order.station.name,
        "team": order.team.name if order.team else "",
        **extra,
    }


def _link(order: Order) -> str:
    return reverse("volunteers:order_detail", args=[order.pk])


def notify_assigned(order: Order) -> None:
    """Called in ``assign_order``'s transaction (again after a decline: a new assignment)."""
    leaders = [
        m.volunteer.user
        for m in TeamMember.objects.filter(
            team=order.team, is_leader=True, volunteer__is_active=True, volunteer__user__isnull=False
        ).select_related("volunteer__user")
    ]
    notify(
        Kind.ORDER_ASSIGNED,
        _seeing(leaders, order),
        _context(
            order,
            wanted=f"{order.wanted_on:%m月%d日}" if order.wanted_on else "未指定日期",
            deadline=timezone.localtime(order.due_at).strftime("%m月%d日 %H:%M") if order.due_at else "尽快",
        ),
        _link(order),
        f"order:{order.pk}:assigned:{order.decline_count}",  # each decline brings a new assignment
    )


def station_staff(station: Station) -> list[User]:
    """The managers of ``station``, or of the nearest station above it that has managers."""
    current: Station | None = station
    while current is not None:
        staff = list(current.managers.filter(is_active=True).order_by("pk"))
        if staff:
            return staff
        current = current.parent
    return []


def notify_rated(order: Order) -> None:
    """Called in ``rate_order``'s transaction; only a rating of ``LOW_STARS`` or fewer is told."""
    if order.rating is None or order.rating > LOW_STARS:
        return
    notify(
        Kind.ORDER_RATED_LOW,
        _seeing(station_staff(order.station), order),
        _context(order, stars=order.rating),
        _link(order),
        f"order:{order.pk}:rated",
    )
