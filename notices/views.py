"""Notice pages: the inbox, a person's preferences, and HQ's delivery log, robots and unit
settings. Views translate; the rules are in ``notices.services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from org.audit import Actor
from org.errors import ActionRefused
from org.models import Unit

from . import schedule, services
from .filtersets import DeliveryFilterSet, ReceiptFilterSet
from .forms import PreferenceForm, RobotForm, UnitPreferenceForm
from .models import Delivery, JobRun, Preference, Receipt, Robot, UnitPreference


def _page(request, qs, per_page=30):
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


@login_required
def inbox(request):
    filters = ReceiptFilterSet(request.GET, queryset=services.inbox(request.user))
    return render(
        request,
        "notices/inbox.html",
        {
            "filters": filters,
            "page": _page(request, filters.qs),
            "unread": services.unread_count(request.user),
        },
    )


@login_required
def open_notice(request, pk: int):
    """Mark one notice read and go to the page it links to."""
    receipt = get_object_or_404(Receipt.objects.select_related("notice"), pk=pk, user=request.user)
    services.mark_read(Actor.from_request(request), [receipt])
    link = receipt.notice.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(link)
    return HttpResponseRedirect(reverse("notices:inbox"))


@login_required
@require_POST
def read_all(request):
    count = services.mark_read(Actor.from_request(request))
    messages.success(request, f"已将 {count} 条通知标为已读")
    return HttpResponseRedirect(reverse("notices:inbox"))


@login_required
def preferences(request):
    pref = Preference.objects.filter(user=request.user).first()
    initial = (
        {
            "muted": pref.muted,
            "email": pref.email,
            "sms": pref.sms,
            "quiet_start": pref.quiet_start,
            "quiet_end": pref.quiet_end,
        }
        if pref
        else {}
    )
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_preference(Actor.from_request(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "通知设置已保存")
            return HttpResponseRedirect(reverse("notices:preferences"))
    return render(request, "notices/preferences.html", {"form": form})


@login_required
def log(request):
    services.check_manage(request.user)
    qs = Delivery.objects.select_related("notice", "robot__unit", "user")
    filters = DeliveryFilterSet(request.GET, queryset=qs)
    counts = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")).order_by())
    labels = {j.name: j.label for j in schedule.jobs()}
    return render(
        request,
        "notices/log.html",
        {
            "filters": filters,
            "page": _page(request, filters.qs, 50),
            "counts": [(label, counts.get(value, 0), value) for value, label in Delivery.Status.choices],
            "worker": schedule.worker_status(),
            "runs": [(r, labels.get(r.job, r.job)) for r in JobRun.objects.exclude(job="tick")[:20]],
        },
    )


@login_required
@require_POST
def resend(request, pk: int):
    services.check_manage(request.user)
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        services.resend(Actor.from_request(request), delivery)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已重新排队发送")
    return HttpResponseRedirect(reverse("notices:log"))


@login_required
def robots(request):
    services.check_manage(request.user)
    if request.GET.get("unit", "").isdigit():
        unit = get_object_or_404(Unit, pk=int(request.GET["unit"]))
        return HttpResponseRedirect(reverse("notices:unit_settings", args=[unit.pk]))
    settings = UnitPreference.objects.select_related("unit", "leader").order_by("unit__code")
    return render(
        request,
        "notices/robots.html",
        {
            "robots": Robot.objects.select_related("unit"),
            "unit_settings": settings,
            "units": Unit.objects.filter(is_active=True).order_by("code"),
        },
    )


@login_required
def robot_edit(request, pk: int | None = None):
    services.check_manage(request.user)
    robot = get_object_or_404(Robot, pk=pk) if pk else None
    initial = {}
    if robot is not None:
        initial = {
            "unit": robot.unit,
            "channel": robot.channel,
            "name": robot.name,
            "webhook": robot.webhook,
            "secret": robot.secret,
            "kinds": robot.kinds,
            "is_active": robot.is_active,
        }
    form = RobotForm(request.POST or None, initial=initial or {"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_robot(Actor.from_request(request), robot, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "测试消息已送达，群机器人已保存")
            return HttpResponseRedirect(reverse("notices:robots"))
    return render(request, "notices/robot_form.html", {"form": form, "robot": robot})


@login_required
@require_POST
def robot_delete(request, pk: int):
    services.check_manage(request.user)
    services.delete_robot(Actor.from_request(request), get_object_or_404(Robot, pk=pk))
    messages.success(request, "群机器人已删除")
    return HttpResponseRedirect(reverse("notices:robots"))


@login_required
def unit_settings(request, pk: int):
    services.check_manage(request.user)
    unit = get_object_or_404(Unit, pk=pk)
    pref = UnitPreference.objects.filter(unit=unit).first()
    initial = (
        {
            "leader": pref.leader,
            "quiet_start": pref.quiet_start,
            "quiet_end": pref.quiet_end,
            "digest": pref.digest,
        }
        if pref
        else {"digest": True}
    )
    form = UnitPreferenceForm(request.POST or None, initial=initial, unit=unit)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_unit_preference(Actor.from_request(request), unit, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "单位通知设置已保存")
            return HttpResponseRedirect(reverse("notices:robots"))
    return render(request, "notices/unit_settings.html", {"form": form, "unit": unit})
