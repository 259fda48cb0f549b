"""The demo appeals: every channel, taken through the loop by the services, trackable, loaded once."""

import pytest

from appeals import demo
from appeals.models import Appeal
from org import demo as org_demo

pytestmark = pytest.mark.django_db


def test_demo_appeals_are_trackable_in_every_stage_and_load_once(client, monkeypatch):
    monkeypatch.setattr(demo, "COUNT", 30)
    org_demo.load()
    demo.load()
    assert Appeal.objects.count() == 30
    assert {"web", "hotline"} <= set(Appeal.objects.values_list("channel", flat=True))
    statuses = set(Appeal.objects.values_list("case__status", flat=True))
    assert {"reported", "dispatched", "closed"} <= statuses
    assert Appeal.objects.exclude(rating="").exists()
    for appeal in Appeal.objects.filter(channel__in=Appeal.CLERK_CHANNELS, case__status="closed"):
        assert appeal.followed_up_at is not None
    appeal = Appeal.objects.filter(case__status="closed").first()
    response = client.post("/appeal/track/", {"code": appeal.code, "phone": demo.DEMO_PHONE})
    assert response.status_code == 302
    assert "已办结" in client.get(response["Location"]).content.decode()
    demo.load()
    assert Appeal.objects.count() == 30
