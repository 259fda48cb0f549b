from django.contrib import admin

from .models import Duty, JointAction, JointSummons, Patrol, ServiceTeam, Visit


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


@admin.register(ServiceTeam)
class ServiceTeamAdmin(admin.ModelAdmin):
    """The service teams of the street signs 街巷长联系牌: HQ enters them per street or community."""

    list_display = ("region", "kind", "name", "leader", "phone", "extension")
    list_filter = ("kind",)
    raw_id_fields = ("region",)
    search_fields = ("name", "region__name")


class JointSummonsInline(admin.TabularInline):
    model = JointSummons
    raw_id_fields = ("unit", "signed_in_by")
    extra = 0


@admin.register(JointAction)
class JointActionAdmin(admin.ModelAdmin):
    list_display = ("day", "title", "organiser", "lead_unit", "place")
    raw_id_fields = ("organiser", "lead_unit", "created_by")
    inlines = [JointSummonsInline]
