"""What the assessment tells, and whom (through ``notices.outbox``): a circular 通报 issued names
every unit scored in its run; each such unit's people who may read it (``services.check_download``)
are told, with its robots, and the link to the document."""

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from notices import recipients
from notices.kinds import Kind
from notices.outbox import notify
from org.models import Role, Unit, User

from . import services
from .models import Circular


def _may_read(user: User, circular: Circular) -> bool:
    try:
        services.check_download(user, circular)
    except PermissionDenied:
        return False
    return True


def notify_circular(circular: Circular) -> None:
    """Called in ``issue_circular``'s transaction: one notice per unit the circular names."""
    units = list(Unit.objects.filter(pk__in=circular.run.scores.values("unit_id")).order_by("pk"))
    people = recipients.members([u.pk for u in units], *Role.values)
    link = reverse("assessment:download", args=[circular.pk])
    for unit in units:
        notify(
            Kind.CIRCULAR_ISSUED,
            [u for u in people.get(unit.pk, []) if _may_read(u, circular)],
            {
                "number": circular.number,
                "title": circular.title[:60],
                "unit": unit.short_name or unit.name,
            },
            link,
            f"circular:{circular.pk}:u{unit.pk}",
            units=[unit],
        )
