from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("export.xlsx", views.case_export, name="export"),
    path("report/", views.report, name="report"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("queue/dispatch/", views.dispatch_queue, name="dispatch_queue"),
    path("queue/dispatch/accept/", views.bulk_accept, name="bulk_accept"),
    path("queue/dispatch/dispatch/", views.bulk_dispatch, name="bulk_dispatch"),
    path("queue/unit/", views.unit_queue, name="unit_queue"),
    path("queue/verify/", views.verify_queue, name="verify_queue"),
    path("queue/extensions/", views.extensions, name="extensions"),
    path("summary/", views.summary_page, name="summary"),
    path("metrics/", views.metrics_page, name="metrics"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
]
