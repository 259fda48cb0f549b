"""The dashboard's charts 数据看板 and the command-centre screen's figures 指挥中心大屏.

Every figure is an aggregate query over the viewer's cases (``Case.objects.visible_to``), the
stored monthly metrics (``cases.stored_figures``) or one grouped count, so the cost stays a fixed
number of queries whatever the number of cases. Every data point of the dashboard carries the
address of the list behind it, with that list's own filter parameters (the case list's
``CaseFilterSet``, the task board's filters, the appeal list's figure filter), so the number on
the chart is the length of the list it opens.
"""

import datetime as dt
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from appeals import metrics as appeal_metrics
from appeals.models import Appeal
from cases import metrics as case_metrics
from cases import stored_figures
from cases.models import Case, CaseQuerySet
from indicators import queries as task_queries
from indicators.models import IndexSystem, Task
from inspections import scoring
from inspections.models import Inspection
from materials import figures as material_figures
from org.models import Region, User
from org.scope import Scope
from workdays.periods import days, month_bounds

WEEKS = 12
MONTHS = 6
TOP = 10
# Backlog ages in days since the report: (label, oldest day offset, newest day offset).
AGE_BUCKETS = (
    ("3天内", 2, 0),
    ("3–7天", 6, 3),
    ("8–30天", 29, 7),
    ("30天以上", None, 30),
)
ON_TIME_METRIC = "handle_on_time_rate"


@dataclass
class Point:
    value: float | None
    url: str = ""


@dataclass
class Series:
    name: str
    data: list[Point] = field(default_factory=list)
    kind: str = "bar"  # bar or line
    stack: str = ""
    unit: str = "件"


@dataclass
class Chart:
    key: str
    title: str
    categories: list[str]
    series: list[Series]
    horizontal: bool = False
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _cases_url(**params) -> str:
    return reverse("cases:list") + "?" + urlencode({k: str(v) for k, v in params.items()})


def _day(d: dt.date) -> str:
    return d.isoformat()


def _local_midnight(d: dt.date) -> dt.datetime:
    return days(d, d)[0]


def weekly_flow(cases: CaseQuerySet, today: dt.date, weeks: int = WEEKS) -> Chart:
    """Cases received (reported) and closed in each of the last ``weeks`` weeks (Monday–Sunday)."""
    first = today - dt.timedelta(days=today.weekday() + 7 * (weeks - 1))
    mondays = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    bounds = [(_local_midnight(m), _local_midnight(m + dt.timedelta(days=7))) for m in mondays]
    since = bounds[0][0]
    received = cases.filter(reported_at__gte=since).aggregate(
        **{
            f"w{i}": Count("pk", filter=Q(reported_at__gte=lo, reported_at__lt=hi))
            for i, (lo, hi) in enumerate(bounds)
        }
    )
    closed = cases.filter(closed_at__gte=since).aggregate(
        **{
            f"w{i}": Count("pk", filter=Q(closed_at__gte=lo, closed_at__lt=hi))
            for i, (lo, hi) in enumerate(bounds)
        }
    )
    series = []
    for name, counts, date_field in (("上报", received, "reported"), ("结案", closed, "closed")):
        series.append(
            Series(
                name,
                [
                    Point(
                        counts[f"w{i}"],
                        _cases_url(date_field=date_field, start=_day(m), end=_day(m + dt.timedelta(days=6))),
                    )
                    for i, m in enumerate(mondays)
                ],
                kind="bar" if date_field == "reported" else "line",
            )
        )
    return Chart(
        "weekly", "每周上报与结案", [f"{m.month}/{m.day}" for m in mondays], series, note="按周一至周日统计"
    )


def _months(today: dt.date, months: int) -> list[tuple[int, int]]:
    out = []
    year, month = today.year, today.month
    for _ in range(months):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def on_time_rate(viewer: User | None, today: dt.date, months: int = MONTHS) -> Chart:
    """按期处置率 of each of the last ``months`` months, from the stored monthly metrics (a past
    month is computed once and kept; the current one refreshes at most every minute)."""
    points = []
    labels = []
    for year, month in _months(today, months):
        start, end = month_bounds(year, month)
        selection = case_metrics.select(start, end, at=min(end, timezone.now()), viewer=viewer)
        figures, _at = stored_figures.metric_figures(selection)
        figure = figures[ON_TIME_METRIC]
        labels.append(f"{year}年{month}月")
        points.append(
            Point(
                figure.percent,
                _cases_url(month=f"{year}-{month:02d}", metric=ON_TIME_METRIC, side="denominator"),
            )
        )
    return Chart(
        "on_time",
        "每月按期处置率",
        labels,
        [Series("按期处置率", points, kind="line", unit="%")],
        note="点击查看当月应处置案件",
    )


