from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("", views.run_list, name="runs"),
    path("mine/", views.mine, name="mine"),
    path("leader/", views.leader, name="leader"),
    path("schemes/", views.scheme_list, name="schemes"),
    path("schemes/new/", views.scheme_edit, name="scheme_new"),
    path("schemes/<int:pk>/", views.scheme_edit, name="scheme_edit"),
    path("schemes/<int:pk>/compute/", views.compute, name="compute"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/recompute/", views.recompute, name="recompute"),
    path("runs/<int:pk>/publish/", views.publish, name="publish"),
    path("runs/<int:pk>/correct/", views.correct, name="correct"),
    path("runs/<int:pk>/circular/", views.issue, name="issue"),
    path("circulars/", views.circular_list, name="circulars"),
    path("circulars/<int:pk>/download/", views.download, name="download"),
    path("circulars/<int:pk>/download/pdf/", views.download, {"fmt": "pdf"}, name="download_pdf"),
    path("circulars/<int:pk>/accountability/", views.accountability, name="accountability"),
    path("units/<int:unit_pk>/history/", views.history, name="history"),
    path("bonuses/", views.bonus_list, name="bonuses"),
    path("bonuses/<int:pk>/approve/", views.bonus_decide, {"decision": "approve"}, name="bonus_approve"),
    path("bonuses/<int:pk>/reject/", views.bonus_decide, {"decision": "reject"}, name="bonus_reject"),
    path("bonuses/<int:pk>/evidence/", views.bonus_evidence, name="bonus_evidence"),
]
