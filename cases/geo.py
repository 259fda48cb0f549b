"""Place: which region and grid a WGS-84 point lies in, and distances between points.

Boundaries are outer rings ``[[lng, lat], ...]`` on ``Region.boundary`` and ``Grid.boundary``.
They are read once per process with their regions and grids and kept for
``BOUNDARY_CACHE_SECONDS``; saving a region or a grid drops this process's copy at once (other
processes pick the change up when their copy expires).
"""

import copy
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from org.models import Grid, Region

BOUNDARY_CACHE_SECONDS = 300
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class _Shape:
    pk: int
    depth: int
    ring: tuple[tuple[float, float], ...]
    bbox: tuple[float, float, float, float]  # min lng, min lat, max lng, max lat


def _shape(pk: int, depth: int, ring) -> _Shape | None:
    try:
        points = tuple((float(p[0]), float(p[1])) for p in ring)
    except (TypeError, ValueError, IndexError):
        return None
    if len(points) < 3:
        return None
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    return _Shape(pk, depth, points, (min(lngs), min(lats), max(lngs), max(lats)))


_cache: dict[str, tuple[float, list[_Shape], dict[int, Region | Grid]]] = {}


def _load(kind: str) -> tuple[list[_Shape], dict[int, Region | Grid]]:
    """The shapes of ``kind`` (deepest first) and the regions or grids they belong to, by id."""
    cached = _cache.get(kind)
    if cached is not None and time.monotonic() - cached[0] < BOUNDARY_CACHE_SECONDS:
        return cached[1], cached[2]
    objects: dict[int, Region | Grid]
    if kind == "region":
        regions = list(Region.objects.filter(boundary__isnull=False))
        shapes = [_shape(r.pk, r.path.count("/"), r.boundary) for r in regions]
        objects = {r.pk: r for r in regions}
    else:
        grids = list(Grid.objects.filter(boundary__isnull=False).select_related("community"))
        shapes = [_shape(g.pk, 0, g.boundary) for g in grids]
        objects = {g.pk: g for g in grids}
    kept = sorted((s for s in shapes if s is not None), key=lambda s: -s.depth)
    _cache[kind] = (time.monotonic(), kept, objects)
    return kept, objects


def _shapes(kind: str) -> list[_Shape]:
    return _load(kind)[0]


def clear_cache() -> None:
    _cache.clear()


@receiver([post_save, post_delete], sender=Region)
@receiver([post_save, post_delete], sender=Grid)
def _boundaries_changed(sender, **kwargs) -> None:
    clear_cache()


def contains(ring: tuple[tuple[float, float], ...], lng: float, lat: float) -> bool:
    """Ray casting: is the point inside the ring (points on an edge count as inside)?"""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat):
            x_cross = xi + (lat - yi) * (xj - xi) / (yj - yi)
            if lng == x_cross:
                return True
            if lng < x_cross:
                inside = not inside
        elif yi == yj == lat and min(xi, xj) <= lng <= max(xi, xj):
            return True
        j = i
    return inside


def _hit(kind: str, lng: float, lat: float) -> int | None:
    for shape in _shapes(kind):
        min_lng, min_lat, max_lng, max_lat = shape.bbox
        if min_lng <= lng <= max_lng and min_lat <= lat <= max_lat and contains(shape.ring, lng, lat):
            return shape.pk
    return None


def locate(lat: float | Decimal, lng: float | Decimal) -> tuple[Region | None, Grid | None]:
    """The deepest region and the grid containing the point (None outside every boundary)."""
    flat, flng = float(lat), float(lng)
    region_pk = _hit("region", flng, flat)
    grid_pk = _hit("grid", flng, flat)
    # Copies of the objects read with the boundaries (no query per point): callers may change theirs.
    region = cast(Region, copy.copy(_load("region")[1][region_pk])) if region_pk else None
    grid = cast(Grid, copy.copy(_load("grid")[1][grid_pk])) if grid_pk else None
    if grid is not None and (region is None or len(grid.community.path) > len(region.path)):
        # A grid drawn inside a community without a boundary of its own still places the case there.
        region = grid.community
    return region, grid


def distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lng2) - float(lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def bounding_box(lat, lng, metres: float) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """A lat/lng box around the point that contains every point within ``metres``."""
    dlat = math.degrees(metres / EARTH_RADIUS_M)
    dlng = dlat / max(math.cos(math.radians(float(lat))), 1e-6)
    q = Decimal("0.000001")
    return (
        Decimal(float(lat) - dlat).quantize(q),
        Decimal(float(lat) + dlat).quantize(q),
        Decimal(float(lng) - dlng).quantize(q),
        Decimal(float(lng) + dlng).quantize(q),
    )
