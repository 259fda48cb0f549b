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
]
