"""The dashboards' rules: who may read the dashboard and the command-centre screen, and the display
tokens' actions (each checked, in one transaction, with its audit entry)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Role, User
from org.scope import Scope, scope_for

from .models import DisplayToken

# The dashboard 数据看板: HQ district-wide, leaders their contracted areas (their scope).
DASHBOARD_ROLES = (Role.HQ_ADMIN, Role.LEADER)
# The command-centre screen 指挥中心大屏 without a display token: the command roles, district-wide.
SCREEN_ROLES = (Role.HQ_ADMIN, Role.DISPATCHER)
# ``last_used_at`` is written at most once in this many seconds (a screen asks every minute).
LAST_USED_GRANULARITY_SECONDS = 300


def check_view_dashboard(user: User) -> Scope:
    """The viewer's scope, or PermissionDenied unless HQ or a leader."""
    scope = scope_for(user)
    if not (user.is_superuser or scope.has_role(*DASHBOARD_ROLES)):
        raise PermissionDenied("只有创文办和包保领导可以查看数据看板")
    return scope


def check_view_screen(user: User) -> None:
    scope = scope_for(user)
    if not (user.is_superuser or scope.has_role(*SCREEN_ROLES)):
        raise PermissionDenied("只有创文办和指挥中心可以查看指挥大屏")


def check_manage_displays(user: User | None) -> None:
    """Only HQ (and the system) creates and revokes display tokens."""
    if user is None:
        return
    if not (user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN)):
        raise PermissionDenied("只有创文办可以管理大屏令牌")


def issue_display(actor: Actor, name: str) -> tuple[DisplayToken, str]:
    """Create a display token; returns it and its key (shown once, never stored)."""
    check_manage_displays(actor.user)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["请填写大屏名称"]})
    if len(name) > 100:
        raise ValidationError({"name": ["大屏名称不能超过 100 个字符"]})
    key = DisplayToken.new_key()
    with transaction.atomic():
        token = DisplayToken.objects.create(
            name=name, prefix=key[:8], key_hash=DisplayToken.hash_key(key), created_by=actor.user
        )
        record(actor, "dashboards.display.issue", token, f"创建大屏令牌「{name}」", prefix=token.prefix)
    return token, key


def revoke_display(actor: Actor, token: DisplayToken) -> DisplayToken:
    """Revoke a display token at once: the screen opened with it stops refreshing."""
    check_manage_displays(actor.user)
    with transaction.atomic():
        locked = DisplayToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise ActionRefused("该大屏令牌已吊销")
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor.user
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record(
            actor, "dashboards.display.revoke", locked, f"吊销大屏令牌「{locked.name}」", prefix=locked.prefix
        )
    return locked


def display_for_key(key: str) -> DisplayToken | None:
    """The valid (not revoked) display token with this key, or None."""
    if not key or len(key) > 200:
        return None
    token = DisplayToken.objects.filter(key_hash=DisplayToken.hash_key(key), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > LAST_USED_GRANULARITY_SECONDS
    ):
        DisplayToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
