"""The audit trail: every state change in org records who, when and from where."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import RequestFactory

from org.audit import Actor, client_ip, record
from org.models import AuditLog, Region, Unit
from org.tests.factories import RegionFactory, UnitFactory, UserFactory, region_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def region_form(region: Region, **changes) -> dict:
    data = {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "parent": region.parent_id or "",
        "lat": "",
        "lng": "",
        "boundary": "",
    }
    return {**data, **changes}


def test_an_admin_edit_is_audited_and_a_moved_region_keeps_its_subtree_paths(admin_client):
    tree = region_tree()
    url = f"/admin/org/region/{tree['c1'].pk}/change/"
    response = admin_client.post(url, region_form(tree["c1"], parent=tree["s2"].pk), REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Region.objects.get(code="S1C1G1").path == "/D/S2/S1C1/S1C1G1/"
    entry = AuditLog.objects.get(action="admin.change")
    assert (entry.actor.username, entry.ip, entry.via) == ("root", "10.1.1.1", "admin")
    assert (entry.object_type, entry.object_id) == ("org.region", str(tree["c1"].pk))
    assert entry.data["change"] == [{"changed": {"fields": ["上级"]}}]
    assert LogEntry.objects.count() == 1  # Django's own admin log still works


def test_the_admin_refuses_moving_a_region_under_its_own_subtree(admin_client):
    tree = region_tree()
    url = f"/admin/org/region/{tree['s1'].pk}/change/"
    response = admin_client.post(url, region_form(tree["s1"], parent=tree["g1"].pk, level="group"))
    assert response.status_code == 200
    assert Region.objects.get(code="S1").path == "/D/S1/"
    assert not AuditLog.objects.exists()


def test_admin_additions_and_deletions_are_audited(admin_client):
    district = RegionFactory(code="D", level=Region.Level.DISTRICT)
    response = admin_client.post(
        "/admin/org/unit/add/",
        {
            "code": "U9",
            "name": "新单位",
            "short_name": "",
            "kind": "department",
            "region": district.pk,
            "phone": "",
        },
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="U9")
    assert AuditLog.objects.get(action="admin.add").object_id == str(unit.pk)
    response = admin_client.post(
        "/admin/org/unit/", {"action": "delete_selected", "_selected_action": [unit.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not Unit.objects.filter(code="U9").exists()
    entry = AuditLog.objects.get(action="admin.delete")
    assert (entry.object_id, entry.summary) == (str(unit.pk), "删除单位：新单位")


def test_a_password_reset_in_the_admin_is_audited(admin_client):
    person = UserFactory(username="zhang")
    response = admin_client.post(
        f"/admin/org/user/{person.pk}/password/",
        {"password1": "A-new-pass-2026!", "password2": "A-new-pass-2026!", "usable_password": "true"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("A-new-pass-2026!")
    entry = AuditLog.objects.get(action="admin.change")
    assert entry.object_id == str(person.pk)


def test_the_audit_log_cannot_be_edited_in_the_admin(admin_client):
    entry = record(Actor.system(), "org.test", None, "测试")
    assert admin_client.get(f"/admin/org/auditlog/{entry.pk}/change/").status_code == 200
    admin_client.post(f"/admin/org/auditlog/{entry.pk}/change/", {"summary": "改过"})
    admin_client.post(f"/admin/org/auditlog/{entry.pk}/delete/", {"post": "yes"})
    entry.refresh_from_db()
    assert entry.summary == "测试"
    assert admin_client.get("/admin/org/auditlog/add/").status_code == 403


def test_the_client_address_trusts_forwarded_for_only_behind_a_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    settings.AXES_IPWARE_PROXY_COUNT = None
    assert client_ip(request) == "10.0.0.1"
    settings.AXES_IPWARE_PROXY_COUNT = 1
    assert client_ip(request) == "1.2.3.4"  # the address our one proxy saw, not what the client claims


def test_every_org_action_names_who_when_and_from_where(client):
    """Import, export, token issue and revoke: one audit row each, with the person and address."""
    from org import xlsx
    from org.models import Role
    from org.services import issue_token, revoke_token
    from org.tests.factories import member
    from org.tests.test_xlsx import xlsx_file

    hq = member(UnitFactory(code="HQ", kind=Unit.Kind.HQ), Role.HQ_ADMIN, username="hq")
    actor = Actor(user=hq, ip="10.2.3.4", via="web")
    assert xlsx.import_workbook(actor, xlsx_file()).ok
    xlsx.export_workbook(actor)
    token, _key = issue_token(actor, hq, "手机")
    revoke_token(actor, token)
    rows = list(AuditLog.objects.order_by("at", "pk").values_list("action", "actor__username", "ip", "via"))
    assert rows == [
        ("org.import", "hq", "10.2.3.4", "web"),
        ("org.export", "hq", "10.2.3.4", "web"),
        ("org.token.issue", "hq", "10.2.3.4", "web"),
        ("org.token.revoke", "hq", "10.2.3.4", "web"),
    ]
    assert all(entry.at is not None for entry in AuditLog.objects.all())
