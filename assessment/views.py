"""Pages of assessment 考评. They only translate: every rule lives in ``services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from org.audit import Actor
from org.errors import ActionRefused
from org.scope import scope_for

from . import services
from .filtersets import RunFilter
from .forms import AccountabilityForm, CircularForm, ComputeForm, SchemeForm
from .models import Circular, Component, PeriodKind, Run, Scheme

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _form_errors(form) -> str:
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


def _error(request, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, str(exc) or "无权执行此操作")


@login_required
def run_list(request):
    runs = services.visible_runs(request.user).select_related("scheme")
    filterset = RunFilter(request.GET, queryset=runs)
    return render(
        request,
        "assessment/runs.html",
        {"filter": filterset, "runs": filterset.qs[:200], "is_hq": services.is_hq(request.user)},
    )


@login_required
def mine(request):
    scores = services.own_scores(request.user).order_by("-run__period_start", "unit__code")[:200]
    records = services.visible_accountabilities(request.user).filter(
        unit_id__in=scope_for(request.user).unit_ids
    )
    return render(request, "assessment/mine.html", {"scores": scores, "records": records})


@login_required
def scheme_list(request):
    services.check_manage(request.user)
    schemes = Scheme.objects.prefetch_related("components")
    return render(request, "assessment/schemes.html", {"schemes": schemes, "compute_form": ComputeForm()})


@login_required
def scheme_edit(request, pk: int | None = None):
    services.check_manage(request.user)
    scheme = get_object_or_404(Scheme, pk=pk) if pk else None
    if request.method == "POST":
        form = SchemeForm(request.POST)
        if form.is_valid():
            spec = services.SchemeSpec(
                name=form.cleaned_data["name"],
                period_kind=form.cleaned_data["period_kind"],
                unit_kinds=form.cleaned_data["unit_kinds"],
                weights=form.weights(),
                no_data=form.cleaned_data["no_data"],
                list_size=form.cleaned_data["list_size"],
            )
            try:
                services.save_scheme(Actor.from_request(request), spec, scheme)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "考评方案已保存")
                return redirect("assessment:schemes")
    else:
        initial = {}
        if scheme is not None:
            initial = {
                "name": scheme.name,
                "period_kind": scheme.period_kind,
                "unit_kinds": scheme.unit_kinds,
                "no_data": scheme.no_data,
                "list_size": scheme.list_size,
            }
            initial.update({f"w_{c.kind}": c.weight for c in scheme.components.all()})
        form = SchemeForm(initial=initial)
    weight_fields = [form[f"w_{k}"] for k in Component.Kind.values]
    return render(
        request,
        "assessment/scheme_form.html",
        {"form": form, "scheme": scheme, "weight_fields": weight_fields},
    )


@login_required
@require_POST
def compute(request, pk: int):
    services.check_manage(request.user)
    scheme = get_object_or_404(Scheme, pk=pk)
    form = ComputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("assessment:schemes")
    try:
        run = services.compute_run(
            Actor.from_request(request), scheme, form.cleaned_data["day"], form.cleaned_data["at"]
        )
    except (ValidationError, ActionRefused) as exc:
        _error(request, exc)
        return redirect("assessment:schemes")
    messages.success(request, f"{run.label} 已计算（草稿）")
    return redirect("assessment:run", run.pk)


@login_required
def run_detail(request, pk: int):
    run = get_object_or_404(services.visible_runs(request.user).select_related("scheme"), pk=pk)
    hq = services.is_hq(request.user)
    red, black = services.red_black(run)
    circular = Circular.objects.filter(run=run).first()
    ranked = services.ranking(run)
    kinds = [Component.Kind(k).label for k in run.weights]
    return render(
        request,
        "assessment/run.html",
        {
            "run": run,
            "is_hq": hq,
            "weights": [(Component.Kind(k).label, w) for k, w in run.weights.items()],
            "kinds": kinds,
            "rows": services.figure_table(run) if hq else None,
            "ranking": ranked,
            "red": red,
            "black": black,
            "actions": services.allowed_actions(request.user, run),
            "circular": circular,
            "accountabilities": services.visible_accountabilities(request.user).filter(circular__run=run),
            "accountability_form": AccountabilityForm(units=[s.unit for s in reversed(ranked)])
            if hq and circular
            else None,
            "circular_form": CircularForm(
                initial={"title": f"关于{run.label}创文工作考评情况的通报", "body": "现将考评情况通报如下。"}
            ),
            "events": run.events.select_related("actor") if hq else [],
            "case_query": _case_query(run),
        },
    )


def _case_query(run: Run) -> str:
    """For a monthly run, the case list's query that opens the cases behind a unit's case
    figures (its parts due in the month, as of T); weeks and quarters have no such list."""
    if run.period_kind != PeriodKind.MONTH:
        return ""
    return urlencode(
        {
            "month": f"{run.period_start:%Y-%m}",
            "at": timezone.localtime(run.at).isoformat(),
            "metric": "handle_rate",
            "side": "denominator",
        }
    )


@login_required
@require_POST
def publish(request, pk: int):
    run = get_object_or_404(services.visible_runs(request.user), pk=pk)
    try:
        services.publish_run(Actor.from_request(request), run)
    except (ValidationError, ActionRefused, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(request, "已发布，本期数据已冻结")
    return redirect("assessment:run", run.pk)


@login_required
@require_POST
def issue(request, pk: int):
    run = get_object_or_404(services.visible_runs(request.user), pk=pk)
    form = CircularForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("assessment:run", run.pk)
    try:
        circular = services.issue_circular(
            Actor.from_request(request), run, form.cleaned_data["title"], form.cleaned_data["body"]
        )
    except (ValidationError, ActionRefused, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(request, f"通报 {circular.number} 已印发")
    return redirect("assessment:run", run.pk)


@login_required
def download(request, pk: int):
    circular = get_object_or_404(Circular.objects.select_related("run"), pk=pk)
    services.check_download(request.user, circular)
    response = HttpResponse(bytes(circular.document), content_type=DOCX)
    name = f"circular-{circular.year}-{circular.sequence}.docx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def accountability(request, pk: int):
    circular = get_object_or_404(Circular.objects.select_related("run"), pk=pk)
    services.check_manage(request.user)
    form = AccountabilityForm(
        request.POST, units=[s.unit for s in circular.run.scores.select_related("unit")]
    )
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("assessment:run", circular.run_id)
    data = form.cleaned_data
    spec = services.AccountabilitySpec(
        unit_id=data["unit"],
        kind=data["kind"],
        reason=data["reason"],
        follow_up_on=data["follow_up_on"],
        person=data["person"],
        statement=data["statement"],
    )
    try:
        services.record_accountability(Actor.from_request(request), circular, spec)
    except (ValidationError, ActionRefused) as exc:
        _error(request, exc)
    else:
        messages.success(request, "已记录")
    return redirect("assessment:run", circular.run_id)
