"""Pages of the index system and its tasks: systems and import, the task board, a task's page with
its steps, decomposition (one by one and in bulk), the 五落实 check and HQ's matrix."""

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from org import sheets
from org.audit import Actor
from org.errors import ActionRefused
from org.models import Role
from org.scope import require_role, scope_for

from . import queries, services, xlsx
from .forms import (
    AssignmentForm,
    BulkAssignForm,
    CloseOutForm,
    MilestoneFormSet,
    NoteForm,
    ProgressForm,
    ReopenForm,
    SystemImportForm,
    milestone_plan,
)
from .models import Criterion, IndexItem, IndexSystem, ProgressReport, Task

OVERVIEW_ROLES = (Role.HQ_ADMIN, Role.LEADER, Role.INSPECTOR)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _system(request) -> IndexSystem | None:
    """The system chosen with ?system=, else the active one."""
    chosen = _int(request.GET.get("system"))
    return IndexSystem.objects.filter(pk=chosen).first() if chosen else IndexSystem.active()


def _no_system(request):
    messages.error(request, "还没有启用的测评体系，请先导入并启用")
    return HttpResponseRedirect(reverse("indicators:systems"))


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc)


def _step(request, task: Task, action, *args, success: str):
    """Run one service step for the task's page: a message either way, back to the task."""
    try:
        action(Actor.from_request(request), *args)
    except (ValidationError, ActionRefused) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success)
    return HttpResponseRedirect(reverse("indicators:task", args=[task.pk]))


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}：{'，'.join(errors)}" if label else "，".join(errors))


# -- systems -----------------------------------------------------------------------------------


@login_required
def systems(request):
    """测评体系: the editions on file, the import form (a preview first, then the confirmation)
    and the export links."""
    actions = services.system_actions(request.user)
    form = SystemImportForm(request.POST or None, request.FILES or None)
    result, token = None, ""
    if request.method == "POST" and request.POST.get("token"):
        require_role(request.user, Role.HQ_ADMIN)
        form = SystemImportForm()
        stashed = sheets.unstash(request.POST["token"], request.user.pk)
        if stashed is None:
            messages.error(request, "预览已过期或已导入，请重新上传文件")
            return HttpResponseRedirect(reverse("indicators:systems"))
        file, fields = stashed
        system, result = services.import_system(Actor.from_request(request), file, **fields)
        if system is not None:
            messages.success(request, f"导入成功：{result.summary()}")
            return HttpResponseRedirect(reverse("indicators:system", args=[system.pk]))
    elif request.method == "POST":
        require_role(request.user, Role.HQ_ADMIN)
        if form.is_valid():
            data = form.cleaned_data
            fields = {k: data[k] for k in ("name", "version", "campaign_year", "note")}
            system, result = services.import_system(
                Actor.from_request(request), data["file"], **fields, dry_run=True
            )
            if system is not None:
                token = sheets.stash(data["file"], request.user.pk, **fields)
    listed = IndexSystem.objects.annotate(
        project_count=Count("projects", distinct=True), item_count=Count("projects__items", distinct=True)
    )
    return render(
        request,
        "indicators/systems.html",
        {"systems": listed, "form": form, "result": result, "token": token, "actions": actions},
    )


@login_required
def system_detail(request, pk: int):
    """The tree of one system: projects, items with their criteria and tasks."""
    system = get_object_or_404(IndexSystem, pk=pk)
    visible = queries.visible_tasks(request.user).select_related("lead_unit")
    projects = system.projects.prefetch_related(
        Prefetch(
            "items",
            queryset=IndexItem.objects.prefetch_related(
                Prefetch("criteria", queryset=Criterion.objects.order_by("position")),
                Prefetch("tasks", queryset=visible, to_attr="visible_tasks"),
            ),
        )
    )
    actions = services.system_actions(request.user)
    return render(
        request, "indicators/system.html", {"system": system, "projects": projects, "actions": actions}
    )


@login_required
def system_export(request, pk: int):
    system = get_object_or_404(IndexSystem, pk=pk)
    name = f"{system.name}-{system.version}.xlsx"
    return FileResponse(xlsx.export_system(system), as_attachment=True, filename=name)


@login_required
@require_POST
def system_activate(request, pk: int):
    system = get_object_or_404(IndexSystem, pk=pk)
    services.activate_system(Actor.from_request(request), system)
    messages.success(request, f"已启用 {system}（{system.campaign_year}年度）")
    return HttpResponseRedirect(reverse("indicators:systems"))


