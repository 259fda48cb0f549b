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
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"T-{n:06d}")
    category = factory.LazyFunction(category)
    description = "路边堆放垃圾"
    lat = Decimal("31.858700")
    lng = Decimal("106.747800")

    @factory.post_generation
    def lead_part(obj, create, extracted, **kwargs):
        """Like dispatch: a case with a lead unit has that unit's lead part (pass
        ``lead_part=False`` to build one without, e.g. to add the part by hand)."""
        if not create or extracted is False or obj.lead_unit_id is None:
            return
        if not obj.parts.filter(unit_id=obj.lead_unit_id).exists():
            done = obj.status in (Case.Status.HANDLED, Case.Status.CLOSED)
            CasePart.objects.create(
                case=obj,
                unit_id=obj.lead_unit_id,
                is_lead=True,
                status=CasePart.Status.HANDLED if done else CasePart.Status.DISPATCHED,
                dispatched_at=obj.dispatched_at or obj.reported_at,
                deadline=obj.handle_deadline or obj.reported_at + dt.timedelta(days=5),
                handled_at=obj.handled_at if done else None,
            )


class CasePartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CasePart

    case = factory.SubFactory(CaseFactory)
    unit = factory.SubFactory(UnitFactory)
    is_lead = True
    deadline = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=5))
