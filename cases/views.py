"""The case pages 案件: report, queues, detail with timeline, list, export, summary and metrics.

Views only read and render; every state change calls its ``cases.services`` function with the
actor of the request. ``PermissionDenied`` becomes the 403 page, ``ValidationError`` and
``ActionRefused`` a message on the page the person came from (nothing has changed).
"""

import datetime as dt
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, prefetch_related_objects
from django.forms.utils import flatatt
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from org.audit import Actor
from org.errors import ActionRefused
from org.models import Role, Unit
from org.scope import require_role, scope_for
from workdays.clock import due_soon_until
from workdays.models import DeadlineRule

from . import export, keyset, metrics, monthly_summary, queues, services, stored_figures
from .filtersets import CaseFilterSet
from .forms import (
    DecideExtensionForm,
    DispatchForm,
    ExtensionForm,
    HandleForm,
    MergeForm,
    NoteForm,
    ReasonForm,
    ReclassifyForm,
    ReportForm,
)
from .models import Case, CaseEvent, CasePart, CasePhoto, Category, ExtensionRequest, FieldCheck
from .routing import RoutingTable, suggest_unit

COMMAND_ROLES = services.COMMAND_ROLES
PAGE_SIZES = (20, 50, 100, 200)


def map_config() -> dict:
    """What the browser map needs: the tile template (may be empty: pins still draw), its
    attribution, whether the tiles are in GCJ-02 (AMap, Tencent) and the default centre."""
    return {
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "crs": settings.MAP_TILE_CRS,
        "center": list(settings.MAP_CENTER),
    }


def _pins(cases) -> list[dict]:
    return [
        {
            "lat": float(c.lat),
            "lng": float(c.lng),
            "label": f"{c.number} {c.category.name}",
            "url": reverse("cases:detail", args=[c.pk]),
        }
        for c in cases
    ]


def _page(request, qs, default: int = 20):
    try:
        size = int(request.GET.get("per_page", default))
    except ValueError:
        size = default
    return Paginator(qs, size if size in PAGE_SIZES else default).get_page(request.GET.get("page"))


def _back(request, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = default
    return HttpResponseRedirect(target or default)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc)


def _form_error(form) -> ValidationError:
    """A form's errors as one ValidationError, each message with the label of its field."""
    return ValidationError(
        [
            f"{form.fields[name].label}：{e}" if name in form.fields and form.fields[name].label else str(e)
            for name, errors in form.errors.items()
            for e in errors
        ]
    )


# ---------------------------------------------------------------------------------------------
# Report 上报


@login_required
def report(request):
    """上报: category, photos from the camera, GPS or a map pick, address and description."""
    require_role(request.user, *services.REPORT_ROLES)
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.report_case(
                Actor.from_request(request),
                category=data["category"],
                description=data["description"],
                lat=data["lat"],
                lng=data["lng"],
                address=data["address"],
                urgent=data["urgent"],
                photos_uploaded=data["photos"],
            )
        except (ValidationError, ActionRefused) as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, f"已上报，案件编号 {case.number}")
            nearby = services.duplicate_suggestions(
                request.user, case.category, case.lat, case.lng, exclude=case
            )
            if nearby:
                numbers = "、".join(c.number for c in nearby[:5])
                messages.warning(request, f"附近已有同类未结案件 {numbers}，受理员将判断是否合并")
            return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
    return render(request, "cases/report.html", {"form": form, "map_config": map_config()})


@login_required
def duplicates(request):
    """Open cases of the same category near a point (JSON), for the report page before submit."""
    require_role(request.user, *services.REPORT_ROLES)
    chosen = request.GET.get("category", "")
    category = Category.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
    except (KeyError, ValueError):
        return JsonResponse({"detail": "请提供纬度和经度"}, status=400)
    if category is None:
        return JsonResponse({"detail": "请选择类别"}, status=400)
    near = services.duplicate_suggestions(request.user, category, lat, lng)
    return JsonResponse(
        {
            "results": [
                {
                    "number": c.number,
                    "status": c.get_status_display(),
                    "address": c.address,
                    "url": reverse("cases:detail", args=[c.pk]),
                }
                for c in near
            ]
        }
    )


# ---------------------------------------------------------------------------------------------
# Queues


