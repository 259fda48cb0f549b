"""Admin for HQ: the card policy is set here (each save is audited); the rest is read-mostly,
since every state change of a submission or card goes through the services."""

from django.contrib import admin

from org.audit import Actor, record

from .models import Card, CardPolicy, Requirement, Submission, SubmissionEvent


@admin.register(CardPolicy)
class CardPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "effective_from",
        "pass_percent",
        "yellow_for_missing",
        "yellow_for_failing",
        "yellow_for_late",
        "red_for_missing_after_return",
        "yellows_for_red",
    ]
    exclude = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if obj.effective_from:
            obj.effective_from = obj.effective_from.replace(day=1)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        record(
            Actor.from_request(request),
            "admin.change" if change else "admin.add",
            obj,
            f"红黄牌规则 {obj}",
            changed=form.changed_data,
        )


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = ["month", "title", "criterion", "points", "due_date", "reviewer"]
    list_filter = ["month"]
    search_fields = ["title"]
    readonly_fields = [f.name for f in Requirement._meta.fields]

    def has_add_permission(self, request):
        return False


class EventInline(admin.TabularInline):
    model = SubmissionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "version", "at", "actor", "via", "ip", "note"]
    exclude = ["data"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["requirement", "unit", "state", "version", "is_late", "return_count", "score"]
    list_filter = ["state", "requirement__month"]
    readonly_fields = [f.name for f in Submission._meta.fields]
    inlines = [EventInline]

    def has_add_permission(self, request):
        return False


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ["month", "unit", "color", "reason", "is_automatic", "revoked_at"]
    list_filter = ["color", "month"]
    readonly_fields = [f.name for f in Card._meta.fields]

    def has_add_permission(self, request):
        return False
