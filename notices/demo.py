"""Demo notices: the sweeps, digests and warnings run once over the demo's cases and tasks (as
the worker would), and a welcome notice for each demo login the jobs told nothing, so every
login opens an inbox with unread notices. Idempotent: every notice has its key."""

from django.utils import timezone

from org.demo import DEMO_LOGINS
from org.models import User

from . import schedule
from .kinds import Kind
from .models import Receipt
from .outbox import notify

DEMO_JOBS = ("case_deadlines", "case_digest", "task_warnings")
WELCOME = (
    "通知中心会在这里告诉您需要处理的事：新派案件、退单、即将到期和超期、延期审批结果、返工、任务预警等。"
)


def load() -> None:
    now = timezone.now()
    for name in DEMO_JOBS:
        try:
            job = schedule.job(name)
        except KeyError:
            continue
        schedule.run(job, now, f"demo-{now.date().isoformat()}")
    for user in User.objects.filter(username__in=[login[0] for login in DEMO_LOGINS]):
        if Receipt.objects.filter(user=user, read_at__isnull=True).exists():
            continue
        notify(
            Kind.SYSTEM,
            [user],
            {"title": "欢迎使用创文通知中心", "body": WELCOME},
            "/notices/preferences/",
            f"demo-welcome:{user.pk}",
            external=False,
        )
