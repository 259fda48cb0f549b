"""Read-side questions about tasks, shared by the pages, the API and later the assessment app:
which tasks a person may see, each task's warning level (预警), a unit's board sorted by urgency,
the 五落实 check and HQ's matrix of items × units.
"""

import datetime as dt
from dataclasses import dataclass, field
from itertools import accumulate

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from org.models import Unit
from org.scope import scope_for
from workdays.calendar import WorkCalendar

from .models import Evidence, IndexItem, IndexSystem, Task

NONE, YELLOW, RED = "", "yellow", "red"
ITEM_ORDER = ("project__position", "position", "code")
LEVEL_LABELS = {NONE: "正常", YELLOW: "黄色预警", RED: "红色预警"}


def visible_tasks(user) -> QuerySet[Task]:
    """Tasks ``user`` may see: their units' (as lead or co-unit), their region's, what they contract,
    and those where they are the responsible leader or person."""
    scope = scope_for(user)
    as_co_unit = Task.co_units.through.objects.filter(unit_id__in=scope.unit_ids).values("task_id")
    extra = Q(pk__in=as_co_unit) | Q(responsible_person=user) | Q(responsible_leader=user)
    return scope.filter(Task.objects.all(), unit="lead_unit", region="lead_unit__region", extra=extra)


def filter_tasks(
    qs: QuerySet[Task],
    *,
    system_id: int | None = None,
    state: str | None = None,
    unit_id: int | None = None,
    key: bool = False,
    item_id: int | None = None,
) -> QuerySet[Task]:
    """The filters of the board, the same on the page and in the API."""
    if system_id:
        qs = qs.filter(item__project__system_id=system_id)
    if item_id:
        qs = qs.filter(item_id=item_id)
    if state in Task.State.values:
        qs = qs.filter(state=state)
    if unit_id:
        qs = qs.filter(lead_unit_id=unit_id)
    if key:
        qs = qs.filter(is_key=True)
    return qs


def with_details(qs: QuerySet[Task]) -> QuerySet[Task]:
    return qs.select_related(
        "item__project__system", "criterion", "lead_unit", "responsible_leader", "responsible_person"
    ).prefetch_related("milestones", Prefetch("co_units", queryset=Unit.objects.order_by("code")))


@dataclass(frozen=True)
class Warning:
    level: str
    label: str
    days_left: int | None = None  # working days until the deadline; negative when overdue

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


class Warnings:
    """Warning levels of many tasks as of ``today``, reading the working-day calendar once."""

    def __init__(self, tasks: list[Task], today: dt.date | None = None):
        self.today = today or timezone.localdate()
        rules = getattr(settings, "INDICATORS_WARNINGS", {})
        self.yellow = int(rules.get("yellow_workdays", 5))
        self.red = int(rules.get("red_workdays", 1))
        days = [self.today, *(t.deadline for t in tasks if t.deadline)]
        self.start, end = min(days), max(days)
        calendar = WorkCalendar(self.start, end)
        span = (end - self.start).days
        flags = (calendar.is_workday(self.start + dt.timedelta(days=i)) for i in range(span + 1))
        self._count = list(accumulate(int(f) for f in flags))  # working days in [start, start+i]

    def _between(self, low: dt.date, high: dt.date) -> int:
        """Working days in (low, high]."""
        return self._count[(high - self.start).days] - self._count[(low - self.start).days]

    def of(self, task: Task) -> Warning:
        if task.state == Task.State.CLOSED:
            return Warning(NONE, "已销号")
        if task.deadline is None:
            return Warning(NONE, "未定时限")
        if task.deadline < self.today:
            overdue = self._between(task.deadline, self.today)
            return Warning(RED, f"逾期{overdue}个工作日" if overdue else "已逾期", -overdue)
        left = self._between(self.today, task.deadline)
        label = "今日到期" if task.deadline == self.today else f"剩{left}个工作日"
        if left <= self.red:
            return Warning(RED, label, left)
        if left <= self.yellow:
            return Warning(YELLOW, label, left)
        milestone = task.milestone_for(self.today)
        if (
            milestone is not None
            and task.progress < milestone.target
            and task.state != Task.State.CLOSE_REQUESTED
        ):
            return Warning(YELLOW, f"进度滞后（本月计划{milestone.target}%）", left)
        return Warning(NONE, label, left)


