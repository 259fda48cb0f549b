"""The organisation pages in the menu, and the first tasks of HQ and leaders."""

from chuangwen.nav import NavItem
from org.models import Role

HQ = frozenset({Role.HQ_ADMIN})

MENU = [
    NavItem("组织架构", "org:regions", frozenset({Role.HQ_ADMIN, Role.LEADER, Role.DISPATCHER})),
    NavItem("单位", "org:units"),
    NavItem("包保关系", "org:contracts", frozenset({Role.HQ_ADMIN, Role.LEADER})),
    NavItem("导入导出", "org:import", HQ),
]

ROLE_TASKS = {
    Role.HQ_ADMIN: [NavItem("组织架构", "org:regions"), NavItem("导入导出", "org:import")],
    Role.LEADER: [NavItem("我的包保", "org:contracts")],
}
