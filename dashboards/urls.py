from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard, name="index"),
    path("screen/", views.screen, name="screen"),
    path("displays/", views.displays, name="displays"),
    path("displays/<int:pk>/revoke/", views.revoke, name="revoke"),
]
