"""The shared base of the lists' filters (org.filters.ListFilterSet)."""

import django_filters
import pytest
from django.http import QueryDict

from org.filters import ListFilterSet
from org.models import Unit

pytestmark = pytest.mark.django_db


class _Filters(ListFilterSet):
    unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label="单位")
    region = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.all(), label="区域", empty_label="所有区域"
    )
    late = django_filters.BooleanFilter(field_name="is_active", label="逾期")

    class Meta:
        model = Unit
        fields: list[str] = []


def test_menus_name_their_filter_and_keep_their_values():
    form = _Filters(QueryDict("late=false")).form
    html = str(form)
    assert "---------" not in html and "未知" not in html
    assert "全部单位" in html and "所有区域" in html  # a chosen empty label stays
    assert (
        '<option value="unknown">逾期：不限</option>' in html
        and '<option value="false" selected>逾期：否</option>' in html
    )
    assert html.count("aria-label=") == 3
    assert form.is_valid() and form.cleaned_data["late"] is False
