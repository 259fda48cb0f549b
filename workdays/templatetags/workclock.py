"""``{% load workclock %}``: ``{{ deadline|remaining }}`` or ``{{ part.deadline|remaining:part.deadline_rule }}``
shows the time left in the deadline's own terms ("剩余 3.5 个工作时", "已超期 2 个工作日")."""

import datetime as dt

from django import template

from workdays.clock import remaining_text
from workdays.models import DeadlineRule

register = template.Library()


@register.filter
def remaining(deadline: dt.datetime | None, rule: str = "") -> str:
    if deadline is None:
        return ""
    return remaining_text(deadline, rule or DeadlineRule.WORKING_HOURS)
