"""The site as a whole: the login page, the API schema, security headers."""

import pytest


@pytest.mark.django_db
def test_login_page_speaks_chinese(client):
    response = client.get("/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-Hans">' in body
    assert "登录创文指挥平台" in body


@pytest.mark.django_db
def test_pages_require_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_openapi_schema_is_published(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "创文 Chuangwen API"
    assert "/api/v1/org/me" in schema["paths"]


@pytest.mark.django_db
def test_api_refuses_anonymous_with_json(client):
    response = client.get("/api/v1/org/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "未登录或令牌无效"}


def test_production_settings_refuse_a_missing_secret(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import chuangwen.settings as module

    monkeypatch.setenv("DJANGO_DEBUG", "0")
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured):
        importlib.reload(module)
    monkeypatch.setenv("DJANGO_DEBUG", "1")
    importlib.reload(module)


def test_private_media_is_never_served_by_url(client, settings):
    settings.DEBUG = True
    private = settings.MEDIA_ROOT / "private"
    private.mkdir(parents=True)
    (private / "original.jpg").write_bytes(b"secret")
    (settings.MEDIA_ROOT / "public.txt").write_bytes(b"ok")
    assert client.get("/media/private/original.jpg").status_code == 404
    assert client.get("/media/public.txt").status_code == 200


@pytest.mark.django_db
def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert '<link rel="icon" href="/static/favicon.ico">' in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_the_admin_names_every_section_in_chinese(client):
    import re

    from org.tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get("/admin/")
    assert response.status_code == 200
    names = [str(app["name"]) for app in response.context["app_list"]]
    assert len(names) >= 10
    assert [n for n in names if not re.search(r"[\u4e00-\u9fff]", n)] == []
