from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("", views.run_list, name="runs"),
    path("mine/", views.mine, name="mine"),
    path("schemes/", views.scheme_list, name="schemes"),
    path("schemes/new/", views.scheme_edit, name="scheme_new"),
    path("schemes/<int:pk>/", views.scheme_edit, name="scheme_edit"),
    path("schemes/<int:pk>/compute/", views.compute, name="compute"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/publish/", views.publish, name="publish"),
    path("runs/<int:pk>/circular/", views.issue, name="issue"),
    path("circulars/<int:pk>/download/", views.download, name="download"),
    path("circulars/<int:pk>/accountability/", views.accountability, name="accountability"),
]
