"""Pages: the public appeal portal (no login) and the staff pages for appeals.

Public pages never show who reported. Staff lists show contact details masked; a dispatcher
reveals them on one appeal at a time, and every reveal is logged (``services.read_contact``).
"""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cases.models import Case
from org.audit import Actor
from org.errors import ActionRefused
from org.models import Role
from org.scope import require_role
from workdays.periods import days

from . import limits, metrics
from .forms import (
    AppealForm,
    ClassifyForm,
    ClerkAppealForm,
    FollowUpForm,
    RatingForm,
    ReviewForm,
    StatsForm,
    TrackForm,
)
from .models import Appeal, clean_tracking_code
from .privacy import STAFF_ROLES, may_see_contact
from .progress import STEPS, progress
from .services import (
    classify_appeal,
    owns,
    rate_appeal,
    read_contact,
    record_follow_up,
    review_unsatisfied,
    submit_appeal,
)

TRACKED = "appeals_tracked"


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _map_context() -> dict:
    return {
        # The map pick needs Leaflet's files among the static files; without them GPS and the
        # address still work.
        "map_available": finders.find("leaflet/leaflet.js") is not None,
        "map_center": settings.MAP_CENTER,
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }


# --- Public pages ------------------------------------------------------------------------------


def submit(request):
    """提交诉求: category (or not sure), description, photos, place, phone → the tracking code at once."""
    # A link may name the place (a street sign's "report a problem here"): address, lat, lng.
    place = {k: request.GET[k][:200] for k in ("address", "lat", "lng") if request.GET.get(k)}
    form = AppealForm(request.POST or None, request.FILES or None, initial=place)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            limits.check(request, "submit", phone=data["phone"])
            appeal = submit_appeal(
                Actor.from_request(request, via="public"),
                channel=Appeal.Channel.WEB,
                category=form.chosen_category(),
                description=data["description"],
                phone=data["phone"],
                name=data["name"],
                lat=data["lat"],
                lng=data["lng"],
                address=data["address"],
                photos_uploaded=data["photos"],
            )
        except limits.Throttled as exc:
            form.add_error(None, str(exc))
            return render(request, "appeals/submit.html", {"form": form, **_map_context()}, status=429)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            request.session["appeal_submitted"] = appeal.code
            _remember(request, appeal.code)
            return redirect("appeals:submitted")
    return render(request, "appeals/submit.html", {"form": form, **_map_context()})


def submitted(request):
    code = request.session.get("appeal_submitted")
    if not code:
        return redirect("appeals:submit")
    return render(request, "appeals/submitted.html", {"code": code})


def _remember(request, code: str) -> None:
    """This browser proved it knows the code and phone: it may see and rate the appeal."""
    tracked = [c for c in request.session.get(TRACKED, []) if c != code]
    request.session[TRACKED] = [code, *tracked][:10]


def track(request):
    """查询进度: code + phone. Both are checked together and every attempt counts against the limits."""
    form = TrackForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        code, phone = form.cleaned_data["code"], form.cleaned_data["phone"]
        try:
            limits.check(request, "track", phone="".join(ch for ch in phone if ch.isdigit()))
        except limits.Throttled as exc:
            form.add_error(None, str(exc))
            status = 429
        else:
            appeal = Appeal.objects.filter(code=code).first()
            if appeal is not None and owns(appeal, phone):
                _remember(request, appeal.code)
                return redirect("appeals:tracked", code=appeal.code)
            form.add_error(None, "查询码或联系电话不正确")
    return render(request, "appeals/track.html", {"form": form}, status=status)


def _tracked_appeal(request, code: str) -> Appeal | None:
    code = clean_tracking_code(code)
    if code not in request.session.get(TRACKED, []):
        return None
    return Appeal.objects.select_related("case__category", "case__lead_unit").filter(code=code).first()


