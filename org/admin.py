from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, AuditLog, Contract, Grid, Membership, Region, Site, StreetSegment, Unit, User


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["unit"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("创文", {"fields": ("display_name", "phone")}))
    list_display = ["username", "display_name", "phone", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "phone"]
    inlines = [MembershipInline]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["__str__", "start", "end"]
    raw_id_fields = ["leader", "unit", "region", "site"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "community"]
    search_fields = ["code", "name"]
    raw_id_fields = ["community", "workers"]


@admin.register(StreetSegment)
class StreetSegmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "chief"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region", "chief"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "ip", "via", "action", "object_type", "object_id", "summary"]
    list_filter = ["action", "via"]
    search_fields = ["object_id", "summary"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
