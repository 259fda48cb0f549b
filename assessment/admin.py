"""Read-only admin views: runs, figures and circulars change only through the services."""

from django.contrib import admin

from .models import Bonus, Circular, Run, Scheme


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Scheme)
class SchemeAdmin(ReadOnly):
    list_display = ["name", "period_kind", "no_data", "list_size", "is_active"]


@admin.register(Run)
class RunAdmin(ReadOnly):
    list_display = ["scheme", "label", "version", "status", "at", "published_at"]
    list_filter = ["period_kind", "status"]


@admin.register(Circular)
class CircularAdmin(ReadOnly):
    list_display = ["number", "title", "status", "issued_at"]
    list_filter = ["status", "year"]
    exclude = ["document", "pdf"]


@admin.register(Bonus)
class BonusAdmin(ReadOnly):
    """加减分 are entered and approved on the assessment pages (two HQ users); shown here only."""

    list_display = ["unit", "scheme", "label", "points", "status", "entered_by", "decided_by"]
    list_filter = ["status", "scheme"]
    search_fields = ["unit__name", "reason"]
