import pytest
from django.test import override_settings


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Uploaded files of a test go to a temporary folder, never to the demo's media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Tests make many people; the production hasher is slow by design, so tests use a fast one.
    Session-wide, so that module-scoped fixtures (e.g. a loaded demo world) hash the same way
    as the tests that then log in."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
