"""Deployment hardening (issue 13, item 7): a Content-Security-Policy every page passes (no inline
script or style in any template), HSTS and the SSL redirect on by default in production, the API
docs and schema behind a setting that is off by default when DEBUG is off."""

import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

ROOT = Path(django_settings.BASE_DIR)
TEMPLATES = sorted(
    p for p in ROOT.glob("*/templates/**/*.html") if ".venv" not in p.parts and "var" not in p.parts
)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_the_templates_are_found():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_inline_script_or_style(template):
    """script-src 'self' and style-src 'self' refuse inline code: every script is a static file
    (data travels in json_script blocks, which are not executed, or data attributes)."""
    text = template.read_text()
    for attrs in SCRIPT.findall(text):
        assert "src=" in attrs or 'type="application/json"' in attrs, f"inline <script> in {template}"
    assert "<style" not in text.lower(), f"inline <style> in {template}"
    assert " style=" not in text, f"style attribute in {template}"
    assert not INLINE_HANDLER.search(text), f"inline event handler in {template}"


@pytest.mark.django_db
def test_pages_carry_the_content_security_policy(client):
    response = client.get("/appeal/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy


@pytest.mark.django_db
def test_the_map_tiles_origin_is_allowed_for_images(client, settings):
    settings.MAP_TILE_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}"
    policy = client.get("/appeal/")["Content-Security-Policy"]
    img = next(d for d in policy.split(";") if d.strip().startswith("img-src"))
    assert "https://*.is.autonavi.com" in img


@pytest.mark.django_db
def test_api_docs_and_schema_follow_the_setting(client, settings):
    settings.API_DOCS = False
    assert client.get("/api/v1/docs").status_code == 404
    assert client.get("/api/v1/openapi.json").status_code == 404
    settings.API_DOCS = True
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_production_defaults(monkeypatch):
    import chuangwen.settings as module

    monkeypatch.setenv("DJANGO_DEBUG", "0")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 60)
    try:
        importlib.reload(module)
        assert module.API_DOCS is False
        assert module.SECURE_SSL_REDIRECT is True
        assert module.SECURE_HSTS_SECONDS >= 31536000
        assert module.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
        monkeypatch.setenv("DJANGO_API_DOCS", "1")
        monkeypatch.setenv("DJANGO_SECURE_SSL_REDIRECT", "0")
        monkeypatch.setenv("DJANGO_HSTS_SECONDS", "0")
        importlib.reload(module)
        assert (module.API_DOCS, module.SECURE_SSL_REDIRECT, module.SECURE_HSTS_SECONDS) == (True, False, 0)
    finally:
        monkeypatch.setenv("DJANGO_DEBUG", "1")
        for name in (
            "DJANGO_API_DOCS",
            "DJANGO_SECURE_SSL_REDIRECT",
            "DJANGO_HSTS_SECONDS",
            "DJANGO_SECRET_KEY",
        ):
            monkeypatch.delenv(name, raising=False)
        importlib.reload(module)
    assert module.API_DOCS is True and module.SECURE_SSL_REDIRECT is False