@login_required
def dispatch_queue(request):
    """受理派遣: reports to accept, reject or merge; accepted and returned cases to dispatch."""
    require_role(request.user, *COMMAND_ROLES)
    tab = "dispatch" if request.GET.get("tab") == "dispatch" else "reported"
    related = ("category", "region", "grid", "reporter")
    if tab == "reported":
        qs = queues.reported().select_related(*related).order_by("reported_at", "pk")
        page = _page(request, qs)
        rows = list(page)
        # Duplicates found at intake are kept on the report event; two queries for the page.
        found = services.suggestions_for(request.user, rows)
        for case in rows:
            case.duplicate_cases = found[case.pk]
    else:
        qs = queues.to_dispatch().select_related(*related).order_by("due_at", "pk")
        page = _page(request, qs)
        rows = list(page)
        table = RoutingTable()  # every rule read once: two queries whatever the page size
        for case in rows:
            case.suggested_unit = table.suggest(case.category, case.region, case.grid)
    counts = {"reported": queues.reported().count(), "dispatch": queues.to_dispatch().count()}
    now = timezone.now()
    return render(
        request,
        "cases/dispatch_queue.html",
        {
            "tab": tab,
            "page": page,
            "rows": rows,
            "counts": counts,
            "units": DispatchForm.unit_choices(),
            "now": now,
            "soon": due_soon_until(now),
        },
    )


@login_required
def unit_queue(request):
    """待办案件: the parts dispatched to the person's units, by deadline (overdue first);
    ``?state=overdue`` or ``due_soon`` narrows to those (the home page's counts open them)."""
    unit_ids = queues.handler_unit_ids(require_role(request.user, Role.HANDLER))
    pending = ExtensionRequest.objects.filter(part=OuterRef("pk"), status=ExtensionRequest.Status.PENDING)
    state = request.GET.get("state")
    now = timezone.now()
    qs = (
        queues.unit_parts(unit_ids, state, now)
        .select_related("case__category", "case__region", "unit")
        .annotate(extension_pending=Exists(pending))
        .order_by("deadline", "pk")
    )
    page = _page(request, qs)
    return render(
        request,
        "cases/unit_queue.html",
        {
            "page": page,
            "now": now,
            "soon": due_soon_until(now),
            "state": queues.UNIT_STATES.get(state or ""),
            "overdue_count": queues.unit_parts(unit_ids, "overdue", now).count(),
        },
    )


@login_required
def verify_queue(request):
    """核查: handled cases to close, or to send back for rework with a reason."""
    require_role(request.user, *COMMAND_ROLES)
    qs = (
        queues.to_verify()
        .select_related("category", "region", "lead_unit")
        .prefetch_related(
            "photos",
            Prefetch("field_checks", queryset=FieldCheck.objects.select_related("verifier")),
        )
        .order_by("due_at", "pk")
    )
    page = _page(request, qs)
    for c in page:
        # The card: before and after photos side by side, the field check of this round if any.
        c.before_photos = [ph for ph in c.photos.all() if ph.kind == CasePhoto.Kind.BEFORE]
        c.after_photos = [ph for ph in c.photos.all() if ph.kind != CasePhoto.Kind.BEFORE]
        c.field_check = services.current_field_check(c)
        c.actions = services.allowed_actions(request.user, c)
    now = timezone.now()
    return render(
        request,
        "cases/verify_queue.html",
        {"page": page, "now": now, "soon": due_soon_until(now), "far_m": services.field_check_far_meters()},
    )


@login_required
def extensions(request):
    """延期审批: the units' pending extension requests."""
    require_role(request.user, *COMMAND_ROLES)
    qs = (
        queues.pending_extensions()
        .select_related("part__case__category", "part__unit", "requested_by")
        .order_by("requested_at", "pk")
    )
    return render(request, "cases/extensions.html", {"page": _page(request, qs)})


# ---------------------------------------------------------------------------------------------
# One case


def _visible_case(request, pk: int, *prefetch) -> Case:
    # Not merged_into: joining the case table to itself quadrupled PostgreSQL's planning time
    # (2 -> 8.5 ms, against 0.3 ms to run); the few merged cases read their target when shown.
    qs = Case.objects.visible_to(request.user).select_related(
        "category", "region", "grid", "reporter", "reporter_unit", "lead_unit"
    )
    return get_object_or_404(qs.prefetch_related(*prefetch), pk=pk)


