"""The demo: six finished months in every state with cards and a ranking, and work for the
``clerk`` login this month; loading twice changes nothing."""

import datetime as dt

import pytest

from indicators import demo as indicators_demo
from materials import demo, figures, services
from materials.models import Card, MaterialFile, Submission, SubmissionEvent
from org import demo as org_demo

pytestmark = pytest.mark.django_db

# The demo is loaded as seen from 1 December 2026 (see the clock fixture's default).
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def test_demo(clock):
    """One load for all checks (the demo world takes a while)."""
    clock.set(NOW)
    org_demo.load()
    indicators_demo.load()
    demo.load()
    six_months_in_every_state_with_cards_and_ranking()
    clerk_has_real_work_this_month()
    loading_twice_changes_nothing()


def six_months_in_every_state_with_cards_and_ranking():
    months = sorted(set(Submission.objects.values_list("requirement__month", flat=True)))
    assert months == [dt.date(2026, m, 1) for m in range(6, 13)]
    past = Submission.objects.filter(requirement__month__lt=dt.date(2026, 12, 1))
    assert set(past.values_list("state", flat=True)) == set(Submission.State.values)
    assert past.filter(is_late=True).exists() and past.filter(return_count__gt=0, state="accepted").exists()
    # Back-dated into their month: no past submission was handed in this month.
    assert not past.filter(submitted_at__gte=NOW - dt.timedelta(hours=10)).exists()  # 1 Dec, 00:00 in Beijing
    assert (
        Card.objects.filter(color="red").exists() and Card.objects.filter(revoked_at__isnull=False).exists()
    )
    assert Card.objects.filter(is_automatic=False).exists()
    assert not Card.objects.filter(month=dt.date(2026, 11, 1)).exists()  # left for HQ to run
    rows = figures.monthly(dt.date(2026, 10, 1))
    assert len(rows) == 27 and rows[0].rank == 1


def clerk_has_real_work_this_month():
    from org.models import User

    clerk = User.objects.get(username="clerk")
    own = Submission.objects.filter(unit__memberships__user=clerk, requirement__month=dt.date(2026, 12, 1))
    assert own.count() == 3 and all(s.state == "draft" for s in own)
    lacking = sorted((services.missing(s) for s in own), key=len)
    assert lacking == [[], [], ["文字说明"]]  # two ready to submit (one with its photo), one untouched
    assert all(services.allowed_actions(clerk, s) == ["edit", "submit"] for s in own)


def loading_twice_changes_nothing():
    counts = (
        Submission.objects.count(),
        SubmissionEvent.objects.count(),
        Card.objects.count(),
        MaterialFile.objects.count(),
    )
    demo.load()
    assert (
        Submission.objects.count(),
        SubmissionEvent.objects.count(),
        Card.objects.count(),
        MaterialFile.objects.count(),
    ) == counts
