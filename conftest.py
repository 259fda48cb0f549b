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


# The demo world (every app's ``demo.load()``, as ``make demo`` loads it) is built once per test
# process and shared by every test that asks for ``demo_world``: those tests run one after the
# other in their process (below), inside one outer transaction that is rolled back after the last
# of them; each test's own writes are rolled back to a savepoint as usual (they also ask for ``db``).


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    """Tests on the demo world run after the other tests in a transaction and before the tests that
    commit (pytest-django has put those last): no other test sees the demo's rows, the demo's
    transaction is closed before a test commits (or empties the database), and each process
    (pytest-xdist hands out tests in this order) builds the world at most once."""
    items.sort(key=lambda item: (_transactional(item), "demo_world" in getattr(item, "fixturenames", ())))
    import os

    from django.conf import settings

    on_postgresql = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgresql and os.environ.get("DEMO_TESTS_ON_POSTGRESQL") != "1":
        # The demo world takes one to two minutes to load on PostgreSQL in each process and its
        # tests check pages and counts the apps' own tests cover on both databases: CI runs them
        # in its SQLite pass (set DEMO_TESTS_ON_POSTGRESQL=1 to run them here too).
        skip = pytest.mark.skip(
            reason="demo-world tests run on SQLite (DEMO_TESTS_ON_POSTGRESQL=1 runs them here)"
        )
        for item in items:
            if "demo_world" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last test on the demo world (the next one does not use it), roll its transaction
    back at once rather than at the end of the session, before any test that commits."""
    if "demo_world" not in getattr(item, "fixturenames", ()):
        return
    if nextitem is not None and "demo_world" in getattr(nextitem, "fixturenames", ()):
        return
    for fixturedef in item._fixtureinfo.name2fixturedefs.get("demo_world", ()):
        fixturedef.finish(item._request)


@pytest.fixture(scope="session")
def demo_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The whole demo world, loaded once; yields the folder of its media files (photos, evidence):
    a test that serves them sets ``settings.MEDIA_ROOT`` to it."""
    from django.db import connection, transaction
    from django.test import override_settings

    from org.management.commands.load_demo import load_world

    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            load_world()
            # Check the deferred foreign keys of everything just loaded once, here: otherwise
            # PostgreSQL keeps them pending in this outer transaction and every test's end (Django
            # checks constraints before rolling a test back) checks them all again.
            connection.check_constraints()
            yield media
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
