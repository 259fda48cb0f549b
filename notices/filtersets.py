"""The filters of the inbox (page and API alike) and of HQ's delivery log."""

import django_filters

from org.filters import ListFilterSet
from org.models import Unit

from .kinds import Kind
from .models import Channel, Delivery, Receipt


class ReceiptFilterSet(ListFilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="未读")
    kind = django_filters.ChoiceFilter(field_name="notice__kind", choices=Kind.choices, label="事件")

    class Meta:
        model = Receipt
        fields = ["unread", "kind"]


class DeliveryFilterSet(ListFilterSet):
    status = django_filters.ChoiceFilter(choices=Delivery.Status.choices, label="状态")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label="渠道")
    kind = django_filters.ChoiceFilter(field_name="notice__kind", choices=Kind.choices, label="事件")
    unit = django_filters.ModelChoiceFilter(
        field_name="notice__unit", queryset=Unit.objects.order_by("code"), label="单位"
    )

    class Meta:
        model = Delivery
        fields = ["status", "channel", "kind", "unit"]
