"""This app's entries in the menu and in each role's home-page tasks (see chuangwen/nav.py)."""

from chuangwen.nav import NavItem
from org.models import Role

from .privacy import STAFF_ROLES

STAFF = frozenset(STAFF_ROLES)

MENU = [
    NavItem("群众诉求", "appeals:list", STAFF),
    NavItem("诉求化解率", "appeals:stats", STAFF),
]

ROLE_TASKS = {
    Role.DISPATCHER: [NavItem("坐席录入诉求", "appeals:new"), NavItem("群众诉求", "appeals:list")],
    Role.HQ_ADMIN: [NavItem("诉求化解率", "appeals:stats")],
    Role.LEADER: [NavItem("诉求化解率", "appeals:stats")],
}
