from django.urls import path

from . import views

app_name = "volunteers"

urlpatterns = [
    # Public pages (no login): order from the menu, the code at once, track by code + phone, rate.
    path("order/", views.public_order, name="public_order"),
    path("order/placed/", views.public_ordered, name="public_ordered"),
    path("order/track/", views.track, name="track"),
    path("order/track/<str:code>/", views.tracked, name="tracked"),
    path("order/track/<str:code>/rate/", views.rate, name="rate"),
    path("certificate/verify/", views.verify_certificate, name="verify"),
    # Volunteers, team leaders and station staff.
    path("", views.home, name="home"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_new, name="order_new"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/contact/", views.order_contact, name="order_contact"),
    path("orders/<int:pk>/assign/", views.assign, name="assign"),
    path("orders/<int:pk>/accept/", views.accept, name="accept"),
    path("orders/<int:pk>/decline/", views.decline, name="decline"),
    path("orders/<int:pk>/staff/", views.staff, name="staff"),
    path("orders/<int:pk>/complete/", views.complete, name="complete"),
    path("records/<int:pk>/sign-in/", views.sign_in, name="sign_in"),
    path("records/<int:pk>/sign-out/", views.sign_out, name="sign_out"),
    path("records/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("activities/", views.activity_list, name="activities"),
    path("activities/new/", views.activity_new, name="activity_new"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/enrol/", views.enrol, name="enrol"),
    path("points/", views.points, name="points"),
    path("certificate/", views.certificate, name="certificate"),
    path("certificate/pdf/", views.certificate, {"fmt": "pdf"}, name="certificate_pdf"),
    path("points/redeem/", views.redeem, name="redeem"),
    path("redemptions/<int:pk>/cancel/", views.cancel_redemption, name="cancel_redemption"),
    path("pickups/", views.pickups, name="pickups"),
    path("figures/", views.figures_page, name="figures"),
    path("people/", views.volunteer_list, name="volunteer_list"),
    path("people/import/", views.import_volunteers, name="import"),
    path("people/<int:pk>/", views.volunteer_detail, name="volunteer_detail"),
    path("people/<int:pk>/real-name/", views.real_name, name="real_name"),
    path("people/<int:pk>/adjust/", views.adjust, name="adjust"),
    path("people/<int:pk>/certificate/", views.certificate, name="volunteer_certificate"),
    path(
        "people/<int:pk>/certificate/pdf/",
        views.certificate,
        {"fmt": "pdf"},
        name="volunteer_certificate_pdf",
    ),
]
