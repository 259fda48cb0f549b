from django.contrib import admin

from .models import Activity, Goods, Organisation, PointsRule, Service, Station, Team

admin.site.register(Organisation)
admin.site.register(Goods)


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "region")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    filter_horizontal = ("managers",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "station", "organisation", "is_active")
    search_fields = ("code", "name")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "station", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(PointsRule)
class PointsRuleAdmin(admin.ModelAdmin):
    """HQ configures the points per confirmed hour of each kind of service."""

    list_display = ("kind", "points_per_hour")


admin.site.register(Activity)
