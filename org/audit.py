"""Who did it, from where: the actor every service takes, and the audit trail it writes.

Every state-changing service takes an ``Actor`` as its first argument. Views build it with
``Actor.from_request``, the API the same, commands and tasks with ``Actor.system``.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from . import compiled
from .models import AuditLog, User


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as PROXY_COUNT proxies go."""
    proxies = int(getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


# The channels 渠道 an action may come through (``Actor.via``), as timelines name them.
VIA_LABELS = {
    "web": "网页",
    "api": "接口",
    "open311": "Open311 接口",
    "public": "群众端",
    "admin": "管理后台",
    "command": "系统任务",
    "task": "定时任务",
    "demo": "演示数据",
}


def via_label(via: str) -> str:
    """The Chinese name of a channel code (an unknown code is shown as it is)."""
    return VIA_LABELS.get(via, via)


@dataclass(frozen=True)
class Actor:
    """The person (or the system) doing an action, and where the action came from."""

    user: User | None
    ip: str | None = None
    via: str = "web"  # web, api, open311, public, command, task

    @classmethod
    def from_request(cls, request: HttpRequest, via: str = "web") -> "Actor":
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, ip=client_ip(request), via=via)  # type: ignore[arg-type]

    @classmethod
    def system(cls, via: str = "command", user: User | None = None) -> "Actor":
        return cls(user=user, ip=None, via=via)

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


def record(
    actor: Actor, action: str, obj: models.Model | None = None, summary: str = "", **data: Any
) -> AuditLog:
    """Write one audit entry. Call it inside the transaction of the change it describes."""
    return compiled.insert(
        AuditLog(
            actor=actor.user,
            ip=actor.ip,
            via=actor.via,
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            summary=summary[:300],
            data=data,
        )
    )
