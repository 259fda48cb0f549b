"""Open311 API keys: issued by HQ in the admin or by `manage.py open311_key`, stored as hashes."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from appeals.models import Open311Client
from appeals.services import issue_open311_key, revoke_open311_key
from org.audit import Actor
from org.models import AuditLog, Role
from org.tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db


def _command(*args) -> str:
    out = io.StringIO()
    call_command("open311_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_prints_a_key_that_authenticates_and_is_stored_only_as_a_hash():
    key = _command("create", "巴州随手拍").strip()
    client = Open311Client.objects.get(name="巴州随手拍")
    assert len(key) >= 40
    assert client.prefix == key[:8]
    assert key not in client.key_hash
    assert Open311Client.authenticate(key) == client
    assert Open311Client.authenticate(key + "x") is None
    assert AuditLog.objects.filter(action="open311.issue_key", object_id=str(client.pk)).exists()


def test_list_shows_prefixes_never_keys_and_revoke_stops_the_key():
    key = _command("create", "市民通").strip()
    listing = _command("list")
    assert key[:8] in listing and key not in listing and "active" in listing
    assert _command("revoke", "市民通").strip() == "Revoked 市民通"
    assert Open311Client.authenticate(key) is None
    assert "revoked" in _command("list")


def test_command_errors_are_reported_plainly():
    _command("create", "重复")
    with pytest.raises(CommandError, match="已有名为“重复”的客户端"):
        _command("create", "重复")
    with pytest.raises(CommandError, match="No Open311 client named"):
        _command("revoke", "没有这个")
    _command("revoke", "重复")
    with pytest.raises(CommandError, match="该密钥已吊销"):
        _command("revoke", "重复")


def test_only_hq_issues_keys():
    unit = UnitFactory()
    with pytest.raises(PermissionDenied):
        issue_open311_key(Actor(user=member(unit, Role.DISPATCHER)), "x")
    client, _key = issue_open311_key(Actor(user=member(unit, Role.HQ_ADMIN)), "x")
    with pytest.raises(PermissionDenied):
        revoke_open311_key(Actor(user=member(unit, Role.HANDLER)), client)


def test_admin_issues_a_key_once_and_shows_it(client):
    from org.tests.factories import UserFactory

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/admin/appeals/open311client/add/", {"name": "网格通", "contact": "信息中心"}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    key = next(m for m in shown if m.startswith("新密钥")).split("：", 1)[1]
    assert Open311Client.authenticate(key).name == "网格通"
    assert Open311Client.objects.get(name="网格通").created_by == admin
