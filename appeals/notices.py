"""What the appeals tell, and whom (through ``notices.outbox``): an appeal rated unsatisfied 不满意
goes to the dispatchers, who decide on reopening it, and to the unit that handled its case. The
message names the case and its category only: never the citizen, their phone or their comment."""

from django.urls import reverse

from notices import recipients
from notices.kinds import Kind
from notices.outbox import notify
from org.models import Role

from .models import Appeal

DECIDERS = (Role.DISPATCHER,)


def notify_rating(appeal: Appeal) -> None:
    """Called in ``rate_appeal``'s transaction; only 不满意 is told."""
    if appeal.rating != Appeal.Rating.UNSATISFIED:
        return
    case = appeal.effective_case
    unit = case.lead_unit
    people = recipients.members_with_role(*DECIDERS)
    if unit is not None:
        people += recipients.members([unit.pk], Role.HANDLER).get(unit.pk, [])
    notify(
        Kind.APPEAL_UNSATISFIED,
        people,
        {
            "number": case.number,
            "category": case.category.name,
            "unit": unit.short_name or unit.name if unit else "",
        },
        reverse("appeals:detail", args=[appeal.pk]),
        f"appeal:{appeal.pk}:unsatisfied:{case.pk}",
        units=[unit] if unit else [],
    )
