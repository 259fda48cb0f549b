"""``org.dump``: an answer built from objects by ninja's rules without pydantic's validation must
equal ninja's own answer (resolvers with and without context, dotted aliases, display methods,
managers as lists, nested schemas optional or listed, plain dicts)."""

import json

import pytest
from django.test import RequestFactory
from ninja import Field, Schema
from ninja.responses import NinjaJSONEncoder

from org import dump
from org.models import Region, Unit
from org.tests.factories import RegionFactory, UnitFactory

pytestmark = pytest.mark.django_db


class DumpRegionOut(Schema):
    id: int
    code: str
    level_label: str = Field(alias="get_level_display")


class DumpUnitOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    region_name: str = Field(alias="region.name")
    region: DumpRegionOut
    parent_region: DumpRegionOut | None
    siblings: list[DumpRegionOut]
    asked_by: str

    @staticmethod
    def resolve_parent_region(obj: Unit) -> Region | None:
        return obj.region.parent

    @staticmethod
    def resolve_siblings(obj: Unit):
        return Region.objects.filter(parent=obj.region.parent).order_by("code") if obj.region.parent else []

    @staticmethod
    def resolve_asked_by(obj: Unit, context) -> str:
        return context["request"].user


def _ninja(schema, obj, request) -> object:
    validated = schema.model_validate(obj, context={"request": request, "response_status": 200})
    return json.loads(json.dumps(validated.model_dump(), cls=NinjaJSONEncoder))


def test_dump_answers_what_ninja_answers():
    district = RegionFactory(code="D", level=Region.Level.DISTRICT)
    street = RegionFactory(code="S1", level=Region.Level.STREET, parent=district)
    RegionFactory(code="S2", level=Region.Level.STREET, parent=district)
    request = RequestFactory().get("/")
    request.user = "张三"
    for unit in (
        UnitFactory(code="U1", kind=Unit.Kind.STREET_OFFICE, region=street),
        UnitFactory(code="U2", kind=Unit.Kind.DEPARTMENT, region=district),  # no parent region: None, []
    ):
        answer = dump.response(request, DumpUnitOut, unit)
        assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
        assert json.loads(answer.content) == _ninja(DumpUnitOut, unit, request)
    assert json.loads(dump.response(request, DumpUnitOut, unit, 201).content)["parent_region"] is None


def test_dump_reads_dicts_by_key_as_ninja_does():
    row = {"id": 7, "code": "X", "get_level_display": "街道"}
    assert dump.dump(DumpRegionOut, row, {}) == {"id": 7, "code": "X", "level_label": "街道"}
    with pytest.raises(KeyError):
        dump.dump(DumpRegionOut, {"id": 7}, {})
