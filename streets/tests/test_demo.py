"""The demo's field verifications and joint actions: the ``collector`` login has a check to do
today, the ``streetchief`` login a joint action; loading twice changes nothing."""

import pytest

from cases import demo as cases_demo
from cases.models import Case, CaseEvent, FieldCheck
from org import demo as org_demo
from org.models import User
from streets import demo, services
from streets.models import JointAction, JointFinding, JointSummons, Patrol, ServiceTeam
from workdays import demo as workdays_demo

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "patrols": Patrol.objects.count(),
        "checks": FieldCheck.objects.count(),
        "actions": JointAction.objects.count(),
        "summons": JointSummons.objects.count(),
        "findings": JointFinding.objects.count(),
        "teams": ServiceTeam.objects.count(),
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
    }


def test_demo_field_checks_and_joint_actions(monkeypatch):
    monkeypatch.setattr(cases_demo, "CASE_COUNT", 300)
    monkeypatch.setattr(demo, "WEEKS", 2)
    org_demo.load()
    workdays_demo.load()
    cases_demo.load()
    demo.load()
    collector = User.objects.get(username="collector")
    pending = services.field_checks_for(collector).filter(status="pending")
    assert pending.count() == 1 and pending.get().case.status == Case.Status.HANDLED
    assert FieldCheck.objects.filter(verifier=collector, status="passed", case__status="handled").count() == 1
    assert FieldCheck.objects.filter(status="passed", case__status="closed").exists()

    chief = User.objects.get(username="streetchief")
    today = services.visible_actions(chief).filter(day=demo.timezone.localdate())
    assert today.count() == 1
    action = today.get()
    assert action.summons.filter(signed_in_at__isnull=False).count() == 2
    assert action.summons.filter(far=True).count() == 1
    assert {f.outcome for f in action.findings.all()} == {"case", "on_spot"}
    assert JointAction.objects.filter(day__lt=action.day).exists()
    rows = services.attendance(action.day.replace(day=1) - demo.dt.timedelta(days=60), action.day)
    assert sum(r.no_show for r in rows) > 0 and sum(r.attended for r in rows) > 0

    before = counts()
    demo.load()
    assert counts() == before
