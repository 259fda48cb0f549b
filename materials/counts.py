"""The materials due on a person's home page 首页: the clerk's submissions still open (draft or
returned) of this month and earlier months, the open rows of 本月网报."""

from django.urls import reverse
from django.utils import timezone

from org.counts import Count
from org.scope import scope_for

from . import services
from .models import Submission


def open_submissions(user):
    """The open submissions of the units where ``user`` is a report clerk, up to this month."""
    month = timezone.localdate().replace(day=1)
    return Submission.objects.filter(
        unit__memberships__user=user,
        unit__memberships__role__in=services.CLERK_ROLES,
        requirement__month__lte=month,
        state__in=Submission.EDITABLE,
    )


def home_counts(user) -> list[Count]:
    if not scope_for(user).has_role(*services.CLERK_ROLES):
        return []
    return [Count("待报送网报资料", open_submissions(user).count(), reverse("materials:mine"))]
