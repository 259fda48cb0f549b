"""Site types 点位类型: built-in ones seeded by the migration, HQ's own ones accepted by the site."""

import pytest
from django.core.exceptions import ValidationError

from org.models import Site, SiteType
from org.tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_the_built_in_types_exist_with_their_names():
    names = SiteType.names()
    assert {code: names[code] for code in Site.Kind.values} == dict(Site.Kind.choices)


def test_a_site_accepts_a_type_hq_added_and_refuses_an_unknown_one():
    SiteType.objects.create(code="library", name="图书馆")
    site = SiteFactory(kind="library")
    site.full_clean()
    assert site.kind_name == "图书馆"
    site.kind = "nonsense"
    with pytest.raises(ValidationError) as refused:
        site.full_clean()
    assert "kind" in refused.value.message_dict
