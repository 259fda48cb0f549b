"""Pages of report materials: the clerk's month (phone first) and a submission's page, the
reviewer's queue, HQ's monthly plan and requirement form, the submission list behind every
figure, the ranking, the cards, the upward package, and the files (only through scope checks)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Role
from org.scope import require_role, scope_for

from . import figures, package, services
from .filtersets import CardFilter, SubmissionFilter
from .forms import (
    CardForm,
    DraftForm,
    GenerateForm,
    MonthForm,
    RequirementForm,
    ReturnForm,
    RevokeForm,
    ScoreForm,
)
from .models import Card, MaterialFile, Requirement, Submission


def _error_text(exc: Exception) -> str:
    return "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _run(request, action, *args, success: str, **kwargs) -> bool:
    """Run one service step for a page; a message either way."""
    try:
        action(Actor.from_request(request), *args, **kwargs)
    except (ValidationError, ActionRefused) as exc:
        messages.error(request, _error_text(exc))
        return False
    messages.success(request, success)
    return True


def _form_errors(request, form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        messages.error(request, f"{label}：{'，'.join(errors)}" if label else "，".join(errors))


def _submission(request, pk: int) -> Submission:
    qs = services.visible_submissions(request.user).select_related(
        "requirement__criterion__item", "requirement__reviewer", "unit"
    )
    return get_object_or_404(qs, pk=pk)


def _back(submission: Submission):
    return HttpResponseRedirect(reverse("materials:submission", args=[submission.pk]))


def _is_hq(user) -> bool:
    return user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN)


# -- the clerk ---------------------------------------------------------------------------------


@login_required
def mine(request):
    """本月网报: the clerk's requirements of the month with what is missing and the days left,
    and earlier months' work still open."""
    month = MonthForm(request.GET or None).chosen()
    own = Submission.objects.filter(
        unit__memberships__user=request.user, unit__memberships__role__in=services.CLERK_ROLES
    ).select_related("requirement", "unit")
    today = timezone.localdate()

    def rows(qs):
        return [(s, services.missing(s) if s.is_open else [], services.days_left(s, today)) for s in qs]

    current = own.filter(requirement__month=month).prefetch_related("files")
    earlier = own.filter(requirement__month__lt=month, state__in=Submission.EDITABLE).prefetch_related(
        "files"
    )
    return render(
        request,
        "materials/mine.html",
        {
            "month": month,
            "rows": rows(current),
            "earlier": rows(earlier),
            "is_clerk": scope_for(request.user).has_role(*services.CLERK_ROLES),
            "cards": Card.objects.filter(
                unit__memberships__user=request.user,
                unit__memberships__role__in=services.CLERK_ROLES,
                revoked_at__isnull=True,
            ).select_related("unit")[:12],
        },
    )


@login_required
def submission(request, pk: int):
    """A submission: its requirement and criterion, files, text, review and history, with the
    steps the person may take now."""
    sub = _submission(request, pk)
    actions = services.allowed_actions(request.user, sub)
    files = list(sub.files.all())
    return render(
        request,
        "materials/submission.html",
        {
            "sub": sub,
            "req": sub.requirement,
            "actions": actions,
            "photos": [f for f in files if f.kind == MaterialFile.Kind.PHOTO],
            "documents": [f for f in files if f.kind == MaterialFile.Kind.DOCUMENT],
            "missing": services.missing(sub) if sub.is_open else [],
            "days_left": services.days_left(sub),
            "draft_form": DraftForm(initial={"text": sub.text}),
            "score_form": ScoreForm(initial={"version": sub.version}),
            "return_form": ReturnForm(initial={"version": sub.version}),
            "events": sub.events.select_related("actor"),
            "cards": sub.cards.all(),
        },
    )


@login_required
@require_POST
def submission_save(request, pk: int):
    """Save the text and any chosen files; with ``submit`` also hand it in."""
    sub = _submission(request, pk)
    form = DraftForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(sub)
    data = form.cleaned_data
    if not _run(request, services.save_draft, sub, data["text"], success="草稿已保存"):
        return _back(sub)
    if data["uploads"] and not _run(
        request, services.add_files, sub, data["uploads"], success=f"已上传 {len(data['uploads'])} 个文件"
    ):
        return _back(sub)
    if "submit" in request.POST:
        _run(request, services.submit, sub, success="已提交，等待审核")
    return _back(sub)


@login_required
@require_POST
def file_remove(request, pk: int):
    item = get_object_or_404(
        MaterialFile.objects.filter(submission__in=services.visible_submissions(request.user)), pk=pk
    )
    _run(request, services.remove_file, item, success=f"已删除「{item.name}」")
    return _back(item.submission)