def tracked(request, code: str):
    appeal = _tracked_appeal(request, code)
    if appeal is None:
        return redirect("appeals:track")
    shown = progress(appeal.case)
    return render(
        request,
        "appeals/tracked.html",
        {
            "appeal": appeal,
            "progress": shown,
            "steps": [(i, label) for i, label in enumerate(STEPS)],
            "rating_form": RatingForm() if appeal.may_be_rated else None,
        },
    )


@require_POST
def rate(request, code: str):
    appeal = _tracked_appeal(request, code)
    if appeal is None:
        return redirect("appeals:track")
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            limits.check(request, "track", phone=appeal.phone)
            rate_appeal(
                Actor.from_request(request, via="public"),
                appeal,
                form.cleaned_data["rating"],
                form.cleaned_data["comment"],
                phone=appeal.phone,
            )
        except limits.Throttled as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        except (ActionRefused, PermissionDenied) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "感谢您的评价！")
    else:
        messages.error(request, "请选择满意、基本满意或不满意")
    return redirect("appeals:tracked", code=appeal.code)


# --- Staff pages -------------------------------------------------------------------------------


def _visible(user):
    return Appeal.objects.filter(case__in=Case.objects.visible_to(user))


@login_required
def appeal_list(request):
    scope = require_role(request.user, *STAFF_ROLES)
    qs = _visible(request.user).select_related("case__category", "case__lead_unit")
    channel = request.GET.get("channel", "")
    if channel in Appeal.Channel.values:
        qs = qs.filter(channel=channel)
    status = request.GET.get("status", "")
    if status in Case.Status.values:
        qs = qs.filter(case__status=status)
    rating = request.GET.get("rating", "")
    if rating in Appeal.Rating.values:
        qs = qs.filter(rating=rating)
    todo = request.GET.get("todo", "")
    if todo == "review":
        qs = qs.filter(review=Appeal.Review.PENDING)
    elif todo == "follow_up":
        qs = qs.filter(
            channel__in=Appeal.CLERK_CHANNELS,
            followed_up_at__isnull=True,
            case__status__in=(Case.Status.HANDLED, Case.Status.REJECTED, Case.Status.MERGED),
        )
    elif todo == "unsure":
        qs = qs.filter(category_unsure=True)
    behind = StatsForm(request.GET) if request.GET.get("count") in metrics.COUNTS else None
    if behind is not None and behind.is_valid():
        # The appeals behind one figure of the resolution rate page.
        start, end = _period(behind)
        qs = metrics.appeals_behind(
            qs,
            start,
            end,
            request.GET["count"],
            by=behind.cleaned_data["by"] or None,
            key=request.GET.get("key", ""),
        )
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(code=clean_tracking_code(q)) | Q(case__number=q) | Q(case__description__contains=q))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "appeals/list.html",
        {
            "page": page,
            "channels": Appeal.Channel.choices,
            "statuses": Case.Status.choices,
            "ratings": Appeal.Rating.choices,
            "filters": {"channel": channel, "status": status, "rating": rating, "todo": todo, "q": q},
            # 坐席录入 is the dispatchers' (see clerk_entry); other roles are not offered the link.
            "can_enter": request.user.is_superuser or scope.has_role(Role.DISPATCHER),
        },
    )


def _detail_context(request, appeal: Appeal, **extra) -> dict:
    is_dispatcher = may_see_contact(request.user)
    case = appeal.case
    return {
        "appeal": appeal,
        "progress": progress(case),
        "is_dispatcher": is_dispatcher,
        "can_classify": is_dispatcher
        and case.status in (Case.Status.REPORTED, Case.Status.ACCEPTED, Case.Status.RETURNED),
        "can_follow_up": is_dispatcher
        and case.status
        in (Case.Status.HANDLED, Case.Status.CLOSED, Case.Status.REJECTED, Case.Status.MERGED),
        "can_rate": is_dispatcher and appeal.may_be_rated,
        "can_review": is_dispatcher and appeal.review == Appeal.Review.PENDING,
        "classify_form": ClassifyForm(initial={"category": case.category_id}),
        "follow_up_form": FollowUpForm(initial={"note": appeal.follow_up_note}),
        "rating_form": RatingForm(),
        "review_form": ReviewForm(),
        **extra,
    }


