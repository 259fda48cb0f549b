"""The project's own pages: each person's home page (the apps' pages are in their own views)."""

import posixpath
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.static import serve

from materials.services import unit_cards
from org.models import Contract, Region, Role, Unit
from org.scope import UNIT_WORK_ROLES, scope_for
from workdays.clock import missing_year_warning

from .nav import home_counts, role_tasks


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
            "counts": home_counts(request.user),
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


FAVICON = Path(__file__).resolve().parent / "static" / "favicon.ico"


@cache_control(max_age=7 * 24 * 3600, public=True)
def favicon(request):
    """/favicon.ico, which browsers ask for whatever the page names (also ``static/favicon.ico``)."""
    return FileResponse(FAVICON.open("rb"), content_type="image/x-icon")


def _public_media_path(path: str) -> str | None:
    """The normalised relative path of a public media file, or None when the path is refused.

    The path is percent-decoded until stable (``%252f`` too), then refused when it has any
    ``..``, ``.`` or empty segment, a backslash or a NUL byte; what remains is normalised and
    refused when it lies under ``private/`` (any letter case, for case-insensitive disks)."""
    for _ in range(5):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    else:
        return None
    if not path or "\\" in path or "\x00" in path or path.startswith("/"):
        return None
    segments = path.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return None
    normalised = posixpath.normpath(path)
    if normalised.startswith(("/", "..")) or normalised.lower().split("/")[0] == "private":
        return None
    return normalised


def media(request, path):
    """The demo server serves public media itself (in production the web server or object store
    does). Originals under private/, with their EXIF and GPS metadata, are never served by URL,
    only through views that check permission; every spelling of a path is normalised first."""
    if not settings.DEBUG:
        raise Http404
    public = _public_media_path(path)
    if public is None:
        raise Http404
    return serve(request, public, document_root=str(settings.MEDIA_ROOT))
