"""Filters shared by the lists of several apps (django-filter)."""

import django_filters
from django import forms


def date_from(field_name: str, lookup_expr: str = "gte") -> django_filters.DateFilter:
    """The start of a list's date range: a date picker named 从 for screen readers."""
    return _date(field_name, lookup_expr, "从")


def date_to(field_name: str, lookup_expr: str = "lte") -> django_filters.DateFilter:
    """The end of a list's date range: a date picker named 至 for screen readers."""
    return _date(field_name, lookup_expr, "至")


def _date(field_name: str, lookup_expr: str, name: str) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        field_name=field_name,
        lookup_expr=lookup_expr,
        widget=forms.DateInput(attrs={"type": "date", "aria-label": name}),
    )


class ListFilterSet(django_filters.FilterSet):
    """A list's filters that say what they are with no visible label (the filter bar on a phone
    shows menus only): each field is named for screen readers (``aria-label``), a menu's empty
    choice names the field (全部单位, not "---------"), and a yes/no menu says which question it
    answers (逾期提交：不限 / 是 / 否, not 未知 / 是 / 否). Values are unchanged, so links keep working."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            label = str(field.label or "")
            field.widget.attrs.setdefault("aria-label", label)
            if isinstance(field, forms.ModelChoiceField) and field.empty_label == "---------":
                field.empty_label = f"全部{label}"
            if isinstance(field.widget, forms.NullBooleanSelect):
                field.widget.choices = [
                    ("unknown", f"{label}：不限"),
                    ("true", f"{label}：是"),
                    ("false", f"{label}：否"),
                ]
