"""The project's own pages: each person's home page (the apps' pages are in their own views)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from materials.services import unit_cards
from org.models import Contract, Region, Role, Unit
from org.scope import UNIT_WORK_ROLES, scope_for
from workdays.clock import missing_year_warning

from .nav import role_tasks


@login_required
def home(request):
    """Each person's home page: one section per role they hold, with that role's work."""
    memberships = request.user.memberships.select_related("unit").order_by("role")
    sections: dict[str, dict] = {}
    for m in memberships:
        section = sections.setdefault(
            m.role, {"role": m.role, "label": m.get_role_display(), "units": [], "tasks": role_tasks(m.role)}
        )
        section["units"].append(m.unit)
    scope = scope_for(request.user)
    return render(
        request,
        "home.html",
        {
            "sections": list(sections.values()),
            "scope": scope,
            "scope_parts": _scope_parts(scope),
            "calendar_warning": missing_year_warning() if scope.has_role(Role.HQ_ADMIN) else None,
            "territory": Region.objects.filter(
                units__kind__in=Unit.TERRITORIAL_KINDS,
                units__memberships__user=request.user,
                units__memberships__role__in=UNIT_WORK_ROLES,
            )
            .distinct()
            .order_by("path"),
            "grids": request.user.grids.select_related("community").order_by("code"),
            "segments": request.user.segments.select_related("region").order_by("code"),
            "contracts": Contract.objects.active()
            .filter(leader=request.user)
            .select_related("region", "site"),
            "material_cards": unit_cards(request.user),
        },
    )


def _scope_parts(scope) -> list[str]:
    """The home page's one-line summary of what the person may see."""
    counts = [
        (scope.units().count(), "个单位"),
        (scope.regions().count(), "个区域"),
        (len(scope.site_ids), "个包保点位"),
        (len(scope.grid_ids), "个网格"),
        (len(scope.segment_ids), "条街巷"),
    ]
    return [f"{n} {label}" for n, label in counts if n]
