from django.contrib import admin

from org.admin import AuditedAdmin

from .models import CheckItem, Checklist, Finding, Inspection, InspectionEvent, Round, RoundSite


class CheckItemInline(admin.TabularInline):
    model = CheckItem
    extra = 0
    raw_id_fields = ["criterion", "category"]


@admin.register(Checklist)
class ChecklistAdmin(AuditedAdmin):
    list_display = ["name", "system", "site_kind", "updated_at"]
    list_filter = ["system", "site_kind"]
    inlines = [CheckItemInline]


class RoundSiteInline(admin.TabularInline):
    model = RoundSite
    extra = 0
    raw_id_fields = ["site"]


@admin.register(Round)
class RoundAdmin(AuditedAdmin):
    """Rounds are planned, closed and published through the pages (services); the admin shows them."""

    list_display = ["title", "kind", "starts_on", "ends_on", "status", "published_at"]
    list_filter = ["kind", "status"]
    inlines = [RoundSiteInline]
    readonly_fields = ["seed", "draw", "created_by", "created_at", "closed_at", "published_at"]


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ["round", "site", "inspector", "submitted_at", "score", "far_from_site"]
    list_filter = ["round__kind", "far_from_site"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["site", "item", "status", "deadline", "responsible_unit", "case"]
    list_filter = ["status"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(InspectionEvent)
class InspectionEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor", "via", "ip", "device"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