def _staff_appeal(request, pk: int) -> Appeal:
    require_role(request.user, *STAFF_ROLES)
    return get_object_or_404(
        _visible(request.user).select_related("case__category", "case__lead_unit", "entered_by", "client"),
        pk=pk,
    )


@login_required
def detail(request, pk: int):
    appeal = _staff_appeal(request, pk)
    return render(request, "appeals/detail.html", _detail_context(request, appeal))


@login_required
@require_POST
def contact(request, pk: int):
    """A dispatcher reveals the citizen's phone and name to call back; the read is logged."""
    appeal = _staff_appeal(request, pk)
    shown = read_contact(Actor.from_request(request), appeal)
    return render(request, "appeals/detail.html", _detail_context(request, appeal, contact=shown))


def _act(request, pk: int, form_class, action):
    appeal = _staff_appeal(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            action(Actor.from_request(request), appeal, form)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        except (ActionRefused, PermissionDenied) as exc:
            messages.error(request, str(exc) or "无权执行此操作")
        else:
            messages.success(request, "已保存")
    return HttpResponseRedirect(reverse("appeals:detail", args=[appeal.pk]))


@login_required
@require_POST
def classify(request, pk: int):
    return _act(request, pk, ClassifyForm, lambda a, ap, f: classify_appeal(a, ap, f.chosen_category()))


@login_required
@require_POST
def follow_up(request, pk: int):
    return _act(request, pk, FollowUpForm, lambda a, ap, f: record_follow_up(a, ap, f.cleaned_data["note"]))


@login_required
@require_POST
def phone_rating(request, pk: int):
    return _act(
        request,
        pk,
        RatingForm,
        lambda a, ap, f: rate_appeal(a, ap, f.cleaned_data["rating"], f.cleaned_data["comment"]),
    )


@login_required
@require_POST
def review(request, pk: int):
    return _act(
        request,
        pk,
        ReviewForm,
        lambda a, ap, f: review_unsatisfied(
            a, ap, f.cleaned_data["decision"] == "reopen", f.cleaned_data["note"]
        ),
    )


@login_required
def clerk_entry(request):
    """坐席录入: a dispatcher enters an appeal that came by hotline, mail, visit or another channel."""
    require_role(request.user, Role.DISPATCHER)
    form = ClerkAppealForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appeal = submit_appeal(
                Actor.from_request(request),
                channel=data["channel"],
                category=form.chosen_category(),
                description=data["description"],
                phone=data["phone"],
                name=data["name"],
                lat=data["lat"],
                lng=data["lng"],
                address=data["address"],
                photos_uploaded=data["photos"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, f"已登记，查询码 {appeal.code}（请告知群众），案件编号 {appeal.case.number}"
            )
            return redirect("appeals:detail", pk=appeal.pk)
    return render(request, "appeals/clerk_entry.html", {"form": form, **_map_context()})


def _period(form: StatsForm) -> tuple[dt.datetime, dt.datetime]:
    return days(form.cleaned_data["start"], form.cleaned_data["end"])


@login_required
def stats(request):
    """诉求化解率 with satisfaction counts, by unit, area, category or channel, over a period."""
    require_role(request.user, *STAFF_ROLES)
    today = timezone.localdate()
    form = StatsForm(request.GET or {"start": today.replace(day=1), "end": today, "by": "unit"})
    total = rows = None
    if form.is_valid():
        start, end = _period(form)
        total, rows = metrics.resolution(
            _visible(request.user), start, end, by=form.cleaned_data["by"] or None
        )
    by = form.cleaned_data.get("by") or "" if form.is_valid() else ""
    query = f"start={form.data.get('start')}&end={form.data.get('end')}"
    return render(
        request,
        "appeals/stats.html",
        {
            "form": form,
            "total": total,
            "rows": rows,
            "dimension": metrics.DIMENSIONS.get(by, ""),
            "by": by,
            "query": query,
        },
    )
