"""HQ's working-calendar pages: the years' holiday schedules and the working hours (工作日历)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from org.audit import Actor

from . import notice, services
from .calendar import official_years
from .clock import default_periods, missing_year_warning
from .forms import WorkScheduleForm, YearFileForm, YearTableForm
from .models import CalendarDay, HolidayYear, WorkSchedule

RECOMPUTE_NOTE = "未结案件的处置时限将由后台按新安排重算，已结案件不变。"


@login_required
def calendar(request):
    """工作日历: which years are known, and the working hours with their history."""
    services.check_manage_calendar(request.user)
    form = WorkScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_work_schedule(Actor.from_request(request), form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已新增作息时间，{form.instance.valid_from} 起执行。{RECOMPUTE_NOTE}")
            return HttpResponseRedirect(reverse("workdays:calendar"))
    entered = {e.year: e for e in HolidayYear.objects.select_related("entered_by")}
    first, last = official_years()
    this_year = timezone.localdate().year
    years = [
        {"year": y, "entered": entered.get(y), "official": first <= y <= last}
        for y in sorted({*services.upcoming(), *entered}, reverse=True)
        if y >= this_year - 1
    ]
    return render(
        request,
        "workdays/calendar.html",
        {
            "years": years,
            "warning": missing_year_warning(),
            "schedules": WorkSchedule.objects.all(),
            "default_periods": default_periods(),
            "form": form,
        },
    )


@login_required
def year(request, year: int):
    """One year's holidays and adjusted working days: the table, typed or as XLSX, and its download."""
    services.check_manage_calendar(request.user)
    if not services.FIRST_YEAR <= year <= timezone.localdate().year + 2:
        raise Http404
    days = CalendarDay.objects.filter(date__year=year).values_list("date", "is_workday", "name")
    rows = notice.spans(days)
    if request.GET.get("download"):
        return FileResponse(notice.to_xlsx(rows), as_attachment=True, filename=f"{year}年节假日安排.xlsx")
    entry = HolidayYear.objects.filter(year=year).first()
    table_text = "\n".join(
        f"{r.start} {r.end} {'上班' if r.is_workday else '放假'} {r.name}".strip() for r in rows
    )
    initial = {"source": entry.source if entry else "", "table": table_text}
    table_form = YearTableForm(request.POST if "table" in request.POST else None, initial=initial)
    file_form = YearFileForm(
        request.POST if "table" not in request.POST else None, request.FILES or None, initial=initial
    )
    errors: list[str] = []
    if request.method == "POST":
        form = table_form if "table" in request.POST else file_form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if form is table_form:
                    parsed = notice.rows_from_text(data["table"], year)
                else:
                    parsed = notice.rows_from_xlsx(data["file"], year)
                services.enter_holiday_year(Actor.from_request(request), year, parsed, data["source"])
            except notice.NoticeError as exc:
                errors = exc.errors
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, f"已录入 {year} 年节假日安排（{len(parsed)} 条）。{RECOMPUTE_NOTE}")
                return HttpResponseRedirect(reverse("workdays:year", args=[year]))
    first, last = official_years()
    return render(
        request,
        "workdays/year.html",
        {
            "year": year,
            "rows": rows,
            "entry": entry,
            "official": first <= year <= last,
            "table_form": table_form,
            "file_form": file_form,
            "errors": errors,
            "columns": notice.COLUMNS,
        },
    )
