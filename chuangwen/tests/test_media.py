"""Media on the demo server: one view that normalises the path before it decides, so no spelling
of a path reaches the private originals (issue 13, item 1)."""

import pytest

PROBES = [
    "/media/private/cases/original.jpg",
    "/media/cases%2f..%2fprivate/cases/original.jpg",
    "/media/cases%2F..%2Fprivate%2Fcases%2Foriginal.jpg",
    "/media/cases%252f..%252fprivate/cases/original.jpg",
    "/media//private/cases/original.jpg",
    "/media///private/cases/original.jpg",
    "/media/./private/cases/original.jpg",
    "/media/cases/../private/cases/original.jpg",
    "/media/cases/photos/../../private/cases/original.jpg",
    "/media/%2e/private/cases/original.jpg",
    "/media/%2e%2e/media/private/cases/original.jpg",
    "/media/cases/%2e%2e/private/cases/original.jpg",
    "/media/private%2fcases%2foriginal.jpg",
    "/media/PRIVATE/../private/cases/original.jpg",
    "/media/cases\\..\\private\\cases\\original.jpg",
    "/media/private",
    "/media/private/",
]


@pytest.fixture
def media(settings):
    settings.DEBUG = True
    private = settings.MEDIA_ROOT / "private" / "cases"
    private.mkdir(parents=True)
    (private / "original.jpg").write_bytes(b"secret original with GPS")
    public = settings.MEDIA_ROOT / "cases" / "photos"
    public.mkdir(parents=True)
    (public / "copy.jpg").write_bytes(b"public copy")
    return settings.MEDIA_ROOT


@pytest.mark.parametrize("url", PROBES)
def test_no_spelling_of_a_path_serves_a_private_original(client, media, url):
    response = client.get(url)
    assert response.status_code == 404
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"secret original" not in body


def test_public_copies_are_served(client, media):
    response = client.get("/media/cases/photos/copy.jpg")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"public copy"


def test_media_is_not_served_when_debug_is_off(client, media, settings):
    settings.DEBUG = False
    assert client.get("/media/cases/photos/copy.jpg").status_code == 404