@login_required
def responsibility_export(request, pk: int):
    """责任分解表 as XLSX, of the tasks the person may see."""
    system = get_object_or_404(IndexSystem, pk=pk)
    tasks = list(
        queries.with_details(
            queries.visible_tasks(request.user).filter(item__project__system=system)
        ).order_by("item__project__position", "item__position", "pk")
    )
    name = f"责任分解表-{system.name}-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(xlsx.export_responsibility(system, tasks), as_attachment=True, filename=name)


# -- the board and a task ------------------------------------------------------------------------


@login_required
def board(request):
    """任务看板: the tasks a person may see, most urgent first, with their warnings."""
    system = IndexSystem.active()
    chosen = _int(request.GET.get("system")) or (system.pk if system else None)
    tasks = queries.filter_tasks(
        queries.visible_tasks(request.user),
        system_id=chosen,
        state=request.GET.get("state"),
        unit_id=_int(request.GET.get("unit")),
        key=request.GET.get("key") == "1",
        item_id=_int(request.GET.get("item")),
    )
    rows = queries.board(tasks)
    counts = Counter(w.level for _, w in rows if w.level)
    level = request.GET.get("level", "")
    if level in (queries.YELLOW, queries.RED):
        rows = [(t, w) for t, w in rows if w.level == level]
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "indicators/board.html",
        {
            "page": page,
            "counts": counts,
            "total": tasks.count(),
            "closed": tasks.filter(state=Task.State.CLOSED).count(),
            "requested": tasks.filter(state=Task.State.CLOSE_REQUESTED).count(),
            "systems": IndexSystem.objects.all(),
            "system_id": chosen,
            "states": Task.State.choices,
            "units": scope_for(request.user).units().order_by("code"),
            "filters": request.GET,
        },
    )


def _visible_task(request, pk: int) -> Task:
    return get_object_or_404(queries.with_details(queries.visible_tasks(request.user)), pk=pk)


@login_required
def task_detail(request, pk: int):
    task = _visible_task(request, pk)
    warning = queries.Warnings([task]).of(task)
    reports = task.reports.select_related("reported_by", "reviewed_by").prefetch_related("evidence")
    return render(
        request,
        "indicators/task.html",
        {
            "task": task,
            "warning": warning,
            "reports": reports,
            "events": task.events.select_related("actor"),
            "milestone": task.milestone_for(timezone.localdate()),
            "actions": services.allowed_actions(request.user, task),
            "progress_form": ProgressForm(initial={"percent": task.progress}),
            "close_form": CloseOutForm(),
            "note_form": NoteForm(),
            "reopen_form": ReopenForm(),
        },
    )


@login_required
@require_POST
def task_progress(request, pk: int):
    task = _visible_task(request, pk)
    form = ProgressForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return HttpResponseRedirect(reverse("indicators:task", args=[task.pk]))
    data = form.cleaned_data
    return _step(
        request,
        task,
        services.report_progress,
        task,
        data["percent"],
        data["text"],
        data["evidence"],
        success="进度已报告",
    )


@login_required
@require_POST
def task_close_out(request, pk: int):
    task = _visible_task(request, pk)
    form = CloseOutForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return HttpResponseRedirect(reverse("indicators:task", args=[task.pk]))
    data = form.cleaned_data
    return _step(
        request, task, services.request_close_out, task, data["text"], data["evidence"], success="已申请销号"
    )


@login_required
@require_POST
def task_approve(request, pk: int):
    task = _visible_task(request, pk)
    note = request.POST.get("note", "")
    return _step(request, task, services.approve_close_out, task, note, success="已批准销号")


@login_required
@require_POST
def task_reject(request, pk: int):
    task = _visible_task(request, pk)
    note = request.POST.get("note", "")
    return _step(request, task, services.reject_close_out, task, note, success="已退回销号申请")


@login_required
@require_POST
def task_reopen(request, pk: int):
    task = _visible_task(request, pk)
    reason = request.POST.get("reason", "")
    return _step(request, task, services.reopen_task, task, reason, success="任务已重新打开")


@login_required
@require_POST
def report_review(request, pk: int):
    report = get_object_or_404(
        ProgressReport.objects.filter(task__in=queries.visible_tasks(request.user)), pk=pk
    )
    accepted = request.POST.get("result") == "accept"
    note = request.POST.get("note", "")
    return _step(request, report.task, services.review_report, report, accepted, note, success="已审核")


