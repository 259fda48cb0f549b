"""One filter per listable model, used by its list page and the API list alike."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from org.filters import ListFilterSet

from .models import Activity, Order, ServiceKind, Station, Team, Volunteer, clean_code


class OrderFilter(ListFilterSet):
    q = django_filters.CharFilter(method="search", label="查询码/内容")
    status = django_filters.ChoiceFilter(choices=Order.Status.choices, label="状态", empty_label="全部状态")
    kind = django_filters.ChoiceFilter(
        field_name="service__kind", choices=ServiceKind.choices, label="服务类别", empty_label="全部类别"
    )
    station = django_filters.ModelChoiceFilter(
        queryset=Station.objects.all(), label="阵地", empty_label="全部阵地"
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), label="服务队", empty_label="全部服务队"
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="已超期")

    class Meta:
        model = Order
        fields = ["q", "status", "kind", "station", "team", "overdue"]

    def search(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(code=clean_code(value)) | Q(description__contains=value)) if value else qs

    def filter_overdue(self, qs, name, value):
        if value is None:
            return qs
        late = Q(status__in=Order.TIMED, due_at__lt=timezone.now())
        return qs.filter(late) if value else qs.exclude(late)


class VolunteerFilter(ListFilterSet):
    q = django_filters.CharFilter(method="search", label="编号/特长")
    team = django_filters.ModelChoiceFilter(field_name="teams", queryset=Team.objects.all(), label="服务队")
    is_active = django_filters.BooleanFilter(label="在册")

    class Meta:
        model = Volunteer
        fields = ["q", "team", "is_active"]

    def search(self, qs, name, value):
        value = value.strip()
        # Names, ID numbers and phones are not searchable here: they are shown masked.
        return qs.filter(Q(number=value) | Q(skills__contains=value)) if value else qs


class ActivityFilter(ListFilterSet):
    kind = django_filters.ChoiceFilter(choices=ServiceKind.choices, label="服务类别", empty_label="全部类别")
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), label="服务队", empty_label="全部服务队"
    )
    upcoming = django_filters.BooleanFilter(method="filter_upcoming", label="未结束")

    class Meta:
        model = Activity
        fields = ["kind", "team", "upcoming"]

    def filter_upcoming(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(ends_at__gte=timezone.now()) if value else qs.filter(ends_at__lt=timezone.now())
