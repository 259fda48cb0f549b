from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("", views.index, name="index"),
    path("rounds/new/", views.plan, name="plan"),
    path("rounds/<int:pk>/", views.round_report, name="round"),
    path("rounds/<int:pk>/export.xlsx", views.round_export, name="round_export"),
    path("rounds/<int:pk>/<str:step>/", views.round_step, name="round_step"),
    path("rounds/<int:pk>/sites/<int:site_pk>/", views.inspect, name="inspect"),
    path("records/", views.inspection_list, name="inspections"),
    path("records/<int:pk>/", views.inspection_detail, name="inspection"),
    path("findings/", views.finding_list, name="findings"),
    path("findings/export.xlsx", views.finding_export, name="findings_export"),
    path("findings/to-cases/", views.findings_to_cases, name="findings_to_cases"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("figures/", views.figures, name="figures"),
    path("checklists/", views.checklists, name="checklists"),
    path("checklists/<int:system_pk>/export.xlsx", views.checklists_export, name="checklists_export"),
    path("checklists/<int:system_pk>/import/", views.checklists_import, name="checklists_import"),
    path("checklists/items/<int:pk>/", views.check_item, name="check_item"),
]
