"""Duplicate suggestions 疑似重复: the nearest open cases of the same category near a point.

``find_duplicates`` is the search itself (recorded on the report event at intake, where it must
see every case; ``search_duplicates`` sends it with other statements). Everything shown to a
person goes through ``duplicate_suggestions`` or ``suggestions_for``: the same search limited to
what that person may see, so no page or answer names a case outside their scope.
"""

import functools
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.functions import Cast

from org.compiled import columns, compiled, instance
from org.models import User
from org.scope import scope_for

from . import geo
from .models import Case, CaseEvent, Category


def duplicate_metres() -> float:
    return float(getattr(settings, "CASE_DUPLICATE_METERS", 50))


def duplicate_limit() -> int:
    return int(getattr(settings, "CASE_DUPLICATE_LIMIT", 10))


def find_duplicates(
    category: Category,
    lat,
    lng,
    *,
    exclude: Case | None = None,
    metres: float | None = None,
    limit: int | None = None,
) -> list[Case]:
    """The nearest open cases of the same category within ``CASE_DUPLICATE_METERS``, nearest
    first, at most ``CASE_DUPLICATE_LIMIT`` (10) of them.

    The database chooses them: a bounding box on the indexed point (``case_open_category_point``:
    open cases by category, longitude, latitude), ordered by an approximate distance (metres
    east and north squared, the equirectangular approximation, exact to a fraction of a percent
    over 50 m) with a LIMIT, so a hot spot with thousands of open reports at one place costs one
    query returning ``limit`` rows, never every candidate measured in Python. The exact distance
    then drops the box's corners."""
    return search_duplicates(category, lat, lng, exclude=exclude, metres=metres, limit=limit)()


def search_duplicates(
    category: Category,
    lat,
    lng,
    *,
    exclude: Case | None = None,
    metres: float | None = None,
    limit: int | None = None,
) -> Callable[[], list[Case]]:
    """``find_duplicates``' query sent now; the function returned reads its answer (so the search
    can go to the database with other statements: ``org.compiled.together``)."""
    radius = duplicate_metres() if metres is None else metres
    lat_min, lat_max, lng_min, lng_max = geo.bounding_box(lat, lng, radius)
    east = math.cos(math.radians(float(lat)))
    count = duplicate_limit() if limit is None else limit
    arguments: list[Any] = [category.pk, lat_min, lat_max, lng_min, lng_max, float(lat), float(lng), east]
    if exclude is not None:
        arguments.append(exclude.pk)
    search = compiled(
        ("duplicates", count, exclude is not None),
        functools.partial(_nearest, count),
        _MARKS[: len(arguments)],
    )
    read = search.send(arguments)

    def nearest_within_radius() -> list[Case]:
        nearest = []
        for row in read():
            case = instance(Case, search.db, row)
            case.category = category  # all of the one category asked for: no join for it
            nearest.append(case)
        near = [(geo.distance_m(lat, lng, c.lat, c.lng), c) for c in nearest]
        return [c for d, c in sorted(near, key=lambda x: (x[0], x[1].pk)) if d <= radius]

    return nearest_within_radius


# The search, compiled once per process and shape (``org.compiled``): Django building the distance
# expression cost more than the database answering it. Its marker arguments are values no search
# sends (a negative category and case, latitudes and longitudes beyond ±180).
_MARKS: list[Any] = [
    -7_310_001,
    Decimal("-191.000001"),
    Decimal("-191.000002"),
    Decimal("-191.000003"),
    Decimal("-191.000004"),
    -7_310_001.25,
    -7_310_002.25,
    -7_310_003.25,
    -7_310_002,
]


def _nearest(count: int, marks: list[Any]) -> QuerySet:
    category_id, lat_min, lat_max, lng_min, lng_max, lat, lng, east = marks[:8]
    dlat = Cast(F("lat"), FloatField()) - Value(lat)
    dlng = (Cast(F("lng"), FloatField()) - Value(lng)) * Value(east)
    candidates = Case.objects.open().filter(
        category_id=category_id, lat__range=(lat_min, lat_max), lng__range=(lng_min, lng_max)
    )
    if len(marks) > 8:
        candidates = candidates.exclude(pk=marks[8])
    return (
        candidates.alias(approx=dlat * dlat + dlng * dlng)
        .order_by("approx", "pk")
        .values(*columns(Case))[:count]
    )


def duplicate_suggestions(
    user: User | None, category: Category, lat, lng, *, exclude: Case | None = None
) -> list[Case]:
    """The open cases near a point that ``user`` may see (the report page's live check)."""
    return visible(user, find_duplicates(category, lat, lng, exclude=exclude))


def visible(user: User | None, found: list[Case]) -> list[Case]:
    """Those of ``found`` that ``user`` may see, in their order (no query when none were found)."""
    if not found:
        return []
    if user is not None and scope_for(user).everything:
        return list(found)  # what ``visible_to`` would not narrow
    seen = set(
        Case.objects.visible_to(user).filter(pk__in=[c.pk for c in found]).values_list("pk", flat=True)
    )
    return [c for c in found if c.pk in seen]


def suggestions_for(
    user: User | None, cases: list[Case], events: list[CaseEvent] | None = None
) -> dict[int, list[Case]]:
    """Per case, the duplicates found when it was reported that are still open and that ``user``
    may see (for the dispatch queue, the case page and the API): two queries for any number, one
    when the caller has the cases' report events in hand already (``events``)."""
    if events is None:
        events = list(CaseEvent.objects.filter(case__in=cases, action=CaseEvent.Action.REPORT))
    found = {e.case_id: e.data for e in events if e.action == CaseEvent.Action.REPORT}
    wanted = {pk for data in found.values() for pk in (data or {}).get("duplicates", [])}
    open_dups = {c.pk: c for c in _open_cases(user, sorted(wanted))} if wanted else {}
    return {
        case.pk: [open_dups[pk] for pk in (found.get(case.pk) or {}).get("duplicates", []) if pk in open_dups]
        for case in cases
    }


# At most ``duplicate_limit()`` ids a report; the markers are ids no case has.
_ID_MARKS = [-7_310_100 - k for k in range(64)]


def _open_by_ids(marks: list) -> QuerySet:
    return (
        Case.objects.open()
        .filter(pk__in=marks)
        .order_by()
        .values(*columns(Case), *columns(Category, "category__"))
    )


def _open_cases(user: User | None, ids: list[int]) -> list[Case]:
    """The open cases among ``ids`` that ``user`` may see, with their categories. For a
    district-wide person (no scope to apply) one query compiled once per number of ids, as the
    case detail asks it on every reported case; for others through ``visible_to``."""
    if user is None or not scope_for(user).everything or len(ids) > len(_ID_MARKS):
        return list(Case.objects.visible_to(user).open().filter(pk__in=ids).select_related("category"))
    query = compiled(("duplicates.open_by_ids", len(ids)), _open_by_ids, _ID_MARKS[: len(ids)])
    return [instance(Case, query.db, row, related=("category",)) for row in query.rows(ids)]
