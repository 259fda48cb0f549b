from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from .api import api

admin.site.site_header = "创文指挥平台管理后台"
admin.site.site_title = "创文管理后台"

urlpatterns = [
    path("", include("org.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

if settings.DEBUG:
    urlpatterns += [
        path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})
    ]
