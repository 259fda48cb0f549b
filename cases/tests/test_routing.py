"""Routing: the most specific rule wins; without a rule, the category's default unit kind."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.models import Category, RoutingRule
from cases.routing import RoutingTable, suggest_unit
from cases.tests.factories import CategoryFactory, RoutingRuleFactory
from org.models import Unit
from org.tests.factories import GridFactory, UnitFactory, region_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    tree = region_tree()
    grid = GridFactory(community=tree["c1"])
    other_grid = GridFactory(community=tree["c1"])
    return {
        **tree,
        "grid": grid,
        "other_grid": other_grid,
        "cat": CategoryFactory(),
        "cat2": CategoryFactory(),
    }


def test_no_rule_and_no_default_kind_suggests_nothing(world):
    assert suggest_unit(world["cat"], world["c1"], world["grid"]) is None


def test_grid_beats_region_beats_shallower_region_beats_category_only(world):
    w = world
    only_category = RoutingRuleFactory(category=w["cat"]).unit
    assert suggest_unit(w["cat"], w["c1"], w["grid"]) == only_category
    street = RoutingRuleFactory(region=w["s1"]).unit
    assert suggest_unit(w["cat"], w["c1"], w["grid"]) == street
    community = RoutingRuleFactory(region=w["c1"]).unit
    assert suggest_unit(w["cat"], w["c1"], w["grid"]) == community
    grid = RoutingRuleFactory(grid=w["grid"]).unit
    assert suggest_unit(w["cat"], w["c1"], w["grid"]) == grid
    # Other places and other categories are untouched by rules that do not match them.
    assert suggest_unit(w["cat"], w["c1"], w["other_grid"]) == community
    assert suggest_unit(w["cat"], w["c2"], None) == only_category
    assert suggest_unit(w["cat2"], w["c2"], None) is None


def test_with_equal_places_the_rule_naming_the_category_wins(world):
    w = world
    any_category = RoutingRuleFactory(region=w["s1"]).unit
    this_category = RoutingRuleFactory(region=w["s1"], category=w["cat"]).unit
    assert suggest_unit(w["cat"], w["c1"], None) == this_category
    assert suggest_unit(w["cat2"], w["c1"], None) == any_category


def test_inactive_rules_and_units_are_ignored(world):
    w = world
    RoutingRuleFactory(region=w["c1"], active=False)
    RoutingRuleFactory(region=w["s1"], unit=UnitFactory(is_active=False))
    fallback = RoutingRuleFactory(category=w["cat"]).unit
    assert suggest_unit(w["cat"], w["c1"], None) == fallback


def test_default_unit_kind_picks_the_nearest_territorial_unit(world):
    w = world
    cat = CategoryFactory(default_unit_kind=Unit.Kind.COMMUNITY_COMMITTEE)
    committee = UnitFactory(kind=Unit.Kind.COMMUNITY_COMMITTEE, region=w["c1"])
    UnitFactory(kind=Unit.Kind.COMMUNITY_COMMITTEE, region=w["c2"])
    assert suggest_unit(cat, w["g1"], None) == committee
    street_cat = CategoryFactory(default_unit_kind=Unit.Kind.STREET_OFFICE)
    office = UnitFactory(kind=Unit.Kind.STREET_OFFICE, region=w["s2"])
    assert suggest_unit(street_cat, w["c2"], None) == office
    # The only unit of a kind answers everywhere (e.g. the one gas company).
    gas_cat = CategoryFactory(default_unit_kind=Unit.Kind.ENTERPRISE)
    gas = UnitFactory(kind=Unit.Kind.ENTERPRISE, region=w["district"])
    assert suggest_unit(gas_cat, w["c1"], None) == gas


def test_shipped_catalogue_has_the_standard_major_classes():
    majors = set(Category.objects.values_list("kind", "major_name"))
    assert {("event", m) for m in ("市容环境", "街面秩序", "宣传广告", "施工管理", "突发事件")} <= majors
    assert {("component", m) for m in ("公用设施", "道路交通", "市容环境", "园林绿化")} <= majors
    assert Category.objects.count() >= 40
    assert Category.objects.get(kind="event", code="0403").time_limit_hours == 1


# Rules as (has grid, region key or None, has category); a later, less specific rule never
# displaces the suggestion of a more specific one already present.
RULE = st.tuples(st.booleans(), st.sampled_from([None, "district", "s1", "c1"]), st.booleans())


@settings(max_examples=25, deadline=None)
@given(rules=st.lists(RULE, min_size=1, max_size=6))
def test_the_winner_is_a_most_specific_matching_rule(rules):
    RoutingRule.objects.all().delete()  # examples share the test's transaction
    tree = region_tree()
    grid = GridFactory(community=tree["c1"])
    cat = CategoryFactory()
    made = []
    for has_grid, region_key, has_category in rules:
        rule = RoutingRuleFactory(
            grid=grid if has_grid else None,
            region=tree[region_key] if region_key else None,
            category=cat if has_category else None,
        )
        depth = rule.region.path.count("/") if rule.region else 0
        made.append(((has_grid, depth, has_category), rule.unit))
    best = max(key for key, _unit in made)
    assert suggest_unit(cat, tree["c1"], grid) in {unit for key, unit in made if key == best}


@settings(max_examples=25, deadline=None)
@given(rules=st.lists(RULE, min_size=0, max_size=6), place=st.sampled_from(["g1", "c1", "c2", "s1", None]))
def test_routing_table_answers_as_suggest_unit(rules, place):
    RoutingRule.objects.all().delete()
    tree = region_tree()
    grid = GridFactory(community=tree["c1"])
    cat = CategoryFactory(default_unit_kind=Unit.Kind.COMMUNITY_COMMITTEE)
    UnitFactory(code="CC1", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=tree["c1"])
    for has_grid, region_key, has_category in rules:
        RoutingRuleFactory(
            grid=grid if has_grid else None,
            region=tree[region_key] if region_key else None,
            category=cat if has_category else None,
        )
    region = tree[place] if place else None
    at_grid = grid if place in ("g1", "c1") else None
    assert RoutingTable().suggest(cat, region, at_grid) == suggest_unit(cat, region, at_grid)
