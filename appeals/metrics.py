"""诉求化解率 (resolution rate), as DESIGN.md defines it, with satisfaction counts.

Over a period P and a set of appeals, as of a moment T (default now):

    resolved  = appeals received in P whose case was closed by T and not rated 不满意 by T
    rate      = resolved ÷ appeals received in P        (no appeals received → None, "no data")

Grouped by the case's lead unit, the area (street/township of the case's region), the category
and the channel. Every count can be opened to the appeals behind it with ``appeals_behind``.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.models import Case
from org.models import Region

from .models import Appeal

DIMENSIONS = {"unit": "责任单位", "area": "街道/乡镇", "category": "类别", "channel": "渠道"}
COUNTS = ("received", "closed", "resolved", "satisfied", "basic", "unsatisfied", "unrated", "reopened")


@dataclass
class Row:
    """The figures of one group (or of the whole set when ``key`` is None)."""

    key: str | None
    label: str
    received: int = 0
    closed: int = 0
    resolved: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    unrated: int = 0
    reopened: int = 0
    appeal_ids: list[int] = field(default_factory=list, repr=False)

    @property
    def rate(self) -> float | None:
        return self.resolved / self.received if self.received else None

    @property
    def percent(self) -> str:
        """70.30% (two decimals, as circulars print it), or 无数据 for a zero denominator."""
        return "无数据" if self.rate is None else f"{self.rate * 100:.2f}%"

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            **{c: getattr(self, c) for c in COUNTS},
            "rate": self.rate,
        }


def received_in(qs: QuerySet[Appeal], start: dt.datetime, end: dt.datetime) -> QuerySet[Appeal]:
    """Appeals received in [start, end)."""
    return qs.filter(received_at__gte=start, received_at__lt=end)


def _states(at: dt.datetime) -> dict[str, Q]:
    # A case merged into another (合并) is closed when that one is.
    closed = Q(case__status=Case.Status.CLOSED, case__closed_at__lte=at) | Q(
        case__status=Case.Status.MERGED,
        case__merged_into__status=Case.Status.CLOSED,
        case__merged_into__closed_at__lte=at,
    )
    rated = Q(rated_at__lte=at)
    unsatisfied = rated & Q(rating=Appeal.Rating.UNSATISFIED)
    return {
        "closed": closed,
        "resolved": closed & ~unsatisfied,
        "satisfied": rated & Q(rating=Appeal.Rating.SATISFIED),
        "basic": rated & Q(rating=Appeal.Rating.BASIC),
        "unsatisfied": unsatisfied,
        "unrated": closed & ~rated,
        "reopened": Q(reopen_count__gt=0),
    }


def _area_labels(region_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Region id → (code, name) of its street/township (the second level of the tree)."""
    regions = Region.objects.filter(pk__in=region_ids).only("pk", "path")
    second = {r.pk: (r.path.strip("/").split("/") + [""])[1] for r in regions}
    names = dict(Region.objects.filter(code__in=set(second.values())).values_list("code", "name"))
    return {pk: (code, names.get(code, "区级")) if code else ("", "区级") for pk, code in second.items()}


def resolution(
    qs: QuerySet[Appeal],
    start: dt.datetime,
    end: dt.datetime,
    by: str | None = None,
    at: dt.datetime | None = None,
) -> tuple[Row, list[Row]]:
    """The total and, when ``by`` names a dimension, one row per group (most received first)."""
    at = at or timezone.now()
    states = _states(at)
    base = received_in(qs, start, end)
    flags = base.values(
        "pk",
        "channel",
        "case__lead_unit_id",
        "case__lead_unit__name",
        "case__region_id",
        "case__category_id",
        "case__category__name",
        "case__category__major_name",
    )
    marked: dict[str, set[int]] = {
        name: set(base.filter(cond).values_list("pk", flat=True)) for name, cond in states.items()
    }
    rows = list(flags)
    areas = _area_labels({r["case__region_id"] for r in rows if r["case__region_id"]}) if by == "area" else {}
    channels = dict(Appeal.Channel.choices)

    def group(r: Mapping[str, Any]) -> tuple[str, str]:
        if by == "unit":
            unit_id = r["case__lead_unit_id"]
            return (str(unit_id), r["case__lead_unit__name"]) if unit_id else ("", "未派遣")
        if by == "area":
            return areas.get(r["case__region_id"], ("", "未定位")) if r["case__region_id"] else ("", "未定位")
        if by == "category":
            return str(
                r["case__category_id"]
            ), f"{r['case__category__major_name']} / {r['case__category__name']}"
        return r["channel"], channels.get(r["channel"], r["channel"])

    total = Row(None, "合计")
    groups: dict[str, Row] = defaultdict(lambda: Row(None, ""))
    for r in rows:
        targets = [total]
        if by in DIMENSIONS:
            key, label = group(r)
            row = groups[key]
            row.key, row.label = key, label
            targets.append(row)
        for row in targets:
            row.received += 1
            row.appeal_ids.append(r["pk"])
            for name, ids in marked.items():
                if r["pk"] in ids:
                    setattr(row, name, getattr(row, name) + 1)
    return total, sorted(groups.values(), key=lambda row: (-row.received, row.label))


def in_group(qs: QuerySet[Appeal], by: str, key: str) -> QuerySet[Appeal]:
    """The appeals of one row of ``resolution(..., by=by)`` (its ``key``)."""
    if by == "unit":
        return qs.filter(case__lead_unit_id=int(key)) if key else qs.filter(case__lead_unit__isnull=True)
    if by == "area":
        if key:
            return qs.filter(case__region__path__contains=f"/{key}/")
        return qs.filter(Q(case__region__isnull=True) | Q(case__region__level=Region.Level.DISTRICT))
    if by == "category":
        return qs.filter(case__category_id=key)
    if by == "channel":
        return qs.filter(channel=key)
    return qs


def appeals_behind(
    qs: QuerySet[Appeal],
    start: dt.datetime,
    end: dt.datetime,
    count: str,
    at: dt.datetime | None = None,
    by: str | None = None,
    key: str = "",
) -> QuerySet[Appeal]:
    """The appeals a figure counts (``count`` one of COUNTS), optionally of one group."""
    base = received_in(qs, start, end)
    if by in DIMENSIONS:
        base = in_group(base, by, key)
    if count == "received":
        return base
    return base.filter(_states(at or timezone.now())[count])


def resolution_by_unit(
    unit_ids: list[int], start: dt.datetime, end: dt.datetime, at: dt.datetime
) -> dict[int, tuple[list[int], list[int]]]:
    """For each unit that leads the case of an appeal received in [start, end): the ids of those
    appeals (the denominator of 诉求化解率) and of the ones resolved by ``at`` (the numerator), as
    ``resolution(..., by="unit", at=at)`` counts them. Units without appeals are left out."""
    base = received_in(Appeal.objects.filter(case__lead_unit_id__in=unit_ids), start, end)
    resolved = set(base.filter(_states(at)["resolved"]).values_list("pk", flat=True))
    out: dict[int, tuple[list[int], list[int]]] = {}
    for pk, unit_id in base.order_by("pk").values_list("pk", "case__lead_unit_id"):
        received, done = out.setdefault(unit_id, ([], []))
        received.append(pk)
        if pk in resolved:
            done.append(pk)
    return out
