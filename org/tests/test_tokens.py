"""Device tokens for the API: issued and revoked through org.services, audited; a revoked or
expired token gets 401."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from org.audit import Actor
from org.errors import ActionRefused
from org.models import ApiToken, AuditLog, Role, Unit, User
from org.scope import compute_scope
from org.services import issue_token, revoke_token
from org.tests.factories import UnitFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return member(UnitFactory(code="C1", kind=Unit.Kind.COMMUNITY_COMMITTEE), Role.COLLECTOR, username="zhou")


def me(client, key):
    return client.get("/api/v1/org/me", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_an_issued_token_authenticates_and_is_audited(client, person):
    actor = Actor(user=person, ip="10.0.0.8", via="web")
    token, key = issue_token(actor, person, "手机", days=30)
    assert token.key_hash != key and key not in str(ApiToken.objects.values().first())
    assert token.expires_at - timezone.now() > dt.timedelta(days=29)
    response = me(client, key)
    assert response.status_code == 200
    assert response.json()["username"] == "zhou"
    token.refresh_from_db()
    assert token.last_used_at is not None
    entry = AuditLog.objects.get(action="org.token.issue")
    assert (entry.actor, entry.ip, entry.via, entry.object_id) == (person, "10.0.0.8", "web", str(token.pk))
    assert entry.data["prefix"] == key[:8]


def test_a_revoked_token_gets_401(client, person):
    token, key = issue_token(Actor(user=person), person, "手机")
    revoke_token(Actor(user=person, ip="10.0.0.9"), token)
    assert me(client, key).status_code == 401
    entry = AuditLog.objects.get(action="org.token.revoke")
    assert (entry.actor, entry.ip, entry.object_id) == (person, "10.0.0.9", str(token.pk))


def test_a_refused_token_is_logged_for_operators_without_the_key(client, person, caplog):
    token, key = issue_token(Actor(user=person), person, "手机")
    revoke_token(Actor(user=person), token)
    with caplog.at_level("WARNING", logger="org.models"):
        assert me(client, key).status_code == 401
    assert "API token refused" in caplog.text and key not in caplog.text


def test_an_expired_token_gets_401(client, person):
    token, key = issue_token(Actor(user=person), person, "手机", days=1)
    assert me(client, key).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert me(client, key).status_code == 401


def test_a_token_of_a_deactivated_person_gets_401(client, person):
    _token, key = issue_token(Actor(user=person), person, "手机")
    person.is_active = False
    person.save()
    assert me(client, key).status_code == 401


def test_a_wrong_key_gets_401(client, person):
    issue_token(Actor(user=person), person, "手机")
    assert me(client, "not-a-key").status_code == 401


def test_revoking_twice_is_refused(person):
    token, _key = issue_token(Actor(user=person), person, "手机")
    revoke_token(Actor(user=person), token)
    with pytest.raises(ActionRefused):
        revoke_token(Actor(user=person), token)
    assert AuditLog.objects.filter(action="org.token.revoke").count() == 1


def test_nobody_issues_or_revokes_tokens_of_others_except_hq(person):
    other = UserFactory(username="other")
    with pytest.raises(PermissionDenied):
        issue_token(Actor(user=other), person, "手机")
    token, _key = issue_token(Actor(user=person), person, "手机")
    with pytest.raises(PermissionDenied):
        revoke_token(Actor(user=other), token)
    hq = member(UnitFactory(code="HQ", kind=Unit.Kind.HQ), Role.HQ_ADMIN, username="hq")
    revoke_token(Actor(user=hq), token)
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize(
    "name, days", [("", 30), ("x" * 101, 30), ("手机", 0), ("手机", 366), ("手机", None)]
)
def test_bad_token_requests_are_refused(person, name, days):
    with pytest.raises(ValidationError):
        issue_token(Actor(user=person), person, name, days=days)
    assert not ApiToken.objects.exists()
    assert not AuditLog.objects.exists()


def test_api_revokes_a_token_and_then_refuses_it(client, person):
    token, key = issue_token(Actor(user=person), person, "手机")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    response = client.post(f"/api/v1/org/tokens/{token.pk}/revoke", **auth)
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert me(client, key).status_code == 401
    entry = AuditLog.objects.get(action="org.token.revoke")
    assert (entry.actor, entry.via, entry.ip) == (person, "api", "127.0.0.1")


def test_api_revoking_a_token_of_someone_else_is_404(client, person):
    token, _key = issue_token(Actor(user=person), person, "手机")
    other = UserFactory(username="other")
    _other_token, other_key = issue_token(Actor(user=other), other, "电脑")
    response = client.post(f"/api/v1/org/tokens/{token.pk}/revoke", HTTP_AUTHORIZATION=f"Bearer {other_key}")
    assert response.status_code == 404
    assert response.json() == {"detail": "对象不存在或不在您的权限范围内"}
    token.refresh_from_db()
    assert token.revoked_at is None


def test_api_revoking_twice_is_409(client, person):
    token, _key = issue_token(Actor(user=person), person, "手机")
    client.force_login(person)
    assert client.post(f"/api/v1/org/tokens/{token.pk}/revoke").status_code == 200
    response = client.post(f"/api/v1/org/tokens/{token.pk}/revoke")
    assert response.status_code == 409
    assert response.json() == {"detail": "该令牌已吊销"}


def test_api_issues_and_lists_tokens(client, person):
    client.force_login(person)
    response = client.post(
        "/api/v1/org/tokens", {"name": "平板", "days": 90}, content_type="application/json"
    )
    assert response.status_code == 201
    key = response.json()["key"]
    assert me(client, key).status_code == 200
    listed = client.get("/api/v1/org/tokens").json()
    assert [t["name"] for t in listed] == ["平板"]
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    response = client.post(
        "/api/v1/org/tokens", {"name": "平板", "days": 999}, content_type="application/json"
    )
    assert response.status_code == 400


def test_tokens_page_shows_the_key_once_and_revokes(client, person):
    client.force_login(person)
    response = client.post("/org/tokens/", {"name": "我的手机", "days": "90"}, REMOTE_ADDR="10.9.8.7")
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert me(client, key).status_code == 200
    assert key not in client.get("/org/tokens/").content.decode()
    token = ApiToken.objects.get()
    assert AuditLog.objects.get(action="org.token.issue").ip == "10.9.8.7"
    response = client.post(f"/org/tokens/{token.pk}/revoke/", follow=True)
    assert "令牌已吊销" in response.content.decode()
    assert me(Client(), key).status_code == 401  # a device has no session to fall back on


def test_tokens_page_cannot_revoke_a_token_of_someone_else(client, person):
    token, _key = issue_token(Actor(user=person), person, "手机")
    client.force_login(UserFactory(username="other"))
    assert client.post(f"/org/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_brings_its_owners_memberships_for_the_scope(person, django_assert_num_queries):
    """The owner's memberships come with the token (one round trip on PostgreSQL), so the scope
    asked next reads no memberships again; it is the scope the person has without a token."""
    other = member(UnitFactory(code="C2", kind=Unit.Kind.COMMUNITY_COMMITTEE), Role.HANDLER, username="qian")
    issue_token(Actor(user=other), other, "手机")
    _token, key = issue_token(Actor(user=person), person, "手机")
    user = ApiToken.authenticate(key)
    assert user == person
    assert sorted((m["role"], m["unit_id"]) for m in user._chuangwen_memberships) == [
        (Role.COLLECTOR, person.memberships.get().unit_id)
    ]
    fresh = compute_scope(User.objects.get(pk=person.pk))
    # A collector's scope reads their grids and segments (and contracts), not their memberships.
    with django_assert_num_queries(3):
        assert compute_scope(user) == fresh
