import pytest

from .helpers import make_world


@pytest.fixture
def world():
    """Departments A–F with tasks 任务按期销号率 A 2/2, B 1/2, C 1/2, D 0/1, F 1/2 (E none) due in
    November 2026, and cases: A handled on time (100), C late (80); and the HQ user ``hq``."""
    return make_world()
