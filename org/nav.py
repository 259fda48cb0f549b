"""The organisation pages in the menu, and the first tasks of HQ and leaders."""

from chuangwen.nav import NavItem
from org.models import Role

HQ = frozenset({Role.HQ_ADMIN})
# Roles whose scope holds regions and units (field roles and volunteers see none: org.scope).
ORG_READERS = frozenset(
    {Role.HQ_ADMIN, Role.DISPATCHER, Role.INSPECTOR, Role.HANDLER, Role.REPORT_CLERK, Role.LEADER}
)

MENU = [
    NavItem("组织架构", "org:regions", ORG_READERS),
    NavItem("单位", "org:units", ORG_READERS),
    NavItem("包保关系", "org:contracts", frozenset({Role.HQ_ADMIN, Role.LEADER})),
    NavItem("导入导出", "org:import", HQ),
]

ROLE_TASKS = {
    Role.HQ_ADMIN: [NavItem("组织架构", "org:regions"), NavItem("导入导出", "org:import")],
    Role.LEADER: [NavItem("我的包保", "org:contracts")],
}
