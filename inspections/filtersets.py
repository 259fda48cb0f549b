"""One filter per listable model (rounds, inspections, findings), used by the pages, the XLSX
exports and the API lists alike. The querysets they filter are already limited to the person's
scope (``visible_to``); the choices offered are the ones that person may see."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from org.filters import ListFilterSet, date_from, date_to
from org.models import Region, SiteType, Unit
from org.scope import scope_for

from .models import Finding, Inspection, Round
from .scoring import rectified_on_time_q


def _streets(request) -> QuerySet[Region]:
    return Region.objects.filter(level__in=(Region.Level.STREET, Region.Level.TOWNSHIP)).order_by("code")


def _units(request) -> QuerySet[Unit]:
    if request is None:
        return Unit.objects.all()
    return scope_for(request.user).units().order_by("code")


def _site_kinds() -> list[tuple[str, str]]:
    return list(SiteType.objects.values_list("code", "name"))


class _InStreet(django_filters.ModelChoiceFilter):
    """Records whose site lies in the street (its region subtree)."""

    def __init__(self, *args, site_field: str = "site", **kwargs):
        self.site_field = site_field
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.site_field}__region__path__startswith": value.path})


class RoundFilterSet(ListFilterSet):
    kind = django_filters.ChoiceFilter(choices=Round.Kind.choices, empty_label="全部类型")
    status = django_filters.ChoiceFilter(choices=Round.Status.choices, empty_label="全部状态")
    start = date_from("ends_on")
    end = date_to("starts_on")

    class Meta:
        model = Round
        fields = ["kind", "status", "start", "end"]


class InspectionFilterSet(ListFilterSet):
    round = django_filters.NumberFilter(field_name="round_id", widget=forms.HiddenInput)
    kind = django_filters.ChoiceFilter(
        field_name="round__kind", choices=Round.Kind.choices, empty_label="全部类型"
    )
    site_kind = django_filters.ChoiceFilter(
        field_name="site__kind", choices=_site_kinds, empty_label="全部点位类型"
    )
    street = _InStreet(queryset=_streets, empty_label="全部街道/乡镇")
    unit = django_filters.ModelChoiceFilter(
        field_name="responsible_unit", queryset=_units, empty_label="全部包保单位"
    )
    start = date_from("submitted_at__date")
    end = date_to("submitted_at__date")

    class Meta:
        model = Inspection
        fields = ["round", "kind", "site_kind", "street", "unit", "start", "end"]


class FindingFilterSet(ListFilterSet):
    """The rectification list 整改清单: by state (open, overdue, rectified), unit, round, place."""

    STATES = (
        ("open", "未整改"),
        ("overdue", "已逾期"),
        ("in_case", "已转案件"),
        ("not_in_case", "未转案件"),
        ("rectified", "已整改"),
        ("on_time", "按期整改"),
    )

    state = django_filters.ChoiceFilter(choices=STATES, method="filter_state", empty_label="全部状态")
    unit = django_filters.ModelChoiceFilter(
        field_name="responsible_unit", queryset=_units, empty_label="全部责任单位"
    )
    round = django_filters.NumberFilter(field_name="inspection__round_id", widget=forms.HiddenInput)
    kind = django_filters.ChoiceFilter(
        field_name="inspection__round__kind", choices=Round.Kind.choices, empty_label="全部类型"
    )
    site_kind = django_filters.ChoiceFilter(
        field_name="site__kind", choices=_site_kinds, empty_label="全部点位类型"
    )
    street = _InStreet(queryset=_streets, empty_label="全部街道/乡镇")
    item = django_filters.NumberFilter(field_name="item_id", widget=forms.HiddenInput)
    start = date_from("found_at__date")
    end = date_to("found_at__date")

    class Meta:
        model = Finding
        fields = ["state", "unit", "round", "kind", "site_kind", "street", "item", "start", "end"]

    def filter_state(self, qs, name, value):
        rectified = Q(status=Finding.Status.RECTIFIED)
        if value == "open":
            return qs.exclude(rectified)
        if value == "overdue":
            return qs.exclude(rectified).filter(deadline__lt=timezone.now())
        if value == "in_case":
            return qs.filter(case__isnull=False)
        if value == "not_in_case":
            return qs.filter(case__isnull=True).exclude(rectified)
        if value == "rectified":
            return qs.filter(rectified)
        if value == "on_time":
            return qs.filter(rectified_on_time_q())
        return qs
