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
