"""Factories for case test data. Categories come from the shipped catalogue (migration 0002)."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from cases.models import Case, CasePart, Category, RoutingRule
from org.tests.factories import UnitFactory


def category(code: str = "0102", kind: str = Category.Kind.EVENT) -> Category:
    """A category of the shipped catalogue (0102 暴露垃圾 is an event with a 1-day limit)."""
    return Category.objects.get(kind=kind, code=code)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"9{n:03d}")
    name = factory.Sequence(lambda n: f"测试类别{n}")
    kind = Category.Kind.EVENT
    major_code = "99"
    major_name = "测试大类"
    time_limit_days = 5


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    unit = factory.SubFactory(UnitFactory)


class CaseFactory(factory.django.DjangoModelFactory):
    """A reported case (bypassing the services: for lists, scope and metrics tests)."""

    class Meta:
        model = Case

    number = factory.Sequence(lambda n: f"T-{n:06d}")
    category = factory.LazyFunction(category)
    description = "路边堆放垃圾"
    lat = Decimal("31.858700")
    lng = Decimal("106.747800")


class CasePartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CasePart

    case = factory.SubFactory(CaseFactory)
    unit = factory.SubFactory(UnitFactory)
    is_lead = True
    deadline = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=5))
