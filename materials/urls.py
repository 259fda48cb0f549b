from django.urls import path

from . import views

app_name = "materials"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("submissions/", views.submissions, name="submissions"),
    path("submissions/<int:pk>/", views.submission, name="submission"),
    path("submissions/<int:pk>/save/", views.submission_save, name="submission_save"),
    path("submissions/<int:pk>/score/", views.submission_score, name="submission_score"),
    path("submissions/<int:pk>/return/", views.submission_return, name="submission_return"),
    path("files/<int:pk>/", views.file_view, name="file"),
    path("files/<int:pk>/thumb/", views.file_view, {"variant": "thumb"}, name="thumb"),
    path("files/<int:pk>/remove/", views.file_remove, name="file_remove"),
    path("review/", views.review_queue, name="review_queue"),
    path("plan/", views.plan, name="plan"),
    path("plan/generate/", views.plan_generate, name="plan_generate"),
    path("plan/copy/", views.plan_copy, name="plan_copy"),
    path("requirements/new/", views.requirement_new, name="requirement_new"),
    path("requirements/<int:pk>/", views.requirement_edit, name="requirement_edit"),
    path("requirements/<int:pk>/template/", views.template_view, name="template"),
    path("ranking/", views.ranking, name="ranking"),
    path("cards/", views.cards, name="cards"),
    path("cards/issue/", views.card_issue, name="card_issue"),
    path("cards/monthly/", views.cards_monthly, name="cards_monthly"),
    path("cards/<int:pk>/revoke/", views.card_revoke, name="card_revoke"),
    path("package/", views.package_download, name="package"),
]
