from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/open/", views.open_notice, name="open"),
    path("read-all/", views.read_all, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
    path("log/", views.log, name="log"),
    path("log/<int:pk>/resend/", views.resend, name="resend"),
    path("robots/", views.robots, name="robots"),
    path("robots/new/", views.robot_edit, name="robot_new"),
    path("robots/<int:pk>/", views.robot_edit, name="robot_edit"),
    path("robots/<int:pk>/delete/", views.robot_delete, name="robot_delete"),
    path("units/<int:pk>/", views.unit_settings, name="unit_settings"),
]
