"""The case map 案件地图: the cases in a map view, or grid clusters when there are many.

A view (``bbox`` in WGS-84 and a ``zoom``) with the case list's filters (``cases.filtersets``)
and the person's scope gives each case when at most ``MAP_LIMIT`` match, otherwise clusters
counted by the database over cells of a global grid (a quarter of a 256-pixel tile at the zoom,
doubled until the view holds at most ``MAP_MAX_CELLS``), cached per scope, filters, zoom and cells
for ``CASES_MAP_MAX_AGE`` seconds. Used by the API's ``map`` endpoint.
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

from org.models import User

from . import stored_figures
from .filtersets import CaseFilterSet
from .models import Case

MAP_LIMIT = 500
# A cluster cell is a quarter of a 256-pixel map tile at the zoom asked for; cells double in size
# until the view holds at most MAP_MAX_CELLS of them, so a view never returns more than that.
MAP_CELLS_PER_TILE = 4
MAP_MAX_CELLS = 400
BAD_BBOX = "bbox 应为“最小经度,最小纬度,最大经度,最大纬度”，且最小值小于最大值"
BAD_ZOOM = "zoom 应为 0 到 22 之间的整数"


def map_view(user: User, params, bbox: str, zoom: str) -> dict:
    """The answer for one view: ``{"mode": "points"|"clusters", "total", "cell"?, "items"}``."""
    box, level = _bbox(bbox), _zoom(zoom)
    filterset = CaseFilterSet(params, Case.objects.visible_to(user))
    filterset.check()
    west, south, east, north = box
    qs = filterset.qs.filter(lng__gte=west, lng__lte=east, lat__gte=south, lat__lte=north)
    rows = list(
        qs.order_by().values("pk", "number", "lat", "lng", "status", "category__name")[: MAP_LIMIT + 1]
    )
    if len(rows) <= MAP_LIMIT:
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
    cell = cell_size(box, level)
    x0, y0 = math.floor(west / cell), math.floor(south / cell)
    x1, y1 = math.floor(east / cell) + 1, math.floor(north / cell) + 1
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


def cell_size(bbox: tuple[float, float, float, float], zoom: int) -> float:
    """Degrees per cluster cell: aligned to a global grid (cells stay put while the map pans)."""
    west, south, east, north = bbox
    cell = 360 / 2**zoom / MAP_CELLS_PER_TILE
    while (math.floor(east / cell) - math.floor(west / cell) + 1) * (
        math.floor(north / cell) - math.floor(south / cell) + 1
    ) > MAP_MAX_CELLS:
        cell *= 2
    return cell


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
