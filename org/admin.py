from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .audit import Actor, record
from .models import (
    ApiToken,
    AuditLog,
    Contract,
    Grid,
    ImportJob,
    Membership,
    Region,
    Site,
    SiteType,
    StreetSegment,
    Unit,
    User,
)


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete made in the admin also lands in the audit log, with the
    person's address (Django's own admin log keeps neither the address nor the channel)."""

    def log_addition(self, request, obj, message):
        record(
            Actor.from_request(request, via="admin"), "admin.add", obj, f"新增{obj._meta.verbose_name}：{obj}"
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        summary = f"修改{obj._meta.verbose_name}：{obj}"
        record(Actor.from_request(request, via="admin"), "admin.change", obj, summary, change=message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        actor = Actor.from_request(request, via="admin")
        for obj in queryset:
            record(actor, "admin.delete", obj, f"删除{obj._meta.verbose_name}：{obj}")
        return super().log_deletions(request, queryset)


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["unit"]


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region"]


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("创文", {"fields": ("display_name", "phone")}))
    list_display = ["username", "display_name", "phone", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "phone"]
    inlines = [MembershipInline]


@admin.register(Contract)
class ContractAdmin(AuditedAdmin):
    list_display = ["__str__", "start", "end"]
    raw_id_fields = ["leader", "unit", "region", "site"]


@admin.register(SiteType)
class SiteTypeAdmin(AuditedAdmin):
    list_display = ["code", "name", "position", "is_active"]
    search_fields = ["code", "name"]


class SiteForm(forms.ModelForm):
    kind = forms.ChoiceField(label="类型")

    class Meta:
        model = Site
        fields = ["code", "name", "kind", "region", "address", "lat", "lng", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = list(SiteType.objects.filter(is_active=True).values_list("code", "name"))


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    form = SiteForm
    list_display = ["code", "name", "kind", "region"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region"]


@admin.register(Grid)
class GridAdmin(AuditedAdmin):
    list_display = ["code", "name", "community"]
    search_fields = ["code", "name"]
    raw_id_fields = ["community", "workers"]


@admin.register(StreetSegment)
class StreetSegmentAdmin(AuditedAdmin):
    list_display = ["code", "name", "region", "chief"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region", "chief"]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
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


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "file_name", "user", "dry_run", "state", "progress", "finished_at")
    list_filter = ("kind", "state")
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False
