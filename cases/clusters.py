"""The case map 案件地图: the cases in a map view, or grid clusters when there are many.

A view (``bbox`` in WGS-84 and a ``zoom``) with the case list's filters (``cases.filtersets``)
and the person's scope gives each case in the view when the grid cells it touches hold at most
``MAP_LIMIT`` matching cases, otherwise clusters over the cells of a global grid (a quarter of a 256-pixel tile at the zoom, doubled until the view
holds at most ``MAP_MAX_CELLS``). Clusters come from the kept per-cell counts
(``cases.mapcells``: exact, a sum over the view's cells whatever the number of cases) when the
person sees the whole district and the filters are ones the counts keep (status, open, region,
report dates); otherwise the database counts the matching cases per cell, cached
per scope, filters, zoom and cells for ``CASES_MAP_MAX_AGE`` seconds. Used by the API's ``map``
endpoint.
"""

import hashlib
import math

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, FloatField, QuerySet
from django.db.models.functions import Cast, Floor
from django.urls import reverse
from django.utils import timezone

from org.models import Region, User
from org.scope import scope_for

from . import mapcells, stored_figures
from .filtersets import CaseFilterSet
from .models import Case

MAP_LIMIT = 500
# A cluster cell is a quarter of a 256-pixel map tile at the zoom asked for; cells double in size
# until the view holds at most MAP_MAX_CELLS of them, so a view never returns more than that.
MAP_MAX_CELLS = 400
BAD_BBOX = "bbox 应为“最小经度,最小纬度,最大经度,最大纬度”，且最小值小于最大值"
BAD_ZOOM = "zoom 应为 0 到 22 之间的整数"


def map_view(user: User, params, bbox: str, zoom: str) -> dict:
    """The answer for one view: ``{"mode": "points"|"clusters", "total", "cell"?, "items"}``."""
    box, zoom_level = _bbox(bbox), _zoom(zoom)
    filterset = CaseFilterSet(params, Case.objects.visible_to(user))
    filterset.check()
    west, south, east, north = box
    level = grid_level(box, zoom_level)
    cell = mapcells.cell_size(level)
    x0, y0 = math.floor(west / cell), math.floor(south / cell)
    x1, y1 = math.floor(east / cell) + 1, math.floor(north / cell) + 1
    selection = kept_selection(user, filterset)
    kept = mapcells.clusters(level, x0, y0, x1, y1, selection) if selection is not None else None
    if kept is not None:
        # The kept counts of the view's whole cells: clusters when they hold more than the
        # limit; otherwise their cases, looked for only in the cells that hold some and by the
        # filters' own columns (region ids, not the region path), so a sparse view stays a seek.
        total = sum(c.count for c in kept)
        if total > MAP_LIMIT:
            found = [{"lat": c.lat, "lng": c.lng, "count": c.count} for c in kept]
            return {"mode": "clusters", "total": total, "cell": cell, "items": found}
        if not kept:
            return {"mode": "points", "total": 0, "items": []}
        assert selection is not None
        west = max(west, min(c.cx for c in kept) * cell)
        east = min(east, (max(c.cx for c in kept) + 1) * cell)
        south = max(south, min(c.cy for c in kept) * cell)
        north = min(north, (max(c.cy for c in kept) + 1) * cell)
        qs = selection.cases(Case.objects.all()).filter(
            lng__gte=west, lng__lte=east, lat__gte=south, lat__lte=north
        )
    else:
        # The same rule as the kept counts': points when the view's whole cells hold at most
        # the limit (so a view answers alike whichever way it is counted), those in the view shown.
        qs = filterset.qs.filter(lng__gte=x0 * cell, lng__lt=x1 * cell, lat__gte=y0 * cell, lat__lt=y1 * cell)
    rows = list(
        qs.order_by().values("pk", "number", "lat", "lng", "status", "category__name")[: MAP_LIMIT + 1]
    )
    if len(rows) <= MAP_LIMIT:
        rows = [r for r in rows if west <= r["lng"] <= east and south <= r["lat"] <= north]
        items = [
            {
                "id": r["pk"],
                "number": r["number"],
                "lat": float(r["lat"]),
                "lng": float(r["lng"]),
                "status": r["status"],
                "label": f"{r['number']} {r['category__name']}",
                "url": reverse("cases:detail", args=[r["pk"]]),
            }
            for r in rows
        ]
        return {"mode": "points", "total": len(items), "items": items}
    # Clusters: counted over the view widened to whole cells of the global grid, so every view
    # with the same cells, zoom, filters and scope gets the same answer, cached for
    # CASES_MAP_MAX_AGE seconds (a district-wide view reads every case in it).
    filters = sorted((k, v) for k, vs in params.lists() if k not in ("bbox", "zoom") for v in vs)
    raw = repr((stored_figures.scope_key(user, timezone.now()), filters, level, cell, x0, y0, x1, y1))
    key = "cases:map:" + hashlib.sha256(raw.encode()).hexdigest()
    answer = cache.get(key)
    if answer is None:
        answer = _clusters(
            filterset.qs.filter(lng__gte=x0 * cell, lng__lt=x1 * cell, lat__gte=y0 * cell, lat__lt=y1 * cell),
            cell,
        )
        cache.set(key, answer, map_max_age())
    return answer


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise ValidationError(BAD_BBOX) from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValidationError(BAD_BBOX)
    return west, south, east, north


