from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from . import views
from .api import api

admin.site.site_header = "创文指挥平台管理后台"
admin.site.site_title = "创文管理后台"

# Django tries the patterns in order: the JSON API and the public appeal and Open311 endpoints,
# the busiest, come first (no other pattern begins with their prefixes).
urlpatterns = [
    path("api/v1/", api.urls),
    # The public appeal pages (no login) and the Open311 GeoReport v2 endpoints.
    path("", include("appeals.urls")),
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("", include("org.urls")),
    path("cases/", include("cases.urls")),
    path("indicators/", include("indicators.urls")),
    path("materials/", include("materials.urls")),
    path("inspections/", include("inspections.urls")),
    path("workdays/", include("workdays.urls")),
    # Volunteer services: the public order page (no login) and the volunteers' and staff pages.
    path("volunteers/", include("volunteers.urls")),
    path("notices/", include("notices.urls")),
    path("assessment/", include("assessment.urls")),
    path("streets/", include("streets.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("admin/", admin.site.urls),
]


# Every path under MEDIA_URL goes to the one media view, which normalises it before deciding.
urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", views.media))

# Errors in Chinese, in each interface's own form (chuangwen/errors.py).
handler400 = "chuangwen.errors.bad_request"
handler403 = "chuangwen.errors.permission_denied"
handler404 = "chuangwen.errors.page_not_found"
handler500 = "chuangwen.errors.server_error"
