import django_filters

from .models import PeriodKind, Run


class RunFilter(django_filters.FilterSet):
    """The one filter of runs: the list page and the API list."""

    period_kind = django_filters.ChoiceFilter(
        label="周期", choices=PeriodKind.choices, empty_label="全部周期"
    )
    status = django_filters.ChoiceFilter(label="状态", choices=Run.Status.choices, empty_label="全部状态")
    scheme = django_filters.NumberFilter(label="方案", field_name="scheme_id")

    class Meta:
        model = Run
        fields = ["period_kind", "status", "scheme"]