def _zoom(text: str) -> int:
    try:
        zoom = int(text)
    except ValueError as exc:
        raise ValidationError(BAD_ZOOM) from exc
    if not 0 <= zoom <= 22:
        raise ValidationError(BAD_ZOOM)
    return zoom


def grid_level(bbox: tuple[float, float, float, float], zoom: int) -> int:
    """The level of the cluster cells (``mapcells.cell_size``): a quarter tile at ``zoom``, made
    coarser until the view holds at most ``MAP_MAX_CELLS``. The grid is global, so cells stay put
    while the map pans."""
    west, south, east, north = bbox
    level = zoom  # a quarter of a tile: 360 / 2**zoom / 4 degrees = 90 / 2**zoom
    while True:
        cell = mapcells.cell_size(level)
        cells = (math.floor(east / cell) - math.floor(west / cell) + 1) * (
            math.floor(north / cell) - math.floor(south / cell) + 1
        )
        if cells <= MAP_MAX_CELLS:
            return level
        level -= 1


def cell_size(bbox: tuple[float, float, float, float], zoom: int) -> float:
    """Degrees per cluster cell of the view."""
    return mapcells.cell_size(grid_level(bbox, zoom))


# The filters the kept counts answer (``kept_selection``); any other sends the view to the cases.
KEPT_FILTERS = frozenset({"status", "state", "region", "date_field", "start", "end", "due_soon_hours"})


def kept_selection(user: User, filterset: CaseFilterSet) -> mapcells.Selection | None:
    """What the kept per-cell counts must add up for this view, or None when they cannot answer:
    a scope short of the whole district (its edges are units and grids, not cells), or a filter
    they do not keep (a unit, category, text, a state other than open, dates other than the
    report's)."""
    if not scope_for(user).everything:
        return None
    data = filterset.data_used
    if any(value not in (None, "", []) for name, value in data.items() if name not in KEPT_FILTERS):
        return None
    statuses: set[str] | None = {s for s in data.get("status") or [] if s} or None
    state = data.get("state")
    if state == "open":
        statuses = (statuses or set(Case.Status.values)) & set(Case.OPEN_STATUSES)
    elif state:
        return None
    regions = None
    if region := data.get("region"):
        regions = frozenset(Region.objects.filter(path__startswith=region.path).values_list("pk", flat=True))
    lo, hi = filterset.date_range()  # local midnights
    if (lo or hi) and (data.get("date_field") or "reported") != "reported":
        return None
    return mapcells.Selection(
        statuses=frozenset(statuses) if statuses is not None else None,
        regions=regions,
        date_from=timezone.localtime(lo).date() if lo else None,
        date_to=timezone.localtime(hi).date() if hi else None,
        reported_from=lo,
        reported_to=hi,
    )


def map_max_age() -> int:
    return getattr(settings, "CASES_MAP_MAX_AGE", 60)


def _clusters(qs: QuerySet[Case], cell: float) -> dict:
    cells = (
        qs.order_by()
        .annotate(
            cx=Floor(Cast("lng", FloatField()) / cell),
            cy=Floor(Cast("lat", FloatField()) / cell),
        )
        .values("cx", "cy")
        .annotate(count=Count("pk"), lat=Avg(Cast("lat", FloatField())), lng=Avg(Cast("lng", FloatField())))
    )
    clusters = [{"lat": c["lat"], "lng": c["lng"], "count": c["count"]} for c in cells]
    return {"mode": "clusters", "total": sum(c["count"] for c in clusters), "cell": cell, "items": clusters}
