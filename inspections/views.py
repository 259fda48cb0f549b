"""Pages of inspections 督查: the inspector's work today and the phone form, HQ's round planning,
the round report, the rectification list 整改清单, the figures, and the checklists.

Every record is fetched through its ``visible_to(user)`` queryset (outside it: 404); every step
calls its function in ``inspections.services`` and only turns the answer into a message."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from indicators.models import IndexSystem
from org.audit import Actor
from org.errors import ActionRefused
from org.models import Region, Site, SiteType

from . import exports, scoring, services, xlsx
from .filtersets import FindingFilterSet, InspectionFilterSet, RoundFilterSet
from .forms import (
    BuildChecklistForm,
    CheckItemForm,
    ChecklistImportForm,
    PlanForm,
    ToCaseForm,
    parse_submission,
)
from .models import CheckItem, Checklist, Finding, Inspection, Round, RoundSite

PAGE_SIZE = 50


def _text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return "；".join(m for ms in exc.message_dict.values() for m in ms)
        return "；".join(exc.messages)
    return str(exc)


def _is_hq(user) -> bool:
    try:
        services.check_plan(user)
    except PermissionDenied:
        return False
    return True


def _device(request) -> str:
    return request.POST.get("device") or request.META.get("HTTP_USER_AGENT", "")


# --- The inspector's day and the rounds ---------------------------------------------------------


@login_required
def index(request):
    """督查: today's sites to inspect (for the people a round names) and the rounds one may see."""
    filters = RoundFilterSet(request.GET or None, queryset=Round.objects.visible_to(request.user))
    rounds = Paginator(filters.qs.prefetch_related("inspectors"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "inspections/index.html",
        {
            "pending": services.pending_sites(request.user),
            "rounds": rounds,
            "filters": filters,
            "is_hq": _is_hq(request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
def plan(request):
    """计划轮次 (HQ): kind, period, people, sites by hand and/or drawn at random with a seed."""
    services.check_plan(request.user)
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draw = None
        if data["draw_kinds"]:
            draw = services.Draw(
                seed=data["seed"] or services.new_seed(),
                kinds=tuple(data["draw_kinds"]),
                street_codes=tuple(r.code for r in data["draw_streets"]),
                per_group=data["per_group"],
            )
        try:
            round_ = services.plan_round(
                Actor.from_request(request),
                title=data["title"],
                kind=data["kind"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                inspectors=list(data["inspectors"]),
                sites=list(data["sites"]),
                draw=draw,
                note=data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, _text(exc))
        else:
            messages.success(request, f"已计划轮次「{round_.title}」，共 {round_.round_sites.count()} 个点位")
            return HttpResponseRedirect(reverse("inspections:round", args=[round_.pk]))
    return render(request, "inspections/plan.html", {"form": form})


def _round(request, pk: int) -> Round:
    return get_object_or_404(Round.objects.visible_to(request.user), pk=pk)


@login_required
def round_report(request, pk: int):
    """轮次报告: each site's score, check-in and findings; the round's figures and line pass rates."""
    round_ = _round(request, pk)
    inspections = Inspection.objects.visible_to(request.user).filter(round=round_)
    done = {
        i.site_id: i
        for i in inspections.select_related("site__region", "inspector", "responsible_unit").prefetch_related(
            "findings"
        )
    }
    sites = []
    kinds = SiteType.names()
    named = round_.inspectors.filter(pk=request.user.pk).exists()
    whole_list = named or _is_hq(request.user)
    for rs in RoundSite.objects.filter(round=round_).select_related("site__region"):
        if not (rs.site_id in done or whole_list):
            continue  # the inspected see their own sites' results, not the round's whole list
        sites.append(
            {
                "site": rs.site,
                "kind": kinds.get(rs.site.kind, rs.site.kind),
                "drawn": rs.drawn,
                "inspection": done.get(rs.site_id),
                "percent": scoring.inspection_percent(done[rs.site_id]) if rs.site_id in done else None,
                "may_inspect": named
                and rs.site_id not in done
                and services.may_inspect(request.user, round_, rs.site),
            }
        )
    findings = Finding.objects.visible_to(request.user).filter(inspection__round=round_)
    return render(
        request,
        "inspections/round.html",
        {
            "round": round_,
            "sites": sites,
            "figures": scoring.figures(inspections, findings),
            "rates": scoring.item_pass_rates(inspections),
            "actions": services.allowed_actions(request.user, round_),
            "convertible": [f for f in findings.select_related("inspection__round") if f.case_id is None],
            "draw_text": _draw_text(round_, kinds),
            "to_case_form": ToCaseForm(),
            "is_hq": _is_hq(request.user),
        },
    )


def _draw_text(round_: Round, kinds: dict[str, str]) -> str:
    """The draw's parameters in words: types, streets and sites per group."""
    if not round_.draw:
        return ""
    streets = dict(Region.objects.filter(code__in=round_.draw["streets"]).values_list("code", "name"))
    return "；".join(
        [
            "、".join(kinds.get(k, k) for k in round_.draw["kinds"]),
            "、".join(streets.get(c, c) for c in round_.draw["streets"]),
            f"每类每街道 {round_.draw['per_group']} 个",
        ]
    )


@login_required
@require_POST
def round_step(request, pk: int, step: str):
    """结束 / 发布 / 全部转案件 on a round."""
    round_ = _round(request, pk)
    actor = Actor.from_request(request)
    try:
        if step == "close":
            services.close_round(actor, round_, request.POST.get("note", ""))
            messages.success(request, "轮次已结束")
        elif step == "publish":
            services.publish_round(actor, round_, request.POST.get("note", ""))
            messages.success(request, "暗访结果已发布，被检查单位和包保领导现在可以看到")
        elif step == "to_cases":
            form = ToCaseForm(request.POST)
            category = form.cleaned_data["category"] if form.is_valid() else None
            chosen = (
                Finding.objects.visible_to(request.user)
                .filter(inspection__round=round_, case__isnull=True)
                .exclude(status=Finding.Status.RECTIFIED)
            )
            cases = services.findings_to_cases(actor, chosen.select_related("item", "site"), category)
            messages.success(request, f"已转为 {len(cases)} 件案件")
        else:
            raise PermissionDenied
    except (ValidationError, ActionRefused) as exc:
        messages.error(request, _text(exc))
    return HttpResponseRedirect(reverse("inspections:round", args=[round_.pk]))


@login_required
def round_export(request, pk: int):
    round_ = _round(request, pk)
    inspections = Inspection.objects.visible_to(request.user).filter(round=round_)
    data = exports.round_workbook(round_, inspections, request.build_absolute_uri("/"))
    return FileResponse(data, as_attachment=True, filename=f"督查轮次-{round_.pk}.xlsx")


# --- The phone form ----------------------------------------------------------------------------


@login_required
def inspect(request, pk: int, site_pk: int):
    """检查 (phone): check in by GPS, mark every line, photograph the failures, submit once."""
    round_ = _round(request, pk)
    site = get_object_or_404(
        Site, pk=site_pk, pk__in=RoundSite.objects.filter(round=round_).values("site_id")
    )
    checklist = services.checklist_for(round_, site)
    items = list(checklist.items.select_related("criterion")) if checklist else []
    pending = (
        list(services.open_findings_at(site, round_).select_related("inspection__round"))
        if round_.kind == Round.Kind.REINSPECTION
        else []
    )
    error = ""
    if request.method == "POST":
        try:
            lines, rechecks = parse_submission(request.POST, request.FILES, items, pending)
            inspection, created = services.submit_inspection(
                Actor.from_request(request),
                round_,
                site,
                uid=request.POST.get("uid"),
                lines=lines,
                rechecks=rechecks,
                lat=request.POST.get("lat"),
                lng=request.POST.get("lng"),
                device=_device(request),
                note=request.POST.get("note", ""),
            )
        except (ValidationError, ActionRefused) as exc:
            error = _text(exc)
        else:
            if created:
                messages.success(
                    request, f"已提交：{site.name} 得分 {inspection.score}/{inspection.full_points}"
                )
            else:
                messages.info(request, "该检查已提交过，未重复记录")
            return HttpResponseRedirect(reverse("inspections:inspection", args=[inspection.pk]) + "?sent=1")
    else:
        try:
            services.check_submit(request.user, round_, site)
        except (ValidationError, ActionRefused) as exc:
            error = _text(exc)
    return render(
        request,
        "inspections/inspect.html",
        {
            "round": round_,
            "site": site,
            "items": items,
            "pending": pending,
            "uid": request.POST.get("uid") or uuid.uuid4(),
            "error": error,
            "posted": request.POST,
            "radius": services.checkin_radius_m(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def inspection_detail(request, pk: int):
    inspection = get_object_or_404(
        Inspection.objects.visible_to(request.user).select_related("round", "site", "inspector"), pk=pk
    )
    results = inspection.results.select_related("item", "finding").prefetch_related("finding__photos")
    return render(
        request,
        "inspections/inspection.html",
        {
            "inspection": inspection,
            "results": results,
            "percent": scoring.inspection_percent(inspection),
            "sent": request.GET.get("sent") == "1",
            "verified": inspection.verified_findings.select_related("item"),
        },
    )


@login_required
def inspection_list(request):
    """检查记录: the inspections behind the figures (score, check-in, who answers for the site)."""
    filters = InspectionFilterSet(
        request.GET or None, queryset=Inspection.objects.visible_to(request.user), request=request
    )
    page = Paginator(
        filters.qs.select_related("round", "site__region", "inspector", "responsible_unit"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "inspections/inspections.html", {"filters": filters, "page": page})


# --- The rectification list --------------------------------------------------------------------


@login_required
def finding_list(request):
    """整改清单: each finding with its responsible unit, leader, deadline and state."""
    filters = FindingFilterSet(
        request.GET or None, queryset=Finding.objects.visible_to(request.user), request=request
    )
    qs = filters.qs.select_related(
        "site", "item", "responsible_unit", "responsible_leader", "case", "inspection__round"
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "inspections/findings.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "now": timezone.now(),
            "is_hq": _is_hq(request.user),
            "to_case_form": ToCaseForm(),
        },
    )


@login_required
def finding_export(request):
    filters = FindingFilterSet(
        request.GET or None, queryset=Finding.objects.visible_to(request.user), request=request
    )
    data = exports.findings_workbook(filters.qs, request.build_absolute_uri("/"))
    return FileResponse(data, as_attachment=True, filename=f"整改清单-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_POST
def findings_to_cases(request):
    """转案件 for the findings ticked on the list (all or none)."""
    ids = [int(x) for x in request.POST.getlist("finding") if x.isdigit()]
    chosen = Finding.objects.visible_to(request.user).filter(pk__in=ids).select_related("item", "site")
    form = ToCaseForm(request.POST)
    category = form.cleaned_data["category"] if form.is_valid() else None
    try:
        cases = services.findings_to_cases(Actor.from_request(request), chosen, category)
    except (ValidationError, ActionRefused) as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(request, f"已转为 {len(cases)} 件案件：{'、'.join(c.number for c in cases)}")
    return HttpResponseRedirect(request.POST.get("next") or reverse("inspections:findings"))


@login_required
def finding_detail(request, pk: int):
    finding = get_object_or_404(
        Finding.objects.visible_to(request.user).select_related(
            "site", "item__criterion", "inspection__round", "responsible_unit", "responsible_leader", "case"
        ),
        pk=pk,
    )
    form = ToCaseForm(request.POST or None)
    if request.method == "POST":
        category = form.cleaned_data["category"] if form.is_valid() else None
        try:
            case = services.finding_to_case(Actor.from_request(request), finding, category)
        except (ValidationError, ActionRefused) as exc:
            messages.error(request, _text(exc))
        else:
            messages.success(request, f"已转为案件 {case.number}")
        return HttpResponseRedirect(reverse("inspections:finding", args=[finding.pk]))
    return render(
        request,
        "inspections/finding.html",
        {
            "finding": finding,
            "photos": finding.photos.all(),
            "events": finding.events.select_related("actor"),
            "actions": services.allowed_actions(request.user, finding),
            "form": form,
            "now": timezone.now(),
        },
    )


# --- Figures -----------------------------------------------------------------------------------


@login_required
def figures(request):
    """督查指标: sites inspected, average score, findings, 整改率 and 按期整改率 (each opening its
    records), line pass rates, and the rollup chosen (street, community, type, unit, leader, week, month)."""
    filters = InspectionFilterSet(
        request.GET or None, queryset=Inspection.objects.visible_to(request.user), request=request
    )
    inspections = filters.qs
    findings = Finding.objects.visible_to(request.user).filter(inspection__in=inspections.values("pk"))
    by = request.GET.get("by") if request.GET.get("by") in scoring.GROUPINGS else "street"
    query = request.GET.copy()
    query.pop("by", None)
    return render(
        request,
        "inspections/figures.html",
        {
            "filters": filters,
            "figures": scoring.figures(inspections, findings),
            "rates": scoring.item_pass_rates(inspections),
            "rows": scoring.rollup(inspections, by),
            "by": by,
            "by_label": scoring.GROUPINGS[by],
            "groupings": scoring.GROUPINGS,
            "query": query.urlencode(),
        },
    )


# --- Checklists --------------------------------------------------------------------------------


@login_required
def checklists(request):
    """测评表: the checklists of the chosen index system (HQ edits lines and builds new ones)."""
    chosen = request.GET.get("system")
    system = (
        IndexSystem.objects.filter(pk=chosen).first() if chosen and chosen.isdigit() else IndexSystem.active()
    )
    is_hq = _is_hq(request.user)
    build = None
    if system is not None:
        build = BuildChecklistForm(request.POST or None, criteria=services.field_criteria(system))
        if request.method == "POST" and is_hq and build.is_valid():
            picked = services.field_criteria(system).filter(pk__in=build.cleaned_data["criteria"])
            try:
                made = services.build_checklist(
                    Actor.from_request(request),
                    system,
                    build.cleaned_data["site_kind"],
                    picked,
                    build.cleaned_data["name"],
                )
            except (ValidationError, ActionRefused) as exc:
                messages.error(request, _text(exc))
            else:
                messages.success(request, f"已新建{made.name}")
                return HttpResponseRedirect(reverse("inspections:checklists") + f"?system={system.pk}")
    lists = Checklist.objects.filter(system=system).prefetch_related("items__category") if system else []
    return render(
        request,
        "inspections/checklists.html",
        {
            "system": system,
            "systems": IndexSystem.objects.all(),
            "checklists": lists,
            "kinds": SiteType.names(),
            "build": build,
            "upload": ChecklistImportForm(),
            "is_hq": is_hq,
        },
    )


@login_required
def checklists_export(request, system_pk: int):
    system = get_object_or_404(IndexSystem, pk=system_pk)
    name = f"测评表-{system.name}-{system.version}.xlsx"
    return FileResponse(xlsx.export_checklists(system), as_attachment=True, filename=name)


@login_required
@require_POST
def checklists_import(request, system_pk: int):
    """导入测评表 (HQ): the whole file is checked first; any error imports nothing."""
    system = get_object_or_404(IndexSystem, pk=system_pk)
    form = ChecklistImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择 XLSX 文件")
    else:
        result = services.import_checklists(Actor.from_request(request), system, form.cleaned_data["file"])
        if result.ok:
            messages.success(request, f"导入成功：{result.summary()}")
        else:
            messages.error(request, f"文件有 {len(result.errors)} 处错误，未导入任何数据")
            for error in result.errors[:50]:
                messages.error(request, str(error))
    return HttpResponseRedirect(reverse("inspections:checklists") + f"?system={system.pk}")


@login_required
def check_item(request, pk: int):
    """改项 (HQ): a line's text, points, deduction rule, photo requirement and case category."""
    services.check_edit_checklist(request.user)
    item = get_object_or_404(CheckItem.objects.select_related("checklist", "criterion"), pk=pk)
    form = CheckItemForm(request.POST or None, instance=CheckItem.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_check_item(
                Actor.from_request(request),
                item,
                text=data["text"],
                points=data["points"],
                rule=data["rule"],
                unit_deduction=data["unit_deduction"],
                cap=data["cap"],
                photo_required=data["photo_required"],
                category=data["category"],
            )
        except ValidationError as exc:
            form.add_error(None, _text(exc))
        else:
            messages.success(request, f"已保存检查项 {item.code}")
            return HttpResponseRedirect(
                reverse("inspections:checklists") + f"?system={item.checklist.system_id}"
            )
    return render(request, "inspections/check_item.html", {"item": item, "form": form})