def urgency_key(task: Task, warning: Warning) -> tuple:
    """Most urgent first: open before closed, red before yellow, key items first, earliest deadline."""
    rank = {RED: 0, YELLOW: 1, NONE: 2}[warning.level]
    return (
        task.state == Task.State.CLOSED,
        task.state == Task.State.CLOSE_REQUESTED,
        rank,
        not task.is_key,
        task.deadline or dt.date.max,
        task.pk,
    )


def board(tasks: QuerySet[Task], today: dt.date | None = None) -> list[tuple[Task, Warning]]:
    """The tasks with their warnings, sorted by urgency."""
    listed = list(with_details(tasks))
    warnings = Warnings(listed, today)
    rows = [(task, warnings.of(task)) for task in listed]
    rows.sort(key=lambda pair: urgency_key(*pair))
    return rows


@dataclass
class FiveCheckRow:
    item: IndexItem
    task: Task | None
    missing: list[str] = field(default_factory=list)


def five_check(system: IndexSystem) -> list[FiveCheckRow]:
    """五落实: every item still lacking a task (任务), unit (责任), person (人员), monthly progress
    plan (进度) or deadline (时限)."""
    rows: list[FiveCheckRow] = []
    items = (
        IndexItem.objects.filter(project__system=system)
        .select_related("project")
        .order_by(*ITEM_ORDER)
        .prefetch_related(
            Prefetch(
                "tasks", queryset=Task.objects.select_related("lead_unit").prefetch_related("milestones")
            )
        )
    )
    for item in items:
        tasks = list(item.tasks.all())
        if not tasks:
            rows.append(FiveCheckRow(item, None, ["任务"]))
            continue
        for task in tasks:
            missing = [
                label
                for label, lacking in (
                    ("责任单位", task.lead_unit_id is None),
                    ("责任人", task.responsible_person_id is None),
                    ("进度计划", not task.milestones.all()),
                    ("完成时限", task.deadline is None),
                )
                if lacking
            ]
            if missing:
                rows.append(FiveCheckRow(item, task, missing))
    return rows


CELL_ORDER = ["red", "yellow", "open", "requested", "closed"]
CELL_LABELS = {
    "red": "红色预警",
    "yellow": "黄色预警",
    "open": "推进中",
    "requested": "待销号",
    "closed": "已销号",
}


def _cell_state(task: Task, warning: Warning) -> str:
    if task.state == Task.State.CLOSED:
        return "closed"
    if warning.level:
        return warning.level
    return "requested" if task.state == Task.State.CLOSE_REQUESTED else "open"


@dataclass
class Matrix:
    units: list[Unit]
    rows: list[tuple[IndexItem, list[str]]]  # per item, one cell state per unit ("" = no task)


def matrix(system: IndexSystem, tasks: QuerySet[Task], today: dt.date | None = None) -> Matrix:
    """Items × lead units, each cell the most urgent state of that unit's tasks for that item."""
    rows = board(tasks.filter(item__project__system=system, lead_unit__isnull=False), today)
    units = sorted({task.lead_unit for task, _ in rows if task.lead_unit}, key=lambda u: u.code)
    column = {unit.pk: i for i, unit in enumerate(units)}
    cells: dict[int, list[str]] = {}
    for task, warning in rows:
        line = cells.setdefault(task.item_id, [""] * len(units))
        state = _cell_state(task, warning)
        index = column[task.lead_unit.pk]  # type: ignore[union-attr]  # filtered to tasks with a lead unit
        if not line[index] or CELL_ORDER.index(state) < CELL_ORDER.index(line[index]):
            line[index] = state
    items = IndexItem.objects.filter(pk__in=cells).select_related("project").order_by(*ITEM_ORDER)
    return Matrix(units, [(item, cells[item.pk]) for item in items])


def matrix_cells(result: Matrix) -> list[tuple[IndexItem, list[tuple[Unit, str, str]]]]:
    """The matrix rows with each cell's unit and label, for the page."""
    return [
        (
            item,
            [
                (unit, state, CELL_LABELS.get(state, ""))
                for unit, state in zip(result.units, cells, strict=True)
            ],
        )
        for item, cells in result.rows
    ]


def evidence_file(user, evidence_id: int) -> FileResponse:
    """A piece of evidence for those who may see its task; 404 outside that, or if its file is gone."""
    item = get_object_or_404(Evidence.objects.filter(report__task__in=visible_tasks(user)), pk=evidence_id)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("证明材料文件已不存在") from None
    return FileResponse(handle, filename=item.name, content_type=item.content_type)
