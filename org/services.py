"""The organisation's actions. Each takes the ``Actor`` first, checks role and ownership, runs in
one transaction and writes the audit trail (who, when, from where)."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .audit import Actor, record
from .errors import ActionRefused
from .models import ApiToken, Role, User
from .scope import scope_for

MAX_TOKEN_LIFETIME_DAYS = 365


def _may_manage_tokens_of(actor: Actor, user: User) -> bool:
    """A person manages their own tokens; HQ admins (and the system) anyone's."""
    if actor.user is None:
        return True
    return (
        actor.user.pk == user.pk or actor.user.is_superuser or scope_for(actor.user).has_role(Role.HQ_ADMIN)
    )


def issue_token(
    actor: Actor, user: User, name: str, days: int | None = ApiToken.DEFAULT_LIFETIME_DAYS
) -> tuple[ApiToken, str]:
    """Create a device token for ``user``; returns the token and its key (shown once, never stored).

    ``days``: how long the token works (1–365); ``None`` only for the system (e.g. a server job).
    """
    if not _may_manage_tokens_of(actor, user):
        raise PermissionDenied("只能为自己创建 API 令牌")
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["请填写设备名称"]})
    if len(name) > 100:
        raise ValidationError({"name": ["设备名称不能超过 100 个字符"]})
    if days is None and actor.user is not None:
        raise ValidationError({"days": ["请填写有效期"]})
    if days is not None and not 1 <= days <= MAX_TOKEN_LIFETIME_DAYS:
        raise ValidationError({"days": [f"有效期应为 1–{MAX_TOKEN_LIFETIME_DAYS} 天"]})
    if not user.is_active:
        raise ActionRefused("该人员已停用，不能创建令牌")
    expires_at = timezone.now() + dt.timedelta(days=days) if days is not None else None
    with transaction.atomic():
        token, key = ApiToken.issue(user, name, expires_at=expires_at)
        record(
            actor,
            "org.token.issue",
            token,
            f"为 {user.username} 创建 API 令牌「{name}」",
            user=user.username,
            prefix=token.prefix,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    return token, key


def revoke_token(actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke a device token at once (吊销): the next request with its key gets 401."""
    if not _may_manage_tokens_of(actor, token.user):
        raise PermissionDenied("只能吊销自己的 API 令牌")
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise ActionRefused("该令牌已吊销")
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record(
            actor,
            "org.token.revoke",
            locked,
            f"吊销 {locked.user.username} 的 API 令牌「{locked.name}」",
            user=locked.user.username,
            prefix=locked.prefix,
        )
    return locked


def tokens_visible_to(user: User):
    """The tokens a person may list and revoke: their own, or everyone's for HQ admins."""
    if user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN):
        return ApiToken.objects.select_related("user")
    return ApiToken.objects.filter(user=user).select_related("user")
