import django_filters

from org.filters import ListFilterSet

from .models import Bonus, PeriodKind, Run


class RunFilter(ListFilterSet):
    """The one filter of runs: the list page and the API list."""

    period_kind = django_filters.ChoiceFilter(
        label="周期", choices=PeriodKind.choices, empty_label="全部周期"
    )
    status = django_filters.ChoiceFilter(label="状态", choices=Run.Status.choices, empty_label="全部状态")
    scheme = django_filters.NumberFilter(label="方案", field_name="scheme_id")

    class Meta:
        model = Run
        fields = ["period_kind", "status", "scheme"]


class BonusFilter(ListFilterSet):
    """The one filter of bonus and deduction entries 加减分: the page and the API list."""

    status = django_filters.ChoiceFilter(label="状态", choices=Bonus.Status.choices, empty_label="全部状态")
    scheme = django_filters.NumberFilter(label="方案", field_name="scheme_id")
    unit = django_filters.NumberFilter(label="单位", field_name="unit_id")

    class Meta:
        model = Bonus
        fields = ["status", "scheme", "unit"]
