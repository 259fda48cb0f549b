"""Routing 派单规则: which unit a case of this category at this place should go to.

The most specific active rule wins: a rule for the case's grid beats any region rule; among
region rules the deeper region (longer path) beats the shallower; a rule without a place comes
last. With equal places, a rule naming the category beats one that does not. When no rule
matches, the category's default unit kind is looked up among the territorial units of the
case's region and its ancestors (the nearest one), or any active unit of that kind when it is
the only one. The dispatcher sees the suggestion and may override it.
"""

from django.db.models import Q

from org.models import Grid, Region, Unit

from .models import Category, RoutingRule


def _specificity(rule: RoutingRule) -> tuple[int, int, int]:
    depth = rule.region.path.count("/") if rule.region is not None else 0
    return (1 if rule.grid_id else 0, depth, 1 if rule.category_id else 0)


def matching_rules(category: Category | None, region: Region | None, grid: Grid | None) -> list[RoutingRule]:
    """The active rules that apply, most specific first."""
    place = Q(region__isnull=True)
    if region is not None:
        ancestor_codes = [code for code in region.path.strip("/").split("/") if code]
        place |= Q(region__code__in=ancestor_codes)
    place &= Q(grid__isnull=True) | Q(grid=grid) if grid is not None else Q(grid__isnull=True)
    kind = (
        Q(category__isnull=True) | Q(category=category) if category is not None else Q(category__isnull=True)
    )
    rules = list(
        RoutingRule.objects.filter(place, kind, active=True, unit__is_active=True).select_related(
            "region", "unit"
        )
    )
    return sorted(rules, key=lambda r: (_specificity(r), -r.pk), reverse=True)


def _default_unit(category: Category, region: Region | None) -> Unit | None:
    if not category.default_unit_kind:
        return None
    units = Unit.objects.filter(kind=category.default_unit_kind, is_active=True)
    if region is not None:
        ancestor_codes = [code for code in region.path.strip("/").split("/") if code]
        nearest = sorted(
            units.filter(region__code__in=ancestor_codes).select_related("region"),
            key=lambda u: len(u.region.path),
            reverse=True,
        )
        if nearest:
            return nearest[0]
    only = list(units[:2])
    return only[0] if len(only) == 1 else None


def suggest_unit(category: Category | None, region: Region | None, grid: Grid | None) -> Unit | None:
    """The unit a case of ``category`` at ``region``/``grid`` should be dispatched to, or None."""
    rules = matching_rules(category, region, grid)
    if rules:
        return rules[0].unit
    return _default_unit(category, region) if category is not None else None
