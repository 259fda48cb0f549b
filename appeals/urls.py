from django.urls import path, re_path

from . import open311, views

app_name = "appeals"

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    # Open311 GeoReport v2 (first: the busiest, tried first).
    re_path(r"^open311/discovery" + FMT, open311.discovery, name="open311-discovery"),
    path("open311/v2/", open311.not_found, name="open311-root"),
    re_path(r"^open311/v2/services" + FMT, open311.service_list, name="open311-services"),
    re_path(
        r"^open311/v2/services/(?P<code>[^/]+?)" + FMT, open311.service_definition, name="open311-service"
    ),
    re_path(r"^open311/v2/requests" + FMT, open311.service_requests, name="open311-requests"),
    re_path(
        r"^open311/v2/requests/(?P<request_id>[^/]+?)" + FMT, open311.service_request, name="open311-request"
    ),
    re_path(r"^open311/v2/tokens/(?P<token>[^/]+?)" + FMT, open311.token, name="open311-token"),
    re_path(r"^open311/(?P<path>.*)$", open311.not_found),
    # Public pages (no login): submit, the code at once, track by code + phone, rate.
    path("appeal/", views.submit, name="submit"),
    path("appeal/submitted/", views.submitted, name="submitted"),
    path("appeal/track/", views.track, name="track"),
    path("appeal/track/<str:code>/", views.tracked, name="tracked"),
    path("appeal/track/<str:code>/rate/", views.rate, name="rate"),
    # Staff pages.
    path("appeals/", views.appeal_list, name="list"),
    path("appeals/new/", views.clerk_entry, name="new"),
    path("appeals/stats/", views.stats, name="stats"),
    path("appeals/<int:pk>/", views.detail, name="detail"),
    path("appeals/<int:pk>/contact/", views.contact, name="contact"),
    path("appeals/<int:pk>/classify/", views.classify, name="classify"),
    path("appeals/<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    path("appeals/<int:pk>/phone-rating/", views.phone_rating, name="phone_rating"),
    path("appeals/<int:pk>/review/", views.review, name="review"),
]
