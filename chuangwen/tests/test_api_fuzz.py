"""Property-based fuzzing of /api/v1/ from its OpenAPI schema (schemathesis), bounded so it runs in
``make test``: every operation, a few generated requests each, sent with the token of each role.
No answer may be a 5xx, and every answer with a documented status must match its schema."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from cases.tests.conftest import world  # noqa: F401  (the fixture: regions, units, people)
from chuangwen.wsgi import application
from org.audit import Actor
from org.services import issue_token

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
ROLES = ("collector", "dispatcher", "handler", "hq")


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app closes database connections when a request ends, as it should in a server; in
    a test that would close the test's own transaction on PostgreSQL (the test client does this
    same thing for its requests)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world):  # noqa: F811
    return {
        role: issue_token(
            Actor(user=None, ip="127.0.0.1", via="web"), getattr(world, role), f"fuzz-{role}", 30
        )[1]
        for role in ROLES
    }


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_or_breaks_its_schema(case, tokens):
    for role in ROLES:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {tokens[role]}"},
            checks=[not_a_server_error, response_schema_conformance],
        )