def backlog_by_age(cases: CaseQuerySet, today: dt.date) -> Chart:
    """Open cases by the days since they were reported."""
    conditions = {}
    urls = []
    for i, (_label, oldest, newest) in enumerate(AGE_BUCKETS):
        q = Q(reported_at__lt=_local_midnight(today - dt.timedelta(days=newest - 1)))
        params: dict[str, str] = {"state": "open", "date_field": "reported"}
        if oldest is not None:
            q &= Q(reported_at__gte=_local_midnight(today - dt.timedelta(days=oldest)))
            params["start"] = _day(today - dt.timedelta(days=oldest))
        params["end"] = _day(today - dt.timedelta(days=newest))
        conditions[f"b{i}"] = Count("pk", filter=q)
        urls.append(_cases_url(**params))
    counts = cases.open().aggregate(**conditions)
    points = [Point(counts[f"b{i}"], urls[i]) for i in range(len(AGE_BUCKETS))]
    return Chart("backlog", "未结案件账龄", [b[0] for b in AGE_BUCKETS], [Series("未结案件", points)])


def worst_categories(cases: CaseQuerySet) -> Chart:
    """The categories with the most overdue cases."""
    rows = list(
        cases.overdue()
        .values("category_id", "category__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "category__name")[:TOP]
    )
    rows.reverse()  # a horizontal bar chart draws its first category at the bottom
    return Chart(
        "categories",
        "超期案件最多的类别",
        [r["category__name"] for r in rows],
        [
            Series(
                "已超期",
                [Point(r["n"], _cases_url(state="overdue", category=r["category_id"])) for r in rows],
            )
        ],
        horizontal=True,
    )


def _street_path(path: str) -> str | None:
    """The path of the street or township a region lies in ("/district/street/"), or None for
    the district itself."""
    parts = [p for p in path.split("/") if p]
    return f"/{parts[0]}/{parts[1]}/" if len(parts) >= 2 else None


def by_area(cases: CaseQuerySet) -> tuple[list[tuple[Region, int, int]], int]:
    """Open and overdue cases per street or township (most overdue first), and the open cases
    located nowhere below the district. One grouped query over the open cases and one for the
    regions."""
    now = timezone.now()
    rows = (
        cases.open()
        .values("region__path")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=Q(status__in=Case.TIMED_STATUSES, due_at__lt=now)),
        )
        .order_by()
    )
    totals: dict[str, list[int]] = {}
    unplaced = 0
    for r in rows:
        street = _street_path(r["region__path"] or "")
        if street is None:
            unplaced += r["n"]
            continue
        pair = totals.setdefault(street, [0, 0])
        pair[0] += r["n"]
        pair[1] += r["late"]
    regions = {r.path: r for r in Region.objects.filter(path__in=totals)}
    areas = [(regions[p], n, late) for p, (n, late) in totals.items() if p in regions]
    areas.sort(key=lambda a: (-a[2], -a[1], a[0].path))
    return areas, unplaced


def worst_areas(areas: list[tuple[Region, int, int]]) -> Chart:
    rows = [a for a in areas if a[2]][:TOP][::-1]
    return Chart(
        "areas",
        "超期案件最多的街道/乡镇",
        [region.name for region, _n, _late in rows],
        [
            Series(
                "已超期",
                [Point(late, _cases_url(state="overdue", region=region.pk)) for region, _n, late in rows],
            )
        ],
        horizontal=True,
    )


TASK_STATES = (
    (Task.State.CLOSED, "已销号"),
    (Task.State.CLOSE_REQUESTED, "待销号审核"),
    (Task.State.IN_PROGRESS, "推进中"),
    (Task.State.ASSIGNED, "已分解"),
)


# How the task-progress charts group the tasks: the grouping column, its label columns, the
# task board's filter that opens one group, and the chart's key and title.
TASK_GROUPS = {
    "item": ("item_id", ("item__code", "item__name"), "item", "tasks", "任务进度（销号最少的测评内容）"),
    "unit": ("lead_unit_id", ("lead_unit__name",), "unit", "task_units", "任务进度（销号最少的牵头单位）"),
}