@login_required
def detail(request, pk: int):
    """Facts, parts with deadlines, the timeline with every actor, photos, map and the actions."""
    parts_with_requests = CasePart.objects.select_related("unit").prefetch_related(
        Prefetch("extension_requests", queryset=ExtensionRequest.objects.select_related("requested_by"))
    )
    case = _visible_case(request, pk, Prefetch("parts", queryset=parts_with_requests))
    parts = list(case.parts.all())  # prefetched: the action checks below read the same list
    if case.handled_at is not None:  # field checks 现场核查 exist only once a case was handled
        prefetch_related_objects(
            [case], Prefetch("field_checks", queryset=FieldCheck.objects.select_related("verifier"))
        )
    field_checks = list(case.field_checks.all()) if case.handled_at is not None else []
    events = list(case.events.select_related("actor", "actor_unit", "part__unit"))
    photos = list(case.photos.all())  # one query for the gallery and the timeline's photos
    for e in events:
        e.event_photos = [ph for ph in photos if ph.event_id == e.pk]  # type: ignore[attr-defined]
    _describe(events)
    actions = services.allowed_actions(request.user, case)
    duplicates = services.suggestions_for(request.user, [case], events)[case.pk]
    suggested = None
    if "dispatch" in actions:
        suggested = suggest_unit(case.category, case.region, case.grid)
    pending_requests = [
        r for p in parts for r in p.extension_requests.all() if r.status == ExtensionRequest.Status.PENDING
    ]
    scope = scope_for(request.user)
    own_parts = [p for p in parts if p.is_active and scope.acts_for(p.unit_id, Role.HANDLER)]
    now = timezone.now()
    soon = due_soon_until(now)
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "far_m": services.field_check_far_meters(),
            "field_checks": field_checks,
            "parts": parts,
            "events": events,
            "photos": photos,
            "actions": actions,
            "duplicates": duplicates,
            "pending_requests": pending_requests,
            "own_parts": own_parts,
            # The forms of the steps the person may take only (their choices cost queries).
            "dispatch_form": DispatchForm(initial={"lead_unit": suggested})
            if "dispatch" in actions
            else None,
            "suggested": suggested,
            "handle_form": HandleForm(),
            "reclassify_form": ReclassifyForm(initial={"category": case.category_id})
            if "reclassify" in actions
            else None,
            # An urgent part counts clock hours: its extension is asked in hours.
            "extension_form": ExtensionForm(
                initial={"hours": 1}
                if any(p.deadline_rule == DeadlineRule.CLOCK_HOURS for p in parts)
                else {"days": 1}
            ),
            "map_config": map_config(),
            "pins": _pins([case]),
            "overdue": case.is_overdue(now),
            "due_soon": case.due_at is not None and now <= case.due_at < soon and case.is_open,
            "now": now,
            "soon": soon,
        },
    )


def _describe(events: list[CaseEvent]) -> None:
    """A line per event from what the service recorded beside it (units, days, target case)."""
    unit_ids = {
        pk
        for e in events
        if e.action == CaseEvent.Action.DISPATCH
        for pk in [e.data.get("lead_unit"), *e.data.get("co_units", [])]
        if pk
    }
    names = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name")) if unit_ids else {}
    for e in events:
        data, text = e.data or {}, ""
        if e.action == CaseEvent.Action.DISPATCH:
            text = f"主办：{names.get(data.get('lead_unit') or 0, '')}"
            if data.get("co_units"):
                text += "；配合：" + "、".join(names.get(pk, "") for pk in data["co_units"])
            if data.get("overridden"):
                text += "（未采用派单建议）"
        elif "days" in data:
            text = f"{data['days']} 个工作日"
        elif e.action == CaseEvent.Action.RECOMPUTE_DEADLINE:
            old, new = (dt.datetime.fromisoformat(data[k]) for k in ("previous", "deadline"))
            text = f"处置时限 {old:%m-%d %H:%M} → {new:%m-%d %H:%M}{'（暂定）' if data.get('provisional') else ''}"
        elif e.action == CaseEvent.Action.MERGE and data.get("into"):
            text = f"合并至 {data['into']}"
        elif e.action == CaseEvent.Action.REPORT and data.get("duplicates"):
            text = f"附近有 {len(data['duplicates'])} 件同类未结案件"
        e.summary = text  # type: ignore[attr-defined]  # shown by the timeline


