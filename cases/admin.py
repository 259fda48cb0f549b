"""HQ maintains the category catalogue and the routing rules here. Cases change state only
through ``cases.services``, so the admin shows them read-only."""

from django.contrib import admin

from .models import Case, CaseEvent, CasePart, CasePhoto, Category, ExtensionRequest, RoutingRule


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "major_code",
        "major_name",
        "time_limit_days",
        "time_limit_hours",
        "default_unit_kind",
        "active",
        "public_only",
        "field_verification",
    ]
    list_filter = ["kind", "major_name", "active", "public_only", "field_verification"]
    list_editable = ["time_limit_days", "time_limit_hours", "active", "field_verification"]
    search_fields = ["code", "name", "major_name"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "category", "region", "grid", "unit", "active"]
    list_filter = ["active", "category__kind"]
    search_fields = ["unit__name", "category__name", "region__name", "grid__name"]
    raw_id_fields = ["category", "region", "grid", "unit"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CasePartInline(ReadOnlyInline):
    model = CasePart
    fields = ["unit", "is_lead", "status", "deadline", "handled_at", "extension_days"]


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["at", "action", "actor", "actor_role", "actor_unit", "reason", "via"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["number", "category", "status", "lead_unit", "region", "reported_at", "due_at", "urgent"]
    list_filter = ["status", "source", "urgent", "category__kind"]
    search_fields = ["number", "description", "address"]
    date_hierarchy = "reported_at"
    inlines = [CasePartInline, CaseEventInline]
    list_select_related = ["category", "lead_unit", "region"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    list_display = ["part", "days", "status", "requested_at", "decided_at"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CasePhoto)
class CasePhotoAdmin(admin.ModelAdmin):
    list_display = ["case", "kind", "size", "uploaded_at"]
    list_filter = ["kind"]
    exclude = ["original"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
