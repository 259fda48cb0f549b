import pytest


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Uploaded files of a test go to a temporary folder, never to the demo's media."""
    settings.MEDIA_ROOT = tmp_path / "media"
