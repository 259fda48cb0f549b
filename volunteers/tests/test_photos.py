"""Photos of the service 服务照片 on a completed order: stored as case photos are (the original
with its EXIF under ``private/``, a stripped copy and a thumbnail), within the per-step caps, all
or nothing, and shown on the order page."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cases.photos import MAX_PHOTOS_PER_STEP
from cases.tests.conftest import jpeg
from volunteers import services
from volunteers.models import Event, Order, OrderPhoto

from .conftest import actor
from .test_orders import _accepted

pytestmark = pytest.mark.django_db


def _serving(world) -> Order:
    order = _accepted(world)
    (attendance,) = services.staff_order(actor(world.leader.user), order, [world.alice])
    attendance = services.sign_in(actor(world.alice.user), attendance, 31.0, 106.0)
    services.sign_out(actor(world.alice.user), attendance, 31.0, 106.0)
    order.refresh_from_db()
    return order


def test_photos_are_kept_like_case_photos(world):
    order = _serving(world)
    upload = jpeg("service.jpg", exif_gps=True)
    data = upload.read()
    order = services.complete_order(actor(world.leader.user), order, "打扫了客厅", [upload, jpeg("2.jpg")])
    assert order.status == Order.Status.SERVED
    first, second = order.photos.all()
    assert (first.uploaded_by, first.sha256, first.size) == (
        world.leader.user,
        hashlib.sha256(data).hexdigest(),
        len(data),
    )
    assert first.original.name.startswith("private/volunteers/")
    assert first.image.name.startswith("volunteers/photos/") and first.thumbnail.name.startswith(
        "volunteers/thumbs/"
    )
    with default_storage.open(first.original.name) as f:
        assert Image.open(f).getexif().get(0x010F) == "PhoneMaker"  # the evidence keeps its EXIF
    with default_storage.open(first.image.name) as f:
        assert not Image.open(f).getexif()  # the copy shown has none
    assert Event.objects.get(order=order, action="complete").data == {"photos": 2}


def test_too_many_or_a_bad_photo_stores_nothing(world):
    order = _serving(world)
    for uploads in (
        [jpeg(f"{i}.jpg") for i in range(MAX_PHOTOS_PER_STEP + 1)],
        [jpeg("good.jpg"), SimpleUploadedFile("bad.jpg", b"not a picture", content_type="image/jpeg")],
    ):
        with pytest.raises(ValidationError):
            services.complete_order(actor(world.leader.user), order, "打扫了客厅", uploads)
    order.refresh_from_db()
    assert order.status == Order.Status.SERVING and not OrderPhoto.objects.exists()
    assert not default_storage.exists("volunteers") and not default_storage.exists("private/volunteers")


def test_the_leader_adds_photos_on_the_page_and_they_are_shown(client, world):
    order = _serving(world)
    client.force_login(world.leader.user)
    page = client.get(reverse("volunteers:order_detail", args=[order.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page
    client.post(
        reverse("volunteers:complete", args=[order.pk]),
        {"note": "陪老人聊天", "photos": [jpeg("a.jpg"), jpeg("b.jpg")]},
    )
    photos = list(OrderPhoto.objects.filter(order=order))
    assert len(photos) == 2
    client.force_login(world.station_staff)
    page = client.get(reverse("volunteers:order_detail", args=[order.pk])).content.decode()
    assert "服务照片" in page
    for photo in photos:
        assert photo.thumbnail.url in page and photo.image.url in page
        assert photo.original.name not in page


def test_the_api_lists_the_stripped_copies_only(client, world):
    order = services.complete_order(actor(world.leader.user), _serving(world), "打扫了客厅", [jpeg("a.jpg")])
    photo = order.photos.get()
    client.force_login(world.station_staff)
    listed = client.get("/api/v1/volunteers/orders").json()["items"][0]
    detail = client.get(f"/api/v1/volunteers/orders/{order.pk}").json()
    assert listed["photos"] == detail["photos"] == [photo.image.url]
