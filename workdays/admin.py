from django.contrib import admin

from .models import CalendarDay, HolidayYear, WorkSchedule


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Entered through the HQ page (工作日历), which checks and records each change."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HolidayYear)
class HolidayYearAdmin(ReadOnlyAdmin):
    list_display = ["year", "source", "entered_at", "entered_by"]


@admin.register(WorkSchedule)
class WorkScheduleAdmin(ReadOnlyAdmin):
    list_display = ["valid_from", "name", "morning_start", "afternoon_end", "summer_from", "summer_until"]
