from django.urls import path

from . import views

app_name = "indicators"

urlpatterns = [
    path("", views.board, name="board"),
    path("systems/", views.systems, name="systems"),
    path("systems/<int:pk>/", views.system_detail, name="system"),
    path("systems/<int:pk>/export/", views.system_export, name="system_export"),
    path("systems/<int:pk>/activate/", views.system_activate, name="system_activate"),
    path("systems/<int:pk>/responsibility/", views.responsibility_export, name="responsibility"),
    path("check/", views.five_check, name="check"),
    path("matrix/", views.matrix, name="matrix"),
    path("assign/", views.bulk_assign, name="bulk_assign"),
    path("items/<int:item_pk>/tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/milestones/", views.task_milestones, name="task_milestones"),
    path("tasks/<int:pk>/progress/", views.task_progress, name="task_progress"),
    path("tasks/<int:pk>/close-out/", views.task_close_out, name="task_close_out"),
    path("tasks/<int:pk>/approve/", views.task_approve, name="task_approve"),
    path("tasks/<int:pk>/reject/", views.task_reject, name="task_reject"),
    path("tasks/<int:pk>/reopen/", views.task_reopen, name="task_reopen"),
    path("reports/<int:pk>/review/", views.report_review, name="report_review"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
]