@login_required
def file_view(request, pk: int, variant: str = "file"):
    """A file of a submission, only for those who may see the submission (photos: the copy
    without metadata, or its thumbnail)."""
    item = get_object_or_404(
        MaterialFile.objects.filter(submission__in=services.visible_submissions(request.user)), pk=pk
    )
    stored = item.thumbnail if variant == "thumb" and item.thumbnail else item.file
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404("文件已不存在") from None
    return FileResponse(
        handle,
        filename=item.name,
        content_type=item.content_type,
        as_attachment=item.kind == MaterialFile.Kind.DOCUMENT,
    )


@login_required
def template_view(request, pk: int):
    req = get_object_or_404(services.visible_requirements(request.user), pk=pk)
    if not req.template:
        raise Http404("没有模板文件")
    try:
        handle = req.template.open("rb")
    except FileNotFoundError:
        raise Http404("文件已不存在") from None
    return FileResponse(handle, filename=req.template_name, as_attachment=True)


# -- the reviewer --------------------------------------------------------------------------------


@login_required
def review_queue(request):
    """待审核: the submissions waiting for this reviewer, earliest due date first."""
    waiting = (
        Submission.objects.filter(requirement__reviewer=request.user, state=Submission.State.SUBMITTED)
        .select_related("requirement__criterion", "unit")
        .prefetch_related("files")
        .order_by("requirement__due_date", "submitted_at")
    )
    page = Paginator(waiting, 50).get_page(request.GET.get("page"))
    return render(request, "materials/review_queue.html", {"page": page})


@login_required
@require_POST
def submission_score(request, pk: int):
    sub = _submission(request, pk)
    form = ScoreForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(sub)
    data = form.cleaned_data
    if _run(
        request,
        services.score_submission,
        sub,
        data["score"],
        data["comment"],
        version=data["version"],
        success="已评分",
    ):
        return HttpResponseRedirect(reverse("materials:review_queue"))
    return _back(sub)


@login_required
@require_POST
def submission_return(request, pk: int):
    sub = _submission(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(sub)
    data = form.cleaned_data
    if _run(
        request,
        services.return_submission,
        sub,
        data["reason"],
        version=data["version"],
        success="已退回修改",
    ):
        return HttpResponseRedirect(reverse("materials:review_queue"))
    return _back(sub)


# -- HQ: planning the month -----------------------------------------------------------------------


@login_required
def plan(request):
    """月初安排: the month's requirements with their progress; generate, copy, add."""
    require_role(request.user, Role.HQ_ADMIN)
    month = MonthForm(request.GET or None).chosen()
    S = Submission.State
    requirements = (
        Requirement.objects.filter(month=month)
        .select_related("criterion", "reviewer")
        .annotate(
            total=Count("submissions"),
            draft=Count("submissions", filter=Q(submissions__state=S.DRAFT)),
            waiting=Count("submissions", filter=Q(submissions__state=S.SUBMITTED)),
            returned=Count("submissions", filter=Q(submissions__state=S.RETURNED)),
            accepted=Count("submissions", filter=Q(submissions__state=S.ACCEPTED)),
        )
    )
    return render(
        request,
        "materials/plan.html",
        {
            "month": month,
            "previous": services.previous_month(month),
            "requirements": requirements,
            "generate_form": GenerateForm(),
            "default_due": services.default_due_date(month),
        },
    )


@login_required
@require_POST
def plan_generate(request):
    require_role(request.user, Role.HQ_ADMIN)
    month = MonthForm(request.POST).chosen()
    form = GenerateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = services.generate_month(
                Actor.from_request(request), month, form.units(), data["reviewer"], data["due_date"]
            )
        except (ValidationError, ActionRefused) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"已生成 {len(made)} 项资料要求")
    else:
        _form_errors(request, form)
    return HttpResponseRedirect(f"{reverse('materials:plan')}?month={month:%Y-%m}")


@login_required
@require_POST
def plan_copy(request):
    require_role(request.user, Role.HQ_ADMIN)
    month = MonthForm(request.POST).chosen()
    try:
        made = services.copy_previous_month(Actor.from_request(request), month)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已按上月生成 {len(made)} 项资料要求")
    return HttpResponseRedirect(f"{reverse('materials:plan')}?month={month:%Y-%m}")


