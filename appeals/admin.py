"""HQ's admin for appeals: Open311 clients (issuing a key shows it once), service attributes,
and a read-only view of appeals in which contact details stay masked."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from org.audit import Actor
from org.errors import ActionRefused

from .models import Appeal, Open311Client, ServiceAttribute
from .services import issue_open311_key, revoke_open311_key


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "contact", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return ["name", "contact"] if obj is None else ["name", "contact", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        client, key = issue_open311_key(Actor.from_request(request), obj.name, obj.contact)
        obj.pk, obj.prefix, obj.key_hash = client.pk, client.prefix, client.key_hash
        messages.warning(request, f"新密钥（只显示这一次，请立即交给客户端保存）：{key}")

    @admin.action(description="吊销所选客户端的密钥")
    def revoke(self, request, queryset):
        for client in queryset:
            try:
                revoke_open311_key(Actor.from_request(request), client)
            except (ActionRefused, ValidationError) as exc:
                messages.error(request, f"{client.name}：{exc}")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ["category", "order", "code", "description", "datatype", "required"]
    list_filter = ["datatype", "required"]
    autocomplete_fields = ["category"]


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    """Read-only: appeals change through the services; phone and name are shown masked."""

    list_display = ["code", "case", "channel", "received_at", "masked_phone", "rating", "review"]
    list_filter = ["channel", "rating", "review"]
    search_fields = ["code", "case__number"]
    exclude = ["phone", "name"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude] + [
            "masked_phone",
            "masked_name",
        ]

    @admin.display(description="联系电话")
    def masked_phone(self, obj):
        return obj.masked_phone

    @admin.display(description="姓名")
    def masked_name(self, obj):
        return obj.masked_name

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
