"""The OpenAPI schema names each shape once: two apps' schemas with one class name would share one
component, and the documentation (and clients generated from it) would describe one of them wrongly."""

from collections import Counter

from ninja import Schema

from chuangwen.api import api


def _schemas(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _schemas(sub)
    return found


def test_every_api_schema_class_name_is_unique():
    api.get_openapi_schema()  # imports every router's schemas
    apps = (
        "org",
        "workdays",
        "cases",
        "appeals",
        "indicators",
        "materials",
        "inspections",
        "volunteers",
        "notices",
        "streets",
        "assessment",
    )
    ours = [c for c in _schemas(Schema) if c.__module__.split(".")[0] in apps]
    names = Counter(c.__name__ for c in ours)
    assert [name for name, n in names.items() if n > 1] == []
