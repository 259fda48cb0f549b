import pytest


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Uploaded files of a test go to a temporary folder, never to the demo's media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests make many people; the production hasher is slow by design, so tests use a fast one."""
    # The default hasher stays listed (after the fast one) so that passwords set outside a test's
    # settings, e.g. by a module-scoped demo world, still verify.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
