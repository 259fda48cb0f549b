"""The dashboard page 数据看板, the command-centre screen 指挥中心大屏 and its display tokens.

The pages only translate: the rules are in ``dashboards.services``, the figures come from the
JSON API (``dashboards.api``), which the pages' scripts fetch."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from org.audit import Actor
from org.errors import ActionRefused

from . import services
from .models import DisplayToken


@login_required
def dashboard(request):
    scope = services.check_view_dashboard(request.user)
    return render(
        request,
        "dashboards/dashboard.html",
        {"source": reverse("api-v1:dashboards_charts"), "everything": scope.everything},
    )


def screen(request):
    """The wall screen's page: only its layout. Its figures come from the screen's JSON, which
    asks for the display token (read by the page's script from the address's ``#token=`` part,
    which browsers never send to the server) or a signed-in HQ or dispatcher."""
    return render(
        request,
        "dashboards/screen.html",
        {
            "source": reverse("api-v1:dashboards_screen"),
            "map_config": {
                "tiles": settings.MAP_TILE_URL,
                "attribution": settings.MAP_TILE_ATTRIBUTION,
                "crs": settings.MAP_TILE_CRS,
                "center": list(settings.MAP_CENTER),
            },
        },
    )


@login_required
def displays(request):
    """HQ's list of display tokens: create one (its address is shown once) and revoke."""
    services.check_manage_displays(request.user)
    new_url = ""
    error = ""
    if request.method == "POST":
        try:
            token, key = services.issue_display(Actor.from_request(request), request.POST.get("name", ""))
        except ValidationError as exc:
            error = "；".join(exc.messages)
        else:
            new_url = request.build_absolute_uri(reverse("dashboards:screen")) + f"#token={key}"
            messages.success(request, f"已创建大屏令牌「{token.name}」")
    return render(
        request,
        "dashboards/displays.html",
        {"tokens": DisplayToken.objects.select_related("created_by"), "new_url": new_url, "error": error},
    )


@login_required
@require_POST
def revoke(request, pk: int):
    services.check_manage_displays(request.user)
    token = get_object_or_404(DisplayToken, pk=pk)
    try:
        services.revoke_display(Actor.from_request(request), token)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已吊销大屏令牌「{token.name}」")
    return redirect("dashboards:displays")