@login_required
def evidence(request, pk: int):
    """A piece of evidence, only for those who may see its task."""
    return queries.evidence_file(request.user, pk)


# -- decomposition -------------------------------------------------------------------------------


@login_required
def task_create(request, item_pk: int):
    require_role(request.user, Role.HQ_ADMIN)
    item = get_object_or_404(IndexItem.objects.select_related("project__system"), pk=item_pk)
    form = AssignmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            task = services.create_task(
                Actor.from_request(request), item, form.assignment(), title=form.cleaned_data["title"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "任务已分解")
            return HttpResponseRedirect(reverse("indicators:task", args=[task.pk]))
    return render(request, "indicators/task_form.html", {"form": form, "item": item, "task": None})


@login_required
def task_edit(request, pk: int):
    require_role(request.user, Role.HQ_ADMIN)
    task = _visible_task(request, pk)
    initial = {
        "title": task.title,
        "lead_unit": task.lead_unit,
        "co_units": list(task.co_units.all()),
        "responsible_leader": task.responsible_leader,
        "responsible_person": task.responsible_person,
        "deadline": task.deadline,
        "acceptance_standard": task.acceptance_standard,
        "is_key": task.is_key,
    }
    form = AssignmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_task(
                Actor.from_request(request), task, form.assignment(), title=form.cleaned_data["title"]
            )
        except (ValidationError, ActionRefused) as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, "分解已调整")
            return HttpResponseRedirect(reverse("indicators:task", args=[task.pk]))
    return render(request, "indicators/task_form.html", {"form": form, "item": task.item, "task": task})


@login_required
def task_milestones(request, pk: int):
    require_role(request.user, Role.HQ_ADMIN)
    task = _visible_task(request, pk)
    initial = [
        {"month": m.month.strftime("%Y-%m"), "target": m.target, "description": m.description}
        for m in task.milestones.all()
    ]
    formset = MilestoneFormSet(request.POST or None, initial=initial)
    if request.method == "POST" and formset.is_valid():
        try:
            services.set_milestones(Actor.from_request(request), task, milestone_plan(formset))
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, "月度节点已保存")
            return HttpResponseRedirect(reverse("indicators:task", args=[task.pk]))
    return render(request, "indicators/milestones.html", {"formset": formset, "task": task})


@login_required
def bulk_assign(request):
    """批量分解: choose items (e.g. from the 五落实 check) and give them one assignment."""
    require_role(request.user, Role.HQ_ADMIN)
    system = _system(request)
    if system is None:
        return _no_system(request)
    preselected = [i for i in (_int(v) for v in request.GET.getlist("items")) if i]
    form = BulkAssignForm(request.POST or None, system=system, initial={"items": preselected})
    if request.method == "POST" and form.is_valid():
        try:
            tasks = services.bulk_assign(
                Actor.from_request(request), form.cleaned_data["items"], form.assignment()
            )
        except (ValidationError, ActionRefused) as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, f"已分解 {len(tasks)} 项任务")
            return HttpResponseRedirect(f"{reverse('indicators:check')}?system={system.pk}")
    return render(request, "indicators/bulk_assign.html", {"form": form, "system": system})


@login_required
def five_check(request):
    """五落实 check: every item still lacking a task, unit, person, progress plan or deadline."""
    require_role(request.user, Role.HQ_ADMIN)
    system = _system(request)
    if system is None:
        return _no_system(request)
    rows = queries.five_check(system)
    return render(
        request,
        "indicators/check.html",
        {
            "system": system,
            "rows": rows,
            "item_count": IndexItem.objects.filter(project__system=system).count(),
            "gap_counts": list(Counter(label for row in rows for label in row.missing).items()),
            "systems": IndexSystem.objects.all(),
        },
    )


@login_required
def matrix(request):
    """HQ's (and leaders') matrix: items × lead units, coloured by the most urgent state."""
    require_role(request.user, *OVERVIEW_ROLES)
    system = _system(request)
    if system is None:
        return _no_system(request)
    result = queries.matrix(system, queries.visible_tasks(request.user))
    return render(
        request,
        "indicators/matrix.html",
        {
            "system": system,
            "units": result.units,
            "rows": queries.matrix_cells(result),
            "labels": queries.CELL_LABELS,
            "systems": IndexSystem.objects.all(),
        },
    )
