"""The one filter of each listable model, used by its page, the API list and the figures' links."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from org.filters import ListFilterSet
from org.models import Region, Unit, User

from .models import Card, Submission

MONTH_FORMAT = "%Y-%m"


def parse_month(value: str | None) -> dt.date | None:
    try:
        return dt.datetime.strptime((value or "").strip(), MONTH_FORMAT).date()
    except ValueError:
        return None


class MonthField(forms.CharField):
    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        month = parse_month(text)
        if month is None:
            raise forms.ValidationError("月份格式应为 YYYY-MM")
        return month


class MonthFilter(django_filters.Filter):
    field_class = MonthField


class SubmissionFilter(ListFilterSet):
    """资料报送 list: by month, unit, area (subtree), state, late, returned, reviewer, text."""

    month = MonthFilter(field_name="requirement__month", label="月份")
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label="单位")
    region = django_filters.ModelChoiceFilter(queryset=Region.objects.all(), method="in_region", label="区域")
    state = django_filters.ChoiceFilter(
        choices=Submission.State.choices, label="状态", empty_label="全部状态"
    )
    late = django_filters.BooleanFilter(field_name="is_late", label="逾期提交")
    returned = django_filters.BooleanFilter(method="was_returned", label="曾被退回")
    reviewer = django_filters.ModelChoiceFilter(
        queryset=User.objects.all(), field_name="requirement__reviewer", label="审核人"
    )
    requirement = django_filters.NumberFilter(field_name="requirement_id", label="资料要求")
    q = django_filters.CharFilter(method="search", label="关键词")

    class Meta:
        model = Submission
        fields: list[str] = []

    def in_region(self, qs: QuerySet, name: str, value: Region | None) -> QuerySet:
        return qs.filter(unit__region__path__startswith=value.path) if value else qs

    def was_returned(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(return_count__gt=0) if value else qs.filter(return_count=0)

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()[:50]
        if not value:
            return qs
        return qs.filter(Q(requirement__title__icontains=value) | Q(unit__name__icontains=value))


class CardFilter(ListFilterSet):
    """红黄牌 list: by month, unit, colour and whether revoked."""

    month = MonthFilter(field_name="month", label="月份")
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label="单位")
    color = django_filters.ChoiceFilter(choices=Card.Color.choices, label="颜色", empty_label="红牌和黄牌")
    revoked = django_filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True, label="已撤销"
    )

    class Meta:
        model = Card
        fields: list[str] = []
