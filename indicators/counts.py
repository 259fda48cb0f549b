"""The task warnings on a person's home page 首页: the tasks of the active system with a red or
yellow warning, counted on the same board rows the task board lists under ``?level=``."""

from collections import Counter

from django.urls import reverse

from org.counts import Count

from . import queries
from .models import IndexSystem


def home_counts(user) -> list[Count]:
    system = IndexSystem.active()
    if system is None:
        return []
    tasks = queries.filter_tasks(queries.visible_tasks(user), system_id=system.pk)
    if not tasks.exists():
        return []
    levels = Counter(warning.level for _task, warning in queries.board(tasks))
    url = reverse("indicators:board")
    return [
        Count("红色预警任务", levels[queries.RED], f"{url}?level={queries.RED}", "danger"),
        Count("黄色预警任务", levels[queries.YELLOW], f"{url}?level={queries.YELLOW}", "warning"),
    ]
