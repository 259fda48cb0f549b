from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import imports, services, xlsx
from .audit import Actor
from .errors import ActionRefused
from .forms import ImportForm, TokenForm
from .models import Contract, ImportJob, Region, Role, Unit
from .scope import require_role, scope_for


def _paginate(request, qs, per_page=50):
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


@login_required
def regions(request):
    scope = scope_for(request.user)
    qs = scope.regions().select_related("parent").annotate(unit_count=Count("units")).order_by("path")
    level = request.GET.get("level", "")
    if level in Region.Level.values:
        qs = qs.filter(level=level)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__startswith=q))
    return render(
        request,
        "org/regions.html",
        {"page": _paginate(request, qs), "levels": Region.Level.choices, "level": level, "q": q},
    )


@login_required
def units(request):
    scope = scope_for(request.user)
    qs = scope.units().select_related("region").annotate(member_count=Count("memberships")).order_by("code")
    kind = request.GET.get("kind", "")
    if kind in Unit.Kind.values:
        qs = qs.filter(kind=kind)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__startswith=q))
    return render(
        request,
        "org/units.html",
        {"page": _paginate(request, qs), "kinds": Unit.Kind.choices, "kind": kind, "q": q},
    )


@login_required
def contracts(request):
    scope = require_role(request.user, Role.HQ_ADMIN, Role.LEADER)
    qs = (
        Contract.objects.active()
        .select_related("leader", "unit", "region", "site")
        .order_by("leader", "unit")
    )
    if not scope.everything:
        qs = qs.filter(Q(leader=request.user) | Q(unit_id__in=scope.unit_ids))
    return render(request, "org/contracts.html", {"page": _paginate(request, qs, 100)})


@login_required
def import_export(request):
    """HQ imports and exports regions, units and people as one XLSX workbook.

    An upload is checked in the background (a dry run: what would be created, changed and left
    alone, and the warnings) and followed on its job's page, where HQ confirms the import."""
    require_role(request.user, Role.HQ_ADMIN)
    if request.GET.get("download"):
        name = f"组织架构-{timezone.localdate():%Y%m%d}.xlsx"
        return FileResponse(
            xlsx.export_workbook(Actor.from_request(request)), as_attachment=True, filename=name
        )
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = imports.start(Actor.from_request(request), "org", form.cleaned_data["file"])
        return HttpResponseRedirect(reverse("org:import_job", args=[job.pk]))
    jobs = request.user.import_jobs.filter(kind="org")[:5]
    return render(request, "org/import.html", {"form": form, "jobs": jobs})


@login_required
def import_job(request, pk: int):
    """后台导入任务: its stage and progress while the worker runs it (the page asks again every
    second, ``?format=json``), then the preview to confirm, the errors, or what was imported."""
    job = imports.visible_job(request.user, pk)
    if request.method == "POST":
        try:
            job = imports.confirm(Actor.from_request(request), job)
        except ActionRefused as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("org:import_job", args=[job.pk]))
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "state": job.state,
                "state_label": job.get_state_display(),
                "stage": job.stage,
                "progress": job.progress,
                "running": job.is_running,
            }
        )
    importer = imports.importer_of(job.kind)
    return render(
        request,
        "org/import_job.html",
        {
            "job": job,
            "importer": importer,
            "confirmed": getattr(job, "confirmed_by", None),
            "may_confirm": job.state == ImportJob.State.CHECKED and job.file != "",
        },
    )


@login_required
def tokens(request):
    """A person's device tokens for the API: create (the key is shown once) and revoke."""
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = services.issue_token(
                Actor.from_request(request),
                request.user,
                form.cleaned_data["name"],
                form.cleaned_data["days"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    listed = request.user.api_tokens.filter(revoked_at__isnull=True).order_by("-created_at")
    return render(
        request,
        "org/tokens.html",
        {"form": form, "tokens": listed, "new_key": new_key, "now": timezone.now()},
    )


@login_required
@require_POST
def revoke_token(request, pk: int):
    token = get_object_or_404(request.user.api_tokens, pk=pk)
    try:
        services.revoke_token(Actor.from_request(request), token)
        messages.success(request, "令牌已吊销")
    except ActionRefused as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("org:tokens"))
