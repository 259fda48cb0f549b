"""The outbox's sender: each pending delivery is claimed by one worker, sent, and then marked
sent, or retried with back-off, or failed with its reason after the last attempt.

- Claim: ``UPDATE … SET status='sending' WHERE id=… AND status='pending'`` — of two workers
  reaching the same delivery, one updates the row and sends, the other updates nothing and moves on.
- Back-off: the n-th failed attempt waits ``NOTICES_RETRY_SECONDS`` × 2^(n−1) (capped at an hour);
  after ``NOTICES_MAX_ATTEMPTS`` attempts the delivery fails with the last reason.
- A delivery left "sending" by a worker that stopped mid-send for longer than ``STALE`` is marked
  failed, not sent again: the robot may already have posted it, and a message is never sent twice.
  HQ sees it in the delivery log.

Sending happens outside any transaction and never inside the step that caused the notice, so a
slow or broken webhook never holds a step back.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from . import channels
from .models import Delivery

logger = logging.getLogger(__name__)

STALE = dt.timedelta(minutes=10)
MAX_BACKOFF = dt.timedelta(hours=1)


def max_attempts() -> int:
    return int(getattr(settings, "NOTICES_MAX_ATTEMPTS", 5))


def backoff(attempts: int) -> dt.timedelta:
    base = float(getattr(settings, "NOTICES_RETRY_SECONDS", 60))
    return min(dt.timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass
class Sent:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"发送 {self.sent}，待重试 {self.retried}，失败 {self.failed}"


def release_stale(now: dt.datetime) -> int:
    return Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - STALE).update(
        status=Delivery.Status.FAILED, last_error="发送中断（后台进程退出），为避免重复未自动重发"
    )


def claim(pk: int, now: dt.datetime) -> bool:
    """Take the delivery for this worker; False when another worker took it first."""
    return bool(
        Delivery.objects.filter(pk=pk, status=Delivery.Status.PENDING, next_attempt_at__lte=now).update(
            status=Delivery.Status.SENDING, claimed_at=now
        )
    )


def send_one(pk: int, now: dt.datetime, result: Sent) -> None:
    delivery = Delivery.objects.select_related("notice", "robot", "user").get(pk=pk)
    delivery.attempts += 1
    try:
        channels.send(delivery, now)
    except channels.SendError as exc:
        delivery.last_error = str(exc)[:300]
        if delivery.attempts >= max_attempts():
            delivery.status = Delivery.Status.FAILED
            result.failed += 1
        else:
            delivery.status = Delivery.Status.PENDING
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            result.retried += 1
        logger.warning("notice delivery %s failed (attempt %s): %s", pk, delivery.attempts, exc)
    else:
        delivery.status, delivery.sent_at, delivery.last_error = Delivery.Status.SENT, now, ""
        result.sent += 1
    delivery.save(update_fields=["attempts", "status", "next_attempt_at", "sent_at", "last_error"])


def send_due(now: dt.datetime | None = None, limit: int = 200) -> Sent:
    """Send the deliveries due at ``now`` (at most ``limit``): what the worker runs every tick."""
    now = now or timezone.now()
    result = Sent()
    result.failed += release_stale(now)
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
    for pk in list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]):
        if claim(pk, now):
            send_one(pk, now, result)
    return result
