"""HQ keeps the network, teams, menu, points rules and shop in the admin; edits are audited."""

import pytest

from org.models import AuditLog
from volunteers.models import PointsRule

pytestmark = pytest.mark.django_db


def test_admin_pages_open_and_a_rule_change_is_audited(client, world):
    world.hq.is_staff = world.hq.is_superuser = True
    world.hq.save()
    client.force_login(world.hq)
    for url in (
        f"/admin/volunteers/team/{world.team.pk}/change/",
        "/admin/volunteers/station/",
        "/admin/volunteers/goods/",
    ):
        assert client.get(url).status_code == 200
    rule = PointsRule.objects.get(kind="")
    response = client.post(
        f"/admin/volunteers/pointsrule/{rule.pk}/change/", {"kind": "", "points_per_hour": 12}
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.points_per_hour == 12
    assert AuditLog.objects.filter(action="admin.change", object_type="volunteers.pointsrule").exists()
