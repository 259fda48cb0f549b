from django.urls import path

from . import views

app_name = "streets"

urlpatterns = [
    path("", views.today, name="today"),
    path("patrols/", views.patrol_list, name="patrols"),
    path("patrols/start/", views.start, name="start"),
    path("patrols/<int:pk>/", views.patrol, name="patrol"),
    path("patrols/<int:pk>/<str:step>/", views.patrol_step, name="patrol_step"),
    path("visits/", views.visit, name="visit"),
    path("coverage/", views.coverage, name="coverage"),
    path("log/", views.log, name="log"),
    path("roster/", views.roster, name="roster"),
    path("social/", views.social_list, name="social"),
    path("social/<int:pk>/person/", views.reveal, name="reveal"),
    path("sign/<str:code>/", views.sign, name="sign"),
    path("sign/<str:code>/qr.svg", views.sign_qr, name="sign_qr"),
    path("signs/", views.signs_print, name="signs"),
    path("checks/", views.checks, name="checks"),
    path("checks/<int:pk>/", views.check, name="check"),
    path("joint/", views.joint_actions, name="joint_actions"),
    path("joint/new/", views.joint_new, name="joint_new"),
    path("joint/attendance/", views.joint_attendance, name="joint_attendance"),
    path("joint/<int:pk>/", views.joint, name="joint"),
    path("joint/<int:pk>/<str:step>/", views.joint_step, name="joint_step"),
]
