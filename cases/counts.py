"""The case work on a person's home page 首页: each count is the length of the list it opens.

- dispatchers and HQ: 待立案, 待派遣, 待核查, 延期待批 (the queues, ``cases.queues``);
- handlers: their units' 待办, 已超期, 即将到期 (the unit queue and its ``state``);
- collectors and street chiefs: the cases they may see, all and still open (the case list);
- HQ and leaders: open and overdue cases of their scope (the case list's filter) and this
  month's 结案率 read from the stored figures (the metrics page).
"""

import datetime as dt
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from org.counts import Count
from org.models import Role
from org.scope import scope_for

from . import queues, stored_figures
from .filtersets import CaseFilterSet
from .models import Case
from .permissions import COMMAND_ROLES

FIELD_ROLES = (Role.COLLECTOR, Role.STREET_CHIEF)
HEADLINE_ROLES = (Role.HQ_ADMIN, Role.LEADER)


def listed(user, label: str, tone: str = "", **filters) -> Count:
    """The number of cases the case list shows ``user`` with ``filters``, and its address."""
    data = {k: str(v) for k, v in filters.items()}
    filterset = CaseFilterSet(data or None, Case.objects.visible_to(user), scope=scope_for(user))
    url = reverse("cases:list") + (f"?{urlencode(data)}" if data else "")
    return Count(label, filterset.qs.count(), url, tone)


def home_counts(user) -> list[Count]:
    scope = scope_for(user)
    counts: list[Count] = []
    if scope.has_role(*COMMAND_ROLES):
        queue = reverse("cases:dispatch_queue")
        counts += [
            Count("待立案", queues.reported().count(), queue),
            Count("待派遣", queues.to_dispatch().count(), f"{queue}?tab=dispatch"),
            Count("待核查", queues.to_verify().count(), reverse("cases:verify_queue")),
            Count("延期待批", queues.pending_extensions().count(), reverse("cases:extensions")),
        ]
    if scope.has_role(Role.HANDLER):
        units = queues.handler_unit_ids(scope)
        url = reverse("cases:unit_queue")
        counts += [
            Count("待办案件", queues.unit_parts(units).count(), url),
            Count("已超期", queues.unit_parts(units, "overdue").count(), f"{url}?state=overdue", "danger"),
            Count(
                "即将到期", queues.unit_parts(units, "due_soon").count(), f"{url}?state=due_soon", "warning"
            ),
        ]
    if scope.has_role(*HEADLINE_ROLES):
        counts += [
            listed(user, "未结案", state="open"),
            listed(user, "已超期案件", "danger", state="overdue"),
        ]
        counts.append(_close_rate(user, scope))
    elif scope.has_role(*FIELD_ROLES):
        counts += [listed(user, "我上报的案件"), listed(user, "未结案", state="open")]
    return counts


def _close_rate(user, scope) -> Count:
    """This month's 结案率 of the person's scope, from the stored figures (as the metrics page),
    with its change against last month's (a past month is stored once, as of its end)."""
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    rates = []
    for month in (this_month, last_month):
        selection = CaseFilterSet(
            QueryDict(f"month={month:%Y-%m}"), Case.objects.none(), scope=scope
        ).selection(viewer=None if scope.everything else user)
        figures, _at = stored_figures.metric_figures(selection)
        rates.append(figures["close_rate"])
    figure, before = rates
    text = "无数据" if figure.percent is None else f"{figure.percent:g}%"
    return Count(
        "本月结案率",
        figure.denominator,
        reverse("cases:metrics"),
        text=text,
        change=change_text(figure, before),
    )


def change_text(now, before) -> str:
    """较上月 in percentage points: "较上月 +3.2 个百分点", "较上月持平"; empty without both."""
    if now.percent is None or before.percent is None:
        return ""
    points = round(now.percent - before.percent, 1)
    if not points:
        return "较上月持平"
    return f"较上月 {points:+g} 个百分点"
