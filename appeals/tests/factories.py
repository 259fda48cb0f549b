"""Factories for appeal test data (the case is made directly, bypassing the loop)."""

import factory

from appeals.models import Appeal
from cases.tests.factories import CaseFactory


class AppealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appeal

    case = factory.SubFactory(CaseFactory, source="appeal")
    channel = Appeal.Channel.WEB
    phone = "13812345678"
    name = "张三丰"
