from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

org_patterns = [
    path("regions/", views.regions, name="regions"),
    path("units/", views.units, name="units"),
    path("contracts/", views.contracts, name="contracts"),
    path("import/", views.import_export, name="import"),
    path("import/jobs/<int:pk>/", views.import_job, name="import_job"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
]

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/", include((org_patterns, "org"))),
]
