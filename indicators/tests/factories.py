"""Factories for index systems and tasks."""

from decimal import Decimal

import factory

from indicators.models import Criterion, IndexItem, IndexProject, IndexSystem, Task


class IndexSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndexSystem

    name = factory.Sequence(lambda n: f"测评体系{n}")
    version = "2026"
    campaign_year = 2026
    is_active = False


class IndexProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndexProject

    system = factory.SubFactory(IndexSystemFactory)
    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"测评项目{n}")
    points = Decimal(10)


class IndexItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndexItem

    project = factory.SubFactory(IndexProjectFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.project.code}{n:02d}")
    name = factory.Sequence(lambda n: f"测评内容{n}")
    points = Decimal(5)


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criterion

    item = factory.SubFactory(IndexItemFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.item.code}-{n}")
    text = factory.Sequence(lambda n: f"测评标准{n}")
    points = Decimal(5)
    method = Criterion.Method.FIELD
    frequency = Criterion.Frequency.MONTHLY


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    item = factory.SubFactory(IndexItemFactory)
    title = factory.LazyAttribute(lambda o: o.item.name)
