from django.contrib import admin

from .models import Delivery, Heartbeat, JobRun, Notice, Robot, UnitPreference


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "title", "unit", "urgent"]
    list_filter = ["kind", "urgent"]
    search_fields = ["title", "key"]
    readonly_fields = [f.name for f in Notice._meta.fields]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notice", "channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    list_filter = ["status", "channel"]
    readonly_fields = [f.name for f in Delivery._meta.fields]


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin):
    """Read-only here: robots are added on the robots page, which sends the test message first."""

    list_display = ["unit", "name", "channel", "is_active", "verified_at"]
    list_filter = ["channel", "is_active"]
    exclude = ["secret"]
    readonly_fields = ["unit", "channel", "name", "webhook", "kinds", "is_active", "verified_at"]

    def has_add_permission(self, request):
        return False


admin.site.register(UnitPreference)
admin.site.register(JobRun, list_display=["job", "period", "started_at", "finished_at", "ok", "detail"])
admin.site.register(Heartbeat, list_display=["name", "beat_at", "detail"])
