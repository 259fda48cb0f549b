from django.contrib import admin

from .models import Duty, Patrol, Visit


@admin.register(Duty)
class DutyAdmin(admin.ModelAdmin):
    list_display = ("day", "unit", "user", "segment", "grid")
    list_filter = ("day",)
    raw_id_fields = ("unit", "user", "segment", "grid", "created_by")


@admin.register(Patrol)
class PatrolAdmin(admin.ModelAdmin):
    list_display = ("day", "user", "status", "off_roster", "jumps", "distance_m")
    list_filter = ("status", "off_roster")
    raw_id_fields = ("user",)
    readonly_fields = ("summary",)


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "kind", "place")
    raw_id_fields = ("user", "patrol")
