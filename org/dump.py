"""An API answer built from objects the way django-ninja builds it, without pydantic validating
every attribute on the way.

Ninja answers a view's objects by validating them against the response schema through
``DjangoGetter`` (a Python ``__getattr__`` per field and per nested row), then dumping the
validated model. For the case detail (a case, its parts, timeline, photos, extension requests
and field checks: ≈ 80 attributes) that cost more than reading the rows. ``dump`` walks the same
schema with the same rules — a ``resolve_<field>`` if the schema has one (with the context when
it asks for it), else the field's alias followed through attributes (``"category.name"``), a
manager or queryset listed, a method called, a file given as its URL — into the dict ninja would
have produced; ``response`` renders it with ninja's own JSON encoder. The values are taken as
the objects hold them: a field whose object value needs coercing (a float for a ``Decimal``
field, say) must not use it. ``org/tests/test_dump.py`` checks the rules against ninja's, and
each schema dumped this way has a test comparing the two on real rows.
"""

import functools
import json
import types
import typing
from dataclasses import dataclass
from typing import Any

from django.db.models import Manager, QuerySet
from django.db.models.fields.files import FieldFile
from django.http import HttpResponse
from django.template import Variable
from ninja import Schema
from ninja.responses import NinjaJSONEncoder


@dataclass(frozen=True)
class _Field:
    name: str
    key: str  # the alias, or the field's name
    variable: Variable | None  # a dotted alias, parsed once (``Variable`` is slow to build)
    resolver: Any  # the schema's resolve_<name>, unwrapped, or None
    takes_context: bool
    nested: type[Schema] | None  # the schema of a nested object or of a list's items
    many: bool


def _nested(annotation: Any) -> tuple[type[Schema] | None, bool]:
    """The schema nested in ``annotation`` (``Sub``, ``Sub | None``, ``list[Sub]``) and whether
    it is a list."""
    origin = typing.get_origin(annotation)
    if origin is list:
        inner, _many = _nested(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        schemas = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(schemas) == 1:
            return _nested(schemas[0])
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, Schema):
        return annotation, False
    return None, False


@functools.cache
def _plan(schema: type[Schema]) -> tuple[_Field, ...]:
    fields = []
    for name, info in schema.model_fields.items():
        resolver = schema._ninja_resolvers.get(name)  # type: ignore[attr-defined]
        nested, many = _nested(info.annotation)
        key = info.alias or name
        fields.append(
            _Field(
                name=name,
                key=key,
                variable=Variable(key) if "." in key else None,
                resolver=resolver._func if resolver else None,
                takes_context=bool(resolver and resolver._takes_context),
                nested=nested,
                many=many,
            )
        )
    return tuple(fields)


def _convert(value: Any) -> Any:
    """What ninja's ``DjangoGetter`` makes of an attribute's value."""
    if isinstance(value, Manager):
        return list(value.all())
    if isinstance(value, QuerySet):
        return list(value)
    if callable(value):
        return value()
    if isinstance(value, FieldFile):
        return value.url if value else None
    return value


def _attribute(obj: Any, field: _Field) -> Any:
    if isinstance(obj, dict):
        return obj[field.key]
    if field.variable is None:
        return getattr(obj, field.key)
    return field.variable.resolve(obj)


def dump(schema: type[Schema], obj: Any, context: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as ninja would answer it under ``schema`` (field names as keys, Python values)."""
    out: dict[str, Any] = {}
    for field in _plan(schema):
        if field.resolver is None:
            value = _attribute(obj, field)
        elif field.takes_context:
            value = field.resolver(obj, context=context)
        else:
            value = field.resolver(obj)
        value = _convert(value)
        if field.nested is not None and value is not None:
            if field.many:
                value = [dump(field.nested, item, context) for item in value]
            else:
                value = dump(field.nested, value, context)
        out[field.name] = value
    return out


def response(request, schema: type[Schema], obj: Any, status: int = 200) -> HttpResponse:
    """The JSON answer ninja would give for ``obj`` under ``schema`` (its encoder, its context)."""
    data = dump(schema, obj, {"request": request, "response_status": status})
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder), content_type="application/json", status=status
    )
