from django.contrib import admin

from .models import (
    Criterion,
    IndexItem,
    IndexProject,
    IndexSystem,
    Milestone,
    ProgressReport,
    Task,
    TaskEvent,
)


class ProjectInline(admin.TabularInline):
    model = IndexProject
    extra = 0


@admin.register(IndexSystem)
class IndexSystemAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "campaign_year", "is_active", "created_at"]
    list_filter = ["campaign_year", "is_active"]
    inlines = [ProjectInline]


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0


@admin.register(IndexItem)
class IndexItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "points", "project"]
    list_filter = ["project__system"]
    search_fields = ["code", "name"]
    inlines = [CriterionInline]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


class EventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "at", "actor", "via", "ip", "note", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Read-mostly: state changes go through the pages and the API, which record each step."""

    list_display = [
        "title",
        "item",
        "lead_unit",
        "responsible_person",
        "deadline",
        "state",
        "progress",
        "is_key",
    ]
    list_filter = ["state", "is_key", "item__project__system"]
    search_fields = ["title", "item__code", "lead_unit__name"]
    readonly_fields = ["state", "progress", "reopen_count", "closed_at", "closed_by"]
    raw_id_fields = ["item", "criterion", "lead_unit", "responsible_leader", "responsible_person"]
    filter_horizontal = ["co_units"]
    inlines = [MilestoneInline, EventInline]


@admin.register(ProgressReport)
class ProgressReportAdmin(admin.ModelAdmin):
    list_display = ["task", "percent", "is_close_out", "reported_by", "reported_at", "review"]
    list_filter = ["review", "is_close_out"]
    raw_id_fields = ["task"]
    readonly_fields = ["reported_by", "reported_at", "reviewed_by", "reviewed_at"]
