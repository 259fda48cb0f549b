"""One filter per listable model (patrols, social reports, field checks, joint actions), used by the pages and the API lists
alike. The querysets they filter are already limited to what the person may see."""

import django_filters
from django import forms

from cases.models import FieldCheck
from org.filters import ListFilterSet, date_from, date_to

from .models import JointAction, Patrol, Report


class PatrolFilterSet(ListFilterSet):
    start = date_from("day")
    end = date_to("day")
    status = django_filters.ChoiceFilter(choices=Patrol.Status.choices, empty_label="全部状态")
    off_roster = django_filters.BooleanFilter(
        widget=forms.Select(choices=[("", "排班情况"), ("true", "未排班巡查"), ("false", "按排班巡查")])
    )
    flagged = django_filters.BooleanFilter(
        method="filter_flagged",
        widget=forms.Select(choices=[("", "轨迹情况"), ("true", "有异常轨迹点"), ("false", "轨迹正常")]),
    )

    class Meta:
        model = Patrol
        fields = ["start", "end", "status", "off_roster", "flagged"]

    def filter_flagged(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(jumps__gt=0) if value else qs.filter(jumps=0)


class SocialReportFilterSet(ListFilterSet):
    kind = django_filters.ChoiceFilter(
        choices=[(k, Report.Kind(k).label) for k in Report.SOCIAL_KINDS], empty_label="全部类型"
    )
    start = date_from("reported_at", "date__gte")
    end = date_to("reported_at", "date__lte")

    class Meta:
        model = Report
        fields = ["kind", "start", "end"]


class FieldCheckFilterSet(ListFilterSet):
    status = django_filters.ChoiceFilter(choices=FieldCheck.Status.choices, empty_label="全部状态")

    class Meta:
        model = FieldCheck
        fields = ["status"]


class JointActionFilterSet(ListFilterSet):
    start = date_from("day")
    end = date_to("day")

    class Meta:
        model = JointAction
        fields = ["start", "end"]
