"""The volunteer orders on a person's home page 首页, counted with the order list's own filter
(``OrderFilter`` on ``access.orders_for``), so each count equals the list its link opens:
station staff see the orders to assign 待派单 and the overdue ones, team leaders the orders
waiting for their team to accept 待接单."""

from urllib.parse import urlencode

from django.urls import reverse

from org.counts import Count

from . import access
from .filtersets import OrderFilter
from .models import Order


def _orders(user, label: str, tone: str = "", **filters: str) -> Count:
    n = OrderFilter(filters, queryset=access.orders_for(user)).qs.count()
    return Count(label, n, f"{reverse('volunteers:orders')}?{urlencode(filters)}", tone)


def home_counts(user) -> list[Count]:
    counts: list[Count] = []
    if access.is_staff(user):
        counts += [
            _orders(user, "待派单服务订单", status=Order.Status.ORDERED),
            _orders(user, "已超期服务订单", "danger", overdue="true"),
        ]
    elif access.led_team_ids(user):
        counts.append(_orders(user, "待接单服务订单", status=Order.Status.ASSIGNED))
    return counts