def task_progress(user: User | None, system: IndexSystem | None, by: str = "item") -> Chart | None:
    """The active index system's tasks per item (or lead unit) by state, the least finished
    first; each part opens the task board filtered to that item (or unit) and state. ``user``
    None: district-wide."""
    if system is None:
        return None
    column, label_columns, board_filter, key, title = TASK_GROUPS[by]
    visible = Task.objects.all() if user is None else task_queries.visible_tasks(user)
    tasks = task_queries.filter_tasks(visible, system_id=system.pk)
    rows = (
        tasks.filter(**{f"{column}__isnull": False})
        .values(column, *label_columns, "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    groups: dict[int, dict] = {}
    for r in rows:
        label = " ".join(str(r[c]) for c in label_columns)
        group = groups.setdefault(r[column], {"label": label, "states": {}})
        group["states"][r["state"]] = r["n"]
    if not groups:
        return None

    def done(entry: dict) -> float:
        total = sum(entry["states"].values())
        return entry["states"].get(Task.State.CLOSED, 0) / total

    chosen = sorted(groups.items(), key=lambda kv: (done(kv[1]), -sum(kv[1]["states"].values())))[:TOP][::-1]
    board = reverse("indicators:board")
    series = [
        Series(
            label,
            [
                Point(
                    entry["states"].get(state, 0),
                    f"{board}?{urlencode({'system': system.pk, board_filter: pk, 'state': state})}",
                )
                for pk, entry in chosen
            ],
            stack="tasks",
        )
        for state, label in TASK_STATES
    ]
    return Chart(
        key,
        title,
        [_short(entry["label"]) for _pk, entry in chosen],
        series,
        horizontal=True,
        note=str(system),
    )


def _short(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def appeal_resolution(user: User | None, today: dt.date, months: int = MONTHS) -> Chart:
    """Appeals received per month and their 化解率 (DESIGN.md's definition, ``appeals.metrics``);
    ``user`` None: district-wide."""
    visible = Appeal.objects.all()
    if user is not None:
        visible = visible.filter(case__in=Case.objects.visible_to(user))
    received_points, rate_points, labels = [], [], []
    appeals_url = reverse("appeals:list")
    for year, month in _months(today, months):
        first = dt.date(year, month, 1)
        last = min(timezone.localtime(month_bounds(year, month)[1]).date() - dt.timedelta(days=1), today)
        start, end = days(first, last)
        period = {"start": _day(first), "end": _day(last)}
        counts = appeal_metrics.received_in(visible, start, end).aggregate(n=Count("pk"))
        resolved = appeal_metrics.appeals_behind(visible, start, end, "resolved").count()
        received = counts["n"]
        labels.append(f"{year}年{month}月")
        received_points.append(Point(received, f"{appeals_url}?{urlencode({'count': 'received', **period})}"))
        rate_points.append(
            Point(
                round(resolved * 100 / received, 2) if received else None,
                f"{appeals_url}?{urlencode({'count': 'resolved', **period})}",
            )
        )
    return Chart(
        "appeals",
        "群众诉求化解率",
        labels,
        [Series("受理诉求", received_points), Series("化解率", rate_points, kind="line", unit="%")],
    )


def inspection_scores(user: User | None, today: dt.date, months: int = MONTHS) -> Chart:
    """Inspections submitted per month (of those the person may read; ``user`` None:
    district-wide) and their average score rate 督查平均得分率 (``inspections.scoring.average_percent``);
    each point opens the records."""
    inspections = Inspection.objects.all()
    visible = (inspections if user is None else inspections.visible_to(user)).filter(
        submitted_at__isnull=False
    )
    periods = []
    for year, month in _months(today, months):
        first = dt.date(year, month, 1)
        last = timezone.localtime(month_bounds(year, month)[1]).date() - dt.timedelta(days=1)
        periods.append((year, month, first, last, *days(first, last)))
    # One query for the whole window, bucketed by month here.
    window = visible.filter(submitted_at__gte=periods[0][4], submitted_at__lt=periods[-1][5])
    rows = list(window.only("submitted_at", "score", "full_points"))
    counts, rates, labels = [], [], []
    records = reverse("inspections:inspections")
    for year, month, first, last, start, end in periods:
        in_month = [i for i in rows if start <= i.submitted_at < end]
        url = f"{records}?{urlencode({'start': _day(first), 'end': _day(last)})}"
        labels.append(f"{year}年{month}月")
        counts.append(Point(len(in_month), url))
        average = scoring.average_percent(in_month)
        rates.append(Point(None if average is None else float(average), url))
    return Chart(
        "inspections",
        "实地督查平均得分率",
        labels,
        [Series("督查点位次", counts, unit="次"), Series("平均得分率", rates, kind="line", unit="%")],
    )


def material_ranking(scope: Scope, today: dt.date) -> Chart:
    """Last month's 网报资料 score rate of the units ranked lowest (in the person's scope); each bar
    opens that unit's submissions of the month."""
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    rows = material_figures.monthly(month, "unit", None if scope.everything else scope.units())
    rows = [r for r in rows if r.points][-TOP:][::-1]
    listed = reverse("materials:submissions")
    return Chart(
        "materials",
        f"{month.year}年{month.month}月网报资料得分率（排名靠后的单位）",
        [_short(r.name) for r in rows],
        [
            Series(
                "得分率",
                [
                    Point(
                        round(float(r.score * 100 / r.points), 2),
                        f"{listed}?{urlencode({'month': f'{month:%Y-%m}', 'unit': r.key})}",
                    )
                    for r in rows
                ],
                unit="%",
            )
        ],
        horizontal=True,
    )


def dashboard(user: User | None, scope: Scope) -> dict:
    """Every chart of the dashboard, for ``user`` within ``scope``, or district-wide when
    ``scope`` is everything (the same for every district-wide viewer, so ``user`` may be None:
    the worker computes it for nobody in particular)."""
    today = timezone.localdate()
    viewer = None if scope.everything else user
    cases = Case.objects.all() if viewer is None else Case.objects.visible_to(viewer)
    areas, _unplaced = by_area(cases)
    system = IndexSystem.active()
    charts = [
        weekly_flow(cases, today),
        on_time_rate(viewer, today),
        backlog_by_age(cases, today),
        worst_categories(cases),
        worst_areas(areas),
        task_progress(viewer, system),
        task_progress(viewer, system, by="unit"),
        appeal_resolution(viewer, today),
        inspection_scores(viewer, today),
        material_ranking(scope, today),
    ]
    return {
        "at": timezone.now(),
        "scope": "全区" if scope.everything else "包保区域",
        "charts": [c.as_dict() for c in charts if c is not None],
    }


def screen() -> dict:
    """The command-centre screen's figures, district-wide: today's intake and closings, open and
    overdue cases by area (for the map), rankings and warnings."""
    now = timezone.now()
    today = timezone.localdate()
    midnight = _local_midnight(today)
    cases: CaseQuerySet = Case.objects.all()
    headline = cases.filter(reported_at__gte=midnight).aggregate(received_today=Count("pk"))
    headline.update(cases.filter(closed_at__gte=midnight).aggregate(closed_today=Count("pk")))
    headline.update(
        cases.open().aggregate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(status__in=Case.TIMED_STATUSES, due_at__lt=now)),
        )
    )
    areas, unplaced = by_area(cases)
    units = list(
        cases.overdue()
        .filter(lead_unit__isnull=False)
        .values("lead_unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "lead_unit__name")[:TOP]
    )
    late = list(cases.overdue().select_related("category", "region").order_by("due_at")[:8])
    system = IndexSystem.active()
    late_tasks = 0
    if system is not None:
        tasks = task_queries.filter_tasks(Task.objects.all(), system_id=system.pk).exclude(
            state=Task.State.CLOSED
        )
        late_tasks = tasks.filter(deadline__lt=today).count()
    return {
        "at": now,
        "headline": {**headline, "unplaced": unplaced, "late_tasks": late_tasks},
        "areas": [
            {"name": r.name, "lat": r.lat, "lng": r.lng, "boundary": r.boundary, "open": n, "overdue": o}
            for r, n, o in areas
        ],
        "unit_ranking": [{"name": u["lead_unit__name"], "overdue": u["n"]} for u in units],
        "warnings": [
            {
                "number": c.number,
                "category": c.category.name,
                "area": c.region.name if c.region else "",
                "hours": int((now - c.due_at).total_seconds() // 3600) if c.due_at else 0,
            }
            for c in late
        ],
        "weekly": weekly_flow(cases, today).as_dict(),
    }
