"""The benchmarked server's URLs: the project's, plus the calibration view (bench settings only).

``/bench/calibration/`` answers a constant through the same gunicorn, middleware and settings as
every scenario: how fast this machine serves the cheapest possible Django request. Every
scenario is also reported as a fraction of it, so figures compare across machines. It is not
part of the production URLs."""

from django.http import HttpResponse
from django.urls import include, path


def calibration(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/calibration/", calibration, name="bench-calibration"),
    path("", include("chuangwen.urls")),
]

handler400 = "chuangwen.errors.bad_request"
handler403 = "chuangwen.errors.permission_denied"
handler404 = "chuangwen.errors.page_not_found"
handler500 = "chuangwen.errors.server_error"
