"""Routing 派单规则: which unit a case of this category at this place should go to.

The most specific active rule wins: a rule for the case's grid beats any region rule; among
region rules the deeper region (longer path) beats the shallower; a rule without a place comes
last. With equal places, a rule naming the category beats one that does not; with everything
equal, the older rule. When no rule matches, the category's default unit kind is looked up among
the units of the case's region and its ancestors (the nearest one), or the only active unit of
that kind when there is just one. The dispatcher sees the suggestion and may override it.

``suggest_unit`` asks the database for one case; ``RoutingTable`` holds every rule in memory to
route many cases at once (imports, the demo). Both choose with the same functions below.
"""

from django.db.models import Q

from org.models import Grid, Region, Unit

from .models import Category, RoutingRule


def _ancestor_codes(region: Region) -> list[str]:
    return [code for code in region.path.strip("/").split("/") if code]


def _specificity(rule: RoutingRule) -> tuple[int, int, int, int]:
    depth = rule.region.path.count("/") if rule.region is not None else 0
    return (1 if rule.grid_id else 0, depth, 1 if rule.category_id else 0, -rule.pk)


def _applies(rule: RoutingRule, category: Category | None, region: Region | None, grid: Grid | None) -> bool:
    if rule.category_id is not None and (category is None or rule.category_id != category.pk):
        return False
    if rule.grid_id is not None and (grid is None or rule.grid_id != grid.pk):
        return False
    return rule.region is None or (region is not None and region.path.startswith(rule.region.path))


def _nearest(units: list[Unit], region: Region | None) -> Unit | None:
    """The unit of the nearest region among ``region`` and its ancestors, else the only unit."""
    if region is not None:
        codes = set(_ancestor_codes(region))
        around = [u for u in units if u.region.code in codes]
        if around:
            return max(around, key=lambda u: len(u.region.path))
    return units[0] if len(units) == 1 else None


def matching_rules(category: Category | None, region: Region | None, grid: Grid | None) -> list[RoutingRule]:
    """The active rules that apply, most specific first."""
    place = Q(region__isnull=True)
    if region is not None:
        place |= Q(region__code__in=_ancestor_codes(region))
    place &= Q(grid__isnull=True) | Q(grid=grid) if grid is not None else Q(grid__isnull=True)
    kind = (
        Q(category__isnull=True) | Q(category=category) if category is not None else Q(category__isnull=True)
    )
    rules = RoutingRule.objects.filter(place, kind, active=True, unit__is_active=True).select_related(
        "region", "unit"
    )
    return sorted((r for r in rules if _applies(r, category, region, grid)), key=_specificity, reverse=True)


def suggest_unit(category: Category | None, region: Region | None, grid: Grid | None) -> Unit | None:
    """The unit a case of ``category`` at ``region``/``grid`` should be dispatched to, or None."""
    rules = matching_rules(category, region, grid)
    if rules:
        return rules[0].unit
    if category is None or not category.default_unit_kind:
        return None
    units = Unit.objects.filter(kind=category.default_unit_kind, is_active=True).select_related("region")
    if region is not None:
        nearby = list(units.filter(region__code__in=_ancestor_codes(region)))
        if nearby:
            return _nearest(nearby, region)
    only = list(units[:2])
    return only[0] if len(only) == 1 else None


class RoutingTable:
    """Every active rule and unit read once; ``suggest`` answers as ``suggest_unit`` does."""

    def __init__(self) -> None:
        rules = RoutingRule.objects.filter(active=True, unit__is_active=True).select_related("region", "unit")
        self.rules = sorted(rules, key=_specificity, reverse=True)
        self.units_by_kind: dict[str, list[Unit]] = {}
        for unit in Unit.objects.filter(is_active=True).select_related("region").order_by("pk"):
            self.units_by_kind.setdefault(unit.kind, []).append(unit)

    def suggest(self, category: Category | None, region: Region | None, grid: Grid | None) -> Unit | None:
        for rule in self.rules:
            if _applies(rule, category, region, grid):
                return rule.unit
        if category is None or not category.default_unit_kind:
            return None
        return _nearest(self.units_by_kind.get(category.default_unit_kind, []), region)