def _part(request, case: Case) -> CasePart | None:
    """The part a handler acts for, when they chose one (a joint case with two of their units)."""
    pk = request.POST.get("part")
    if not pk:
        return None
    return get_object_or_404(CasePart, pk=pk, case=case)


def _valid(form):
    if not form.is_valid():
        raise _form_error(form)
    return form.cleaned_data


def _accept(request, actor, case):
    services.accept_case(actor, case, _valid(NoteForm(request.POST))["note"])
    return f"案件 {case.number} 已立案"


def _reject(request, actor, case):
    services.reject_case(actor, case, _valid(ReasonForm(request.POST))["reason"])
    return f"案件 {case.number} 不予立案"


def _reclassify(request, actor, case):
    data = _valid(ReclassifyForm(request.POST))
    services.reclassify_case(actor, case, data["category"], data["reason"])
    return f"案件 {case.number} 已改为 {data['category'].name}"


def _merge(request, actor, case):
    data = _valid(MergeForm(request.POST))
    services.merge_case(actor, case, data["into"], data["reason"])
    return f"案件 {case.number} 已合并至 {data['into'].number}"


def _dispatch(request, actor, case):
    data = _valid(DispatchForm(request.POST))
    services.dispatch_case(actor, case, data["lead_unit"], data["co_units"], data["note"])
    return f"案件 {case.number} 已派至 {data['lead_unit'].name}"


def _start(request, actor, case):
    services.start_handling(actor, case, _part(request, case))
    return f"案件 {case.number} 开始处置"


def _handle(request, actor, case):
    form = HandleForm(request.POST, request.FILES)
    data = _valid(form)
    services.handle_part(actor, case, data["photos"], data["note"], _part(request, case))
    return f"案件 {case.number} 已处置完成，等待核查"


def _request_extension(request, actor, case):
    data = _valid(ExtensionForm(request.POST))
    services.request_extension(
        actor, case, data["days"], data["reason"], _part(request, case), hours=data["hours"] or 0
    )
    return f"已申请延期 {data['days']} 个工作日"


def _return(request, actor, case):
    services.return_case(actor, case, _valid(ReasonForm(request.POST))["reason"], _part(request, case))
    return f"案件 {case.number} 已退单"


def _decide_extension(request, actor, case):
    data = _valid(DecideExtensionForm(request.POST))
    ext = get_object_or_404(ExtensionRequest, pk=data["request"], part__case=case)
    services.decide_extension(actor, case, ext, data["approve"], data["note"])
    return "已批准延期" if data["approve"] else "已驳回延期申请"


def _verify(request, actor, case):
    services.verify_case(actor, case, _valid(NoteForm(request.POST))["note"])
    return f"案件 {case.number} 核查通过，已结案"


def _rework(request, actor, case):
    services.rework_case(actor, case, _valid(ReasonForm(request.POST))["reason"])
    return f"案件 {case.number} 已返工"


ACTIONS: dict[str, Callable] = {
    "accept": _accept,
    "reject": _reject,
    "merge": _merge,
    "reclassify": _reclassify,
    "dispatch": _dispatch,
    "start": _start,
    "handle": _handle,
    "request_extension": _request_extension,
    "return": _return,
    "decide_extension": _decide_extension,
    "verify": _verify,
    "rework": _rework,
}


@login_required
@require_POST
def act(request, pk: int, action: str):
    """One step on one case, through its service; back to where the person came from."""
    step = ACTIONS.get(action)
    if step is None:
        raise Http404
    case = _visible_case(request, pk)
    try:
        done = step(request, Actor.from_request(request), case)
    except (ValidationError, ActionRefused) as exc:
        messages.error(request, f"操作未完成：{_error_text(exc)}")
    else:
        messages.success(request, done)
    return _back(request, reverse("cases:detail", args=[case.pk]))


