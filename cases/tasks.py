"""Background tasks of the case loop (Django's tasks API, run by ``manage.py db_worker``).

``recompute_deadlines`` counts open parts' deadlines again (``deadlines.recompute_open_deadlines``)
for the person who changed the calendar or the working hours: ``workdays`` sends
``schedule_changed`` inside that change's transaction, ``schedule_changed_received`` enqueues the
task once the transaction commits (a rolled-back change enqueues nothing, and the worker sees the
new calendar). The nightly job (``chuangwen.schedule``) catches anything else, e.g. a day changed
in the admin.
"""

from django.db import transaction
from django_tasks import task

from org.audit import Actor
from org.models import User

from .deadlines import recompute_open_deadlines


@task()
def recompute_deadlines(user_id: int | None, ip: str | None, reason: str) -> str:
    """Recount on behalf of ``user_id`` (recorded on each change with ``reason``, channel task)."""
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    changed = recompute_open_deadlines(Actor(user=user, ip=ip, via="task"), reason=reason)
    return f"{changed} 个责任单位的处置时限已重算"


def schedule_changed_received(sender, actor: Actor, reason: str = "", **kwargs) -> None:
    transaction.on_commit(lambda: recompute_deadlines.enqueue(actor.user_id, actor.ip, reason))