def _requirement_form(request, requirement: Requirement | None):
    require_role(request.user, Role.HQ_ADMIN)
    month = requirement.month if requirement else MonthForm(request.GET or None).chosen()
    initial = (
        RequirementForm.initial_for(requirement)
        if requirement
        else {"due_date": services.default_due_date(month)}
    )
    form = RequirementForm(request.POST or None, request.FILES or None, month=month, initial=initial)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        data = form.cleaned_data
        try:
            if requirement is None:
                requirement = services.create_requirement(
                    actor, month, form.spec(), data["units"], data["template"]
                )
            else:
                services.update_requirement(actor, requirement, form.spec(), data["units"], data["template"])
        except ValidationError as exc:
            form.add_error(None, exc)
        except ActionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "资料要求已保存")
            return HttpResponseRedirect(f"{reverse('materials:plan')}?month={month:%Y-%m}")
    return render(
        request, "materials/requirement_form.html", {"form": form, "month": month, "requirement": requirement}
    )


@login_required
def requirement_new(request):
    return _requirement_form(request, None)


@login_required
def requirement_edit(request, pk: int):
    return _requirement_form(request, get_object_or_404(Requirement, pk=pk))


# -- lists and figures --------------------------------------------------------------------------


@login_required
def submissions(request):
    """资料报送查询: every figure links here with its filters."""
    qs = services.visible_submissions(request.user).select_related("requirement", "unit")
    filterset = SubmissionFilter(
        request.GET or None,
        queryset=qs.order_by("-requirement__month", "requirement__due_date", "unit__code"),
    )
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "materials/submissions.html", {"filter": filterset, "page": page})


@login_required
def ranking(request):
    """排名: the month's score rate, on-time and return rates and cards, ranked with ties; and
    the last six months' trend."""
    scope = services.check_figures(request.user)
    month = MonthForm(request.GET or None).chosen()
    level = request.GET.get("level") if request.GET.get("level") in figures.LEVELS else "unit"
    units = None if scope.everything else scope.units()
    months = figures.months_back(month, 6)
    trend = figures.trend(months, level, units)
    for line in trend:
        line["pairs"] = list(zip(months, line["cells"], strict=True))
    return render(
        request,
        "materials/ranking.html",
        {
            "month": month,
            "level": level,
            "levels": figures.LEVELS,
            "rows": figures.monthly(month, level, units),
            "months": months,
            "trend": trend,
            "level_label": figures.LEVELS[level],
            "filter_key": "unit" if level == "unit" else "region",
        },
    )


@login_required
def cards(request):
    """红黄牌: the cards on file (revoked ones kept and marked); HQ issues, revokes and runs the
    monthly job here."""
    qs = services.visible_cards(request.user).select_related("unit", "issued_by", "revoked_by")
    filterset = CardFilter(request.GET or None, queryset=qs.prefetch_related("submissions__requirement"))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "materials/cards.html",
        {
            "filter": filterset,
            "page": page,
            "is_hq": _is_hq(request.user),
            "card_form": CardForm(
                initial={"month": f"{services.previous_month(timezone.localdate()):%Y-%m}"}
            ),
            "revoke_form": RevokeForm(),
            "last_month": services.previous_month(timezone.localdate()),
        },
    )


@login_required
@require_POST
def card_issue(request):
    require_role(request.user, Role.HQ_ADMIN)
    form = CardForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        _run(
            request,
            services.issue_card,
            data["unit"],
            data["month"],
            data["color"],
            data["reason"],
            success="已认定",
        )
    else:
        _form_errors(request, form)
    return HttpResponseRedirect(reverse("materials:cards"))


@login_required
@require_POST
def card_revoke(request, pk: int):
    card = get_object_or_404(services.visible_cards(request.user), pk=pk)
    form = RevokeForm(request.POST)
    if form.is_valid():
        _run(request, services.revoke_card, card, form.cleaned_data["reason"], success="已撤销")
    else:
        _form_errors(request, form)
    return HttpResponseRedirect(reverse("materials:cards"))


@login_required
@require_POST
def cards_monthly(request):
    month = MonthForm(request.POST).chosen()
    try:
        issued = services.issue_monthly_cards(Actor.from_request(request), month)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{month:%Y年%m月}新认定 {len(issued)} 张红黄牌")
    return HttpResponseRedirect(f"{reverse('materials:cards')}?month={month:%Y-%m}")


@login_required
def package_download(request):
    """上报资料包: the month's accepted materials as one ZIP, streamed from a temporary file."""
    services.check_package(request.user)
    month = MonthForm(request.GET or None).chosen()
    handle, count = package.build_tempfile(month)
    record(
        Actor.from_request(request),
        "materials.package",
        None,
        f"导出{month:%Y年%m月}上报资料包（{count} 个文件）",
    )
    return FileResponse(
        handle, as_attachment=True, filename=f"网报资料-{month:%Y-%m}.zip", content_type="application/zip"
    )
