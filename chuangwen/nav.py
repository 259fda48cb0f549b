"""The navigation menu: one list, each entry shown to the roles that use it.

An app adds its pages in its own ``nav.py``. ``roles=None`` means every signed-in person. The menu is a convenience,
never a permission: every view checks role and scope itself.
"""

from dataclasses import dataclass
from functools import cache
from importlib import import_module

from django.urls import reverse

from org.scope import scope_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str] | None = None


# Each app lists its entries in ``<app>/nav.py`` (``MENU`` and ``ROLE_TASKS``), in this order.
APPS = ("org", "cases", "appeals", "indicators")


@cache
def _menu() -> tuple[list[NavItem], dict[str, list[NavItem]]]:
    menu: list[NavItem] = [NavItem("首页", "home")]
    tasks: dict[str, list[NavItem]] = {}
    for app in APPS:
        module = import_module(f"{app}.nav")
        menu.extend(module.MENU)
        for role, items in module.ROLE_TASKS.items():
            tasks.setdefault(role, []).extend(items)
    return menu, tasks


def role_tasks(role: str) -> list[dict[str, str]]:
    return [{"label": i.label, "url": reverse(i.url_name)} for i in _menu()[1].get(role, [])]


def items_for(user) -> list[dict[str, str]]:
    if not user.is_authenticated:
        return []
    scope = scope_for(user)
    shown = []
    for item in _menu()[0]:
        if item.roles is not None and not (user.is_superuser or scope.has_role(*item.roles)):
            continue
        shown.append({"label": item.label, "url": reverse(item.url_name)})
    return shown


def navigation(request):
    """Template context processor: the menu for the signed-in person."""
    user = getattr(request, "user", None)
    return {"nav_items": items_for(user) if user is not None else []}