def _bulk(request, step: Callable[[Actor, Case], str | None]) -> tuple[int, list[str]]:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    actor = Actor.from_request(request)
    done, failed = 0, []
    chosen = Case.objects.visible_to(request.user).filter(pk__in=ids)
    for case in chosen.select_related("category", "region", "grid").order_by("pk"):
        try:
            problem = step(actor, case)
        except (ValidationError, ActionRefused) as exc:
            problem = _error_text(exc)
        if problem:
            failed.append(f"{case.number}：{problem}")
        else:
            done += 1
    return done, failed


def _report_bulk(request, verb: str, done: int, failed: list[str]) -> None:
    if done:
        messages.success(request, f"已{verb} {done} 件")
    if failed:
        messages.error(request, f"{len(failed)} 件未能{verb}：" + "；".join(failed[:10]))


@login_required
@require_POST
def bulk_accept(request):
    """批量立案."""
    require_role(request.user, *COMMAND_ROLES)

    def step(actor, case):
        services.accept_case(actor, case)
        return None

    done, failed = _bulk(request, step)
    _report_bulk(request, "立案", done, failed)
    return _back(request, reverse("cases:dispatch_queue"))


@login_required
@require_POST
def bulk_dispatch(request):
    """批量派单: each case to its routing suggestion; cases without one are left for a person."""
    require_role(request.user, *COMMAND_ROLES)

    table = RoutingTable()

    def step(actor, case):
        unit = table.suggest(case.category, case.region, case.grid)
        if unit is None:
            return "没有派单建议，请手工派单"
        services.dispatch_case(actor, case, unit)
        return None

    done, failed = _bulk(request, step)
    _report_bulk(request, "派单", done, failed)
    return _back(request, reverse("cases:dispatch_queue") + "?tab=dispatch")


# ---------------------------------------------------------------------------------------------
# List and export


def _filtered(request) -> CaseFilterSet:
    return CaseFilterSet(
        request.GET or None, Case.objects.visible_to(request.user), scope=scope_for(request.user)
    )


def _page_size(request, default: int) -> int:
    try:
        size = int(request.GET.get("per_page", default))
    except ValueError:
        return default
    return size if size in PAGE_SIZES else default


