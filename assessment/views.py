"""Pages of assessment 考评. They only translate: every rule lives in ``services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from org.audit import Actor
from org.errors import ActionRefused
from org.models import Unit
from org.scope import scope_for

from . import services
from .filtersets import BonusFilter, RunFilter
from .forms import AccountabilityForm, BonusForm, CircularForm, ComputeForm, CorrectForm, SchemeForm
from .models import Bonus, Circular, Component, PeriodKind, Run, Scheme

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REFUSED = (ValidationError, ActionRefused, PermissionDenied)


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
                is_active=form.cleaned_data["is_active"],
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
                "is_active": scheme.is_active,
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
    run = get_object_or_404(services.visible_runs(request.user).select_related("scheme", "previous"), pk=pk)
    hq = services.is_hq(request.user)
    red, black = services.red_black(run)
    circular = Circular.objects.filter(run=run).first()
    if circular is not None and not circular.is_issued and not hq:
        circular = None
    ranked = services.ranking(run)
    kinds = [Component.Kind(k).label for k in run.weights]
    all_versions = services.versions(run)
    if not hq:
        all_versions = [v for v in all_versions if v.is_published]
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
            "compared": services.previous_run(run) is not None,
            "red": red,
            "black": black,
            "actions": services.allowed_actions(request.user, run),
            "circular": circular,
            "versions": all_versions,
            "replaced_by": services.replaced_by(run),
            "accountabilities": services.visible_accountabilities(request.user).filter(circular__run=run),
            "accountability_form": AccountabilityForm(units=[s.unit for s in reversed(ranked)])
            if hq and circular and circular.is_issued
            else None,
            "circular_form": CircularForm(
                initial={
                    "title": circular.title if circular else services.default_title(run),
                    "body": circular.body if circular else services.default_body(run),
                }
            ),
            "correct_form": CorrectForm(),
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


def _on_run(request, pk: int, action, done: str):
    """One button on a run's page: the service's action on the run, its refusal or ``done``."""
    run = get_object_or_404(services.visible_runs(request.user), pk=pk)
    try:
        action(Actor.from_request(request), run)
    except REFUSED as exc:
        _error(request, exc)
    else:
        messages.success(request, done)
    return redirect("assessment:run", run.pk)


@login_required
@require_POST
def publish(request, pk: int):
    return _on_run(request, pk, services.publish_run, "已发布，本期数据已冻结")


@login_required
@require_POST
def recompute(request, pk: int):
    return _on_run(request, pk, services.recompute_run, "已按现在的数据重新计算（草稿）")


@login_required
@require_POST
def correct(request, pk: int):
    run = get_object_or_404(services.visible_runs(request.user), pk=pk)
    form = CorrectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("assessment:run", run.pk)
    try:
        correction = services.correct_run(
            Actor.from_request(request), run, form.cleaned_data["reason"], form.cleaned_data["at"]
        )
    except REFUSED as exc:
        _error(request, exc)
        return redirect("assessment:run", run.pk)
    messages.success(request, f"已生成更正版（第{correction.version}版，草稿），核对后发布")
    return redirect("assessment:run", correction.pk)


@login_required
@require_POST
def issue(request, pk: int):
    """The circular editor's form: 保存草稿 keeps the title and body, 编号并印发 issues."""
    run = get_object_or_404(services.visible_runs(request.user), pk=pk)
    form = CircularForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("assessment:run", run.pk)
    title, body = form.cleaned_data["title"], form.cleaned_data["body"]
    actor = Actor.from_request(request)
    try:
        if "save" in request.POST:
            circular = Circular.objects.filter(run=run).first() or services.draft_circular(actor, run)
            services.edit_circular(actor, circular, title, body)
            messages.success(request, "通报草稿已保存")
        else:
            circular = services.issue_circular(actor, run, title, body)
            messages.success(request, f"通报 {circular.number} 已印发")
    except REFUSED as exc:
        _error(request, exc)
    return redirect("assessment:run", run.pk)


@login_required
def circular_list(request):
    circulars = services.visible_circulars(request.user).order_by("-issued_at", "-pk")[:200]
    return render(
        request, "assessment/circulars.html", {"circulars": circulars, "is_hq": services.is_hq(request.user)}
    )


@login_required
def download(request, pk: int, fmt: str = "docx"):
    issued = Circular.objects.filter(status=Circular.Status.ISSUED).select_related("run__scheme")
    circular = get_object_or_404(issued, pk=pk)
    services.check_download(request.user, circular)
    if fmt == "pdf":
        response = HttpResponse(services.circular_pdf(circular), content_type="application/pdf")
    else:
        response = HttpResponse(bytes(circular.document or b""), content_type=DOCX)
    name = f"circular-{circular.year}-{circular.sequence}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def history(request, unit_pk: int):
    unit = get_object_or_404(Unit, pk=unit_pk)
    scores = services.unit_history(request.user, unit)
    return render(
        request,
        "assessment/history.html",
        {"unit": unit, "scores": scores, "link_runs": services.can_open_runs(request.user, unit)},
    )


@login_required
def leader(request):
    """包保考评: a leader's contracted areas and their units' results and history."""
    areas = services.leader_view(request.user)
    return render(request, "assessment/leader.html", {"areas": areas})


@login_required
def bonus_list(request):
    services.check_manage(request.user)
    actor = Actor.from_request(request)
    if request.method == "POST":
        form = BonusForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            spec = services.BonusSpec(
                scheme_id=data["scheme"].pk,
                day=data["day"],
                unit_id=data["unit"].pk,
                points=data["points"],
                reason=data["reason"],
                evidence_text=data["evidence_text"],
            )
            try:
                services.enter_bonus(actor, spec, data.get("evidence_file"))
            except REFUSED as exc:
                form.add_error(None, exc if isinstance(exc, ValidationError) else str(exc))
            else:
                messages.success(request, "加减分已录入，待另一名管理员审核")
                return redirect("assessment:bonuses")
    else:
        form = BonusForm()
    bonuses = Bonus.objects.select_related("scheme", "unit", "entered_by", "decided_by")
    filterset = BonusFilter(request.GET, queryset=bonuses)
    rows = [(b, services.bonus_actions(request.user, b)) for b in filterset.qs[:200]]
    return render(request, "assessment/bonuses.html", {"form": form, "filter": filterset, "rows": rows})


@login_required
@require_POST
def bonus_decide(request, pk: int, decision: str):
    bonus = get_object_or_404(Bonus, pk=pk)
    try:
        services.decide_bonus(
            Actor.from_request(request), bonus, decision == "approve", request.POST.get("note", "")
        )
    except REFUSED as exc:
        _error(request, exc)
    else:
        messages.success(request, "已审核通过" if decision == "approve" else "已驳回")
    return redirect("assessment:bonuses")


@login_required
def bonus_evidence(request, pk: int):
    bonus = get_object_or_404(Bonus, pk=pk)
    services.check_bonus_evidence(request.user, bonus)
    if not bonus.evidence_file:
        raise Http404("该加减分没有佐证文件")
    response = FileResponse(bonus.evidence_file.open("rb"), content_type=bonus.evidence_type)
    response["Content-Disposition"] = f'attachment; filename="bonus-{bonus.pk}{_suffix(bonus.evidence_name)}"'
    return response


def _suffix(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


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
