"""Django admin for HQ: the network, teams and members, the menu, points rules and the shop. Edits
are audited (``org.admin.AuditedAdmin``). Volunteers are not here: their real-name data is read
through the logged pages only."""

from django.contrib import admin

from org.admin import AuditedAdmin

from .models import Activity, Goods, Organisation, PointsRule, Service, Station, Team, TeamMember

admin.site.register(Organisation, AuditedAdmin)
admin.site.register(Goods, AuditedAdmin)


@admin.register(Station)
class StationAdmin(AuditedAdmin):
    list_display = ("code", "name", "kind", "parent", "region")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    filter_horizontal = ("managers",)


class TeamMemberInline(admin.TabularInline):
    """Members and the leader 队长; volunteers are picked by id (the register is large, names masked)."""

    model = TeamMember
    raw_id_fields = ("volunteer",)
    extra = 0


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("code", "name", "station", "organisation", "is_active")
    search_fields = ("code", "name")
    inlines = [TeamMemberInline]


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ("name", "kind", "station", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(PointsRule)
class PointsRuleAdmin(AuditedAdmin):
    """HQ configures the points per confirmed hour of each kind of service."""

    list_display = ("kind", "points_per_hour")


admin.site.register(Activity, AuditedAdmin)
