"""The demo: every demo login opens an inbox with unread notices; loading twice adds nothing."""

import pytest

from notices import demo
from notices.models import Notice, Receipt
from org import demo as org_demo
from org.demo import DEMO_LOGINS

pytestmark = pytest.mark.django_db


def test_every_demo_login_has_unread_notices_and_a_reload_adds_none():
    org_demo.load()
    demo.load()
    count = Notice.objects.count()
    demo.load()
    assert Notice.objects.count() == count
    for username, *_ in DEMO_LOGINS:
        assert Receipt.objects.filter(user__username=username, read_at__isnull=True).exists(), username
