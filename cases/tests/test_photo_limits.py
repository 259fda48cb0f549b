"""Photo limits (issue 13, item 8 of the probe): a decompression bomb is reported as too many
pixels, not as "not an image"; the staff API caps the number and total size of photos per step."""

import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases import photos
from cases.models import Case, CasePhoto
from cases.tests.conftest import jpeg


def png_header_only(width: int, height: int) -> SimpleUploadedFile:
    """A few hundred bytes that claim a huge picture: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile("bomb.png", body, content_type="image/png")


@pytest.mark.parametrize("size", [(30000, 30000), (10000, 10000), (8000, 6000)])
def test_too_many_pixels_is_said_so(size):
    with pytest.raises(ValidationError) as caught:
        photos.validate(png_header_only(*size))
    assert caught.value.messages == ["图片像素过多（最多 4000 万像素）"]


def test_garbage_is_still_not_an_image():
    with pytest.raises(ValidationError, match="文件不是有效的图片"):
        photos.validate(SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\nnot really", content_type="image/png"))


@pytest.mark.django_db
def test_the_staff_api_caps_the_number_of_photos_per_step(world, settings):
    client = Client()
    client.force_login(world.collector)
    data = {
        "category_id": world.road.pk,
        "description": "井盖缺失",
        "lat": world.in_grid[0],
        "lng": world.in_grid[1],
        "photos": [jpeg(f"p{i}.jpg") for i in range(photos.MAX_PHOTOS_PER_STEP + 1)],
    }
    response = client.post("/api/v1/cases/cases", data)
    assert response.status_code == 400
    assert response.json() == {"detail": f"每次最多上传 {photos.MAX_PHOTOS_PER_STEP} 张照片"}
    assert not Case.objects.exists() and not CasePhoto.objects.exists()


@pytest.mark.django_db
def test_the_staff_api_caps_the_total_size_of_photos_per_step(world, settings):
    settings.UPLOAD_MAX_STEP_BYTES = 2000
    client = Client()
    client.force_login(world.collector)
    data = {
        "category_id": world.road.pk,
        "description": "井盖缺失",
        "lat": world.in_grid[0],
        "lng": world.in_grid[1],
        "photos": [jpeg("a.jpg", size=(200, 200)), jpeg("b.jpg", size=(200, 200))],
    }
    response = client.post("/api/v1/cases/cases", data)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("照片合计不能超过")
    assert not Case.objects.exists()