class _FastSelect(forms.Select):
    """A menu rendered in one string join instead of a template per option: the region and
    category menus of the list have a few hundred options, which cost more than the query."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, mark_safe(" selected") if str(v) in chosen else "", label) for v, label in self.choices),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


def _fast_menus(form: forms.Form) -> None:
    for name in ("status", "state", "region", "category", "date_field"):
        old = form.fields[name].widget
        form.fields[name].widget = _FastSelect(attrs=old.attrs, choices=old.choices)


def _slim_unit_menu(form: forms.Form) -> None:
    """The unit menu holds only the chosen unit: a district has some 1,500 units, too many to
    render on every request. The page searches the rest on demand (the units API, scoped)."""
    chosen = form.cleaned_data.get("unit") if form.is_valid() else None
    widget = form.fields["unit"].widget
    widget.choices = [("", "全部单位"), *([(chosen.pk, str(chosen))] if chosen else [])]
    widget.attrs["data-unit-search"] = reverse("api-v1:units")


@login_required
def case_list(request):
    """案件查询: every case the person may see, filtered; the same filters drive the export.

    Keyset pages (``cursor``), newest first: each page is one seek in an index, however deep;
    the number of matching cases is counted up to 1,000 ("1,000+" beyond). The map below the
    table asks ``/api/v1/cases/map`` for the cases or clusters in its view, with the same filters.
    """
    filterset = _filtered(request)
    form = filterset.form
    qs = filterset.qs.select_related("category", "region", "lead_unit")
    status = 200
    try:
        page = keyset.paginate(qs, request.GET.get("cursor"), _page_size(request, 50))
    except ValidationError as exc:
        form.is_valid()
        form.add_error(None, exc)
        page, status = keyset.Page([], _page_size(request, 50)), 400
    now = timezone.now()
    figure = ""
    if form.is_valid() and (form.cleaned_data.get("summary") or form.cleaned_data.get("metric")):
        figure = _figure_title(filterset, request.user)
    _slim_unit_menu(form)
    _fast_menus(form)
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("page", None)
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "page": page,
            "now": now,
            "soon": due_soon_until(now),
            "query": query.urlencode(),
            "next_query": _with_cursor(query, page.next_cursor),
            "previous_query": _with_cursor(query, page.previous_cursor),
            "map_config": map_config(),
            "map_url": reverse("api-v1:case_map"),
            "pins": _pins(page),
            "page_sizes": PAGE_SIZES,
            "timed": Case.TIMED_STATUSES,
            "figure": figure,
        },
        status=status,
    )


def _with_cursor(query, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    query = query.copy()
    query["cursor"] = cursor
    return query.urlencode()


def _figure_title(filterset: CaseFilterSet, viewer) -> str:
    """What the list shows when opened from a figure: month, figure, side and scope."""
    data = filterset.data_used
    selection = filterset.selection(viewer=viewer)
    if data.get("summary"):
        title = monthly_summary.FIGURES[data["summary"]]
    else:
        side = "分母" if data.get("side") == "denominator" else "分子"
        title = f"{metrics.METRICS[data['metric']].label}（{side}）"
    scope = "".join(f" · {obj}" for obj in (selection.unit, selection.region, selection.category) if obj)
    text = f"{timezone.localtime(selection.start):%Y年%m月}{title}{scope}（截至 {timezone.localtime(selection.at):%Y-%m-%d %H:%M}）"
    if data.get("metric") and metrics.METRICS[data["metric"]].cohort == "due":
        # Part metrics count each unit's share; a joint case is listed once.
        parts = metrics.parts_behind(selection, data["metric"], data.get("side") or "numerator")
        text += f"：按责任单位计 {parts.count()} 件，涉及以下案件"
    return text


@login_required
def case_export(request):
    """The filtered list as a streamed XLSX workbook."""
    return export.cases_response(_filtered(request).qs, f"案件-{timezone.localdate():%Y%m%d}.xlsx")


# ---------------------------------------------------------------------------------------------
# Monthly summary and metrics


def _figure_selection(request) -> tuple[forms.Form, metrics.Selection, bool]:
    """The month, moment and scope of the summary and metrics pages (the person's cases only),
    and whether the moment was given (then the figures are computed live, not read as stored)."""
    services.check_view_figures(request.user)
    scope = scope_for(request.user)
    filterset = CaseFilterSet(request.GET or None, Case.objects.none(), scope=scope)
    live = bool(filterset.data_used.get("at"))
    return filterset.form, filterset.selection(viewer=None if scope.everything else request.user), live


def _figure_query(selection: metrics.Selection, at) -> str:
    """The query string that pins a figure's list to the same month and moment."""
    return urlencode(
        {
            "month": f"{timezone.localtime(selection.start):%Y-%m}",
            "at": timezone.localtime(at).isoformat(),
        }
    )


@login_required
def summary_page(request):
    """月度汇总: per unit, region and category, every figure a link to its cases. Read from the
    stored figures (``cases.stored_figures``): a past month as of its end, this month a recent snapshot."""
    form, selection, live = _figure_selection(request)
    result = stored_figures.summary_figures(selection, live=live)
    if request.GET.get("format") == "xlsx":
        return export.summary_response(result, f"月度汇总-{timezone.localtime(selection.start):%Y%m}.xlsx")
    return render(
        request,
        "cases/summary.html",
        {
            "form": form,
            "result": result,
            "figures": monthly_summary.FIGURES,
            "month": f"{timezone.localtime(selection.start):%Y-%m}",
            "base": _figure_query(selection, result.at),
            "list_url": reverse("cases:list"),
            # The rendered tables of a stored summary are cached under its key (month, scope, T).
            "cache_seconds": 7 * 86400
            if result.at >= result.end
            else int(stored_figures.max_age().total_seconds()) + 60,
        },
    )


@login_required
def metrics_page(request):
    """案件指标: the eleven metrics of a month as of a moment; "无数据" when nothing is due."""
    form, selection, live = _figure_selection(request)
    stored, at = stored_figures.metric_figures(selection, live=live)
    base = _figure_query(selection, at)
    for key in ("unit", "region", "category"):
        obj = getattr(selection, key)
        if obj is not None:
            base += f"&{key}={obj.pk}"
    return render(
        request,
        "cases/metrics.html",
        {
            "form": form,
            "figures": [stored[k] for k in metrics.METRICS],
            "month": f"{timezone.localtime(selection.start):%Y-%m}",
            "selection": selection,
            "at": at,
            "menu_key": stored_figures.menu_key(scope_for(request.user)),
            "base": base,
        },
    )
