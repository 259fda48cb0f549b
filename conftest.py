import pytest


def pytest_configure(config):
    """Tests make many people and the production hasher is slow by design: use a fast one for the
    whole run (set once, so hashes cached by factories and the demo stay verifiable)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Uploaded files of a test go to a temporary folder, never to the demo's media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_calendar_overrides():
    """Each process keeps the calendar tables (overrides, entered years, working hours) for a
    minute; a test's rolled-back rows must not leak into the next test. A test with the database
    starts with them loaded, as a running process has them, so that query budgets count a page's
    own queries."""
    from workdays.calendar import forget_overrides, tables

    forget_overrides()
    try:
        tables()
    except RuntimeError:  # no database for this test
        forget_overrides()
    yield
    forget_overrides()
