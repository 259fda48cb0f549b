"""The navigation menu: one list, each entry shown to the roles that use it.

An app adds its pages here. ``roles=None`` means every signed-in person. The menu is a convenience,
never a permission: every view checks role and scope itself.
"""

from dataclasses import dataclass

from django.urls import reverse

from org.models import Role
from org.scope import scope_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str] | None = None


ALL_STAFF = None
HQ = frozenset({Role.HQ_ADMIN})

MENU: list[NavItem] = [
    NavItem("首页", "home"),
    NavItem("组织架构", "org:regions", frozenset({Role.HQ_ADMIN, Role.LEADER, Role.DISPATCHER})),
    NavItem("单位", "org:units"),
    NavItem("包保关系", "org:contracts", frozenset({Role.HQ_ADMIN, Role.LEADER})),
    NavItem("导入导出", "org:import", HQ),
]


# The first things each role does, shown on its home page. Apps add their entries.
ROLE_TASKS: dict[str, list[NavItem]] = {
    Role.HQ_ADMIN: [NavItem("组织架构", "org:regions"), NavItem("导入导出", "org:import")],
    Role.LEADER: [NavItem("我的包保", "org:contracts")],
}


def role_tasks(role: str) -> list[dict[str, str]]:
    return [{"label": i.label, "url": reverse(i.url_name)} for i in ROLE_TASKS.get(role, [])]


def items_for(user) -> list[dict[str, str]]:
    if not user.is_authenticated:
        return []
    scope = scope_for(user)
    shown = []
    for item in MENU:
        if item.roles is not None and not (user.is_superuser or scope.has_role(*item.roles)):
            continue
        shown.append({"label": item.label, "url": reverse(item.url_name)})
    return shown


def navigation(request):
    """Template context processor: the menu for the signed-in person."""
    user = getattr(request, "user", None)
    return {"nav_items": items_for(user) if user is not None else []}
