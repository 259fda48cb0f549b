"""Read-only admin views: runs, figures and circulars change only through the services."""

from django.contrib import admin

from .models import Circular, Run, Scheme


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Scheme)
class SchemeAdmin(ReadOnly):
    list_display = ["name", "period_kind", "no_data", "list_size"]


@admin.register(Run)
class RunAdmin(ReadOnly):
    list_display = ["scheme", "label", "status", "at", "published_at"]
    list_filter = ["period_kind", "status"]


@admin.register(Circular)
class CircularAdmin(ReadOnly):
    list_display = ["number", "title", "issued_at"]
    exclude = ["document"]
