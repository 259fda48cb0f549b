"""Recognition and figures 表彰与统计: district totals of the seed's kind, and rankings of volunteers,
teams, stations and streets by confirmed hours over a period (a month, a year).

One definition each:
- confirmed hours: ``Attendance.hours`` of records confirmed (``confirmed_at``) in the period;
- orders served: orders completed (``served_at``) in the period, by the team that served them;
- average rating: of those orders that were rated; no rated order is "no data" (None), never 0;
- activities: activities that started in the period.
A team counts under its station 所: a team of a point 站 under the station above it, a team of the
centre under the centre. A station's street is the region of the station.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, Q, Sum

from .models import Activity, Attendance, Order, Organisation, Station, Team, Volunteer

SOLVED = (Order.Status.SERVED, Order.Status.RATED)


def district_totals() -> dict[str, int | Decimal]:
    """The platform's headline figures (the seed: problems solved, people served, activities...)."""
    solved = Order.objects.filter(status__in=SOLVED).aggregate(n=Count("pk"), people=Sum("people"))
    hours = Attendance.objects.filter(confirmed_at__isnull=False).aggregate(h=Sum("hours"))["h"]
    return {
        "orders": Order.objects.count(),
        "solved": solved["n"],
        "people_served": solved["people"] or 0,
        "activities": Activity.objects.count(),
        "volunteers": Volunteer.objects.filter(is_active=True).count(),
        "organisations": Organisation.objects.count(),
        "teams": Team.objects.filter(is_active=True).count(),
        "hours": hours or Decimal(0),
    }


@dataclass
class Row:
    key: int
    label: str
    hours: Decimal = Decimal(0)
    orders: int = 0
    rated: int = 0
    rating_sum: float = 0
    activities: int = 0
    members: set = field(default_factory=set)

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rated, 2) if self.rated else None

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "hours": self.hours,
            "orders": self.orders,
            "rating": self.rating,
            "activities": self.activities,
        }


BY = {"volunteer": "志愿者", "team": "服务队", "station": "实践所", "street": "街道/乡镇"}


def ranking(by: str, start: dt.datetime, end: dt.datetime, limit: int = 50) -> list[Row]:
    """Rows for [start, end), most confirmed hours first."""
    if by not in BY:
        raise ValueError(by)
    confirmed = Attendance.objects.filter(confirmed_at__gte=start, confirmed_at__lt=end)
    if by == "volunteer":
        return _volunteers(confirmed, start, end, limit)
    teams = {t.pk: t for t in Team.objects.select_related("station__parent__region", "station__region")}
    rows: dict[int, Row] = {}

    def row_for(team_id: int | None) -> Row | None:
        if team_id is None:
            return None
        team = teams[team_id]
        station = team.station if team.station.kind != Station.Kind.POINT else team.station.parent
        key, label = {
            "team": (team.pk, team.name),
            "station": (station.pk, station.name),  # type: ignore[union-attr]
            "street": (station.region_id, station.region.name),  # type: ignore[union-attr]
        }[by]
        return rows.setdefault(key, Row(key, label))

    for lookup in ("order__team", "activity__team"):
        for item in confirmed.filter(**{f"{lookup}__isnull": False}).values(lookup).annotate(h=Sum("hours")):
            row = row_for(item[lookup])
            if row is not None:
                row.hours += item["h"] or 0
    served = Order.objects.filter(served_at__gte=start, served_at__lt=end, team__isnull=False)
    for item in served.values("team").annotate(n=Count("pk"), rated=Count("rating"), stars=Sum("rating")):
        row = row_for(item["team"])
        if row is not None:
            row.orders += item["n"]
            row.rated += item["rated"]
            row.rating_sum += item["stars"] or 0
    started = Activity.objects.filter(starts_at__gte=start, starts_at__lt=end)
    for item in started.values("team").annotate(n=Count("pk")):
        row = row_for(item["team"])
        if row is not None:
            row.activities += item["n"]
    return sorted(rows.values(), key=lambda r: (-r.hours, -r.orders, r.label))[:limit]


def _volunteers(confirmed, start: dt.datetime, end: dt.datetime, limit: int) -> list[Row]:
    top = list(
        confirmed.values("volunteer")
        .annotate(
            h=Sum("hours"),
            orders=Count("order", distinct=True),
            activities=Count("activity", distinct=True),
            rated=Count("order", filter=Q(order__rating__isnull=False), distinct=True),
            stars=Avg("order__rating"),
        )
        .order_by("-h", "volunteer")[:limit]
    )
    names = dict(
        (v.pk, f"{v.number} {v.masked_name}")
        for v in Volunteer.objects.filter(pk__in=[t["volunteer"] for t in top])
    )
    rows = []
    for item in top:
        row = Row(item["volunteer"], names[item["volunteer"]], item["h"] or Decimal(0), item["orders"])
        row.activities = item["activities"]
        # Each record is one order, so the average over the records is the average over the orders.
        row.rated, row.rating_sum = item["rated"], (item["stars"] or 0) * item["rated"]
        rows.append(row)
    return rows


def period(kind: str, on: dt.date) -> tuple[dt.date, dt.date]:
    """The month or the year containing ``on``, as [first day, first day after)."""
    if kind == "year":
        return dt.date(on.year, 1, 1), dt.date(on.year + 1, 1, 1)
    first = on.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1)
