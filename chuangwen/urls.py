from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path, re_path
from django.views.static import serve

from . import views
from .api import api

admin.site.site_header = "创文指挥平台管理后台"
admin.site.site_title = "创文管理后台"

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("org.urls")),
    path("cases/", include("cases.urls")),
    path("indicators/", include("indicators.urls")),
    path("materials/", include("materials.urls")),
    path("inspections/", include("inspections.urls")),
    path("workdays/", include("workdays.urls")),
    # Volunteer services: the public order page (no login) and the volunteers' and staff pages.
    path("volunteers/", include("volunteers.urls")),
    path("notices/", include("notices.urls")),
    # The public appeal pages (no login) and the Open311 GeoReport v2 endpoints.
    path("", include("appeals.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]


def media(request, path):
    """The demo server serves public media itself (in production the web server or object store
    does). Originals under private/, with their EXIF and GPS metadata, are never served by URL,
    only through views that check permission."""
    if not settings.DEBUG:
        raise Http404
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))


urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?!private/)(?P<path>.+)$", media))
