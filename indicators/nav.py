"""This app's entries in the menu and in each role's home-page tasks (see chuangwen/nav.py)."""

from chuangwen.nav import NavItem
from org.models import Role

HQ = frozenset({Role.HQ_ADMIN})
OVERVIEW = frozenset({Role.HQ_ADMIN, Role.LEADER, Role.INSPECTOR})
TASK_ROLES = frozenset({Role.HQ_ADMIN, Role.LEADER, Role.INSPECTOR, Role.HANDLER, Role.REPORT_CLERK})

MENU = [
    NavItem("创建任务", "indicators:board", TASK_ROLES),
    NavItem("测评体系", "indicators:systems", OVERVIEW),
    NavItem("五落实", "indicators:check", HQ),
    NavItem("任务矩阵", "indicators:matrix", OVERVIEW),
]

ROLE_TASKS = {
    Role.HQ_ADMIN: [
        NavItem("测评体系", "indicators:systems"),
        NavItem("五落实检查", "indicators:check"),
        NavItem("批量分解", "indicators:bulk_assign"),
        NavItem("任务矩阵", "indicators:matrix"),
    ],
    Role.HANDLER: [NavItem("我的创建任务", "indicators:board")],
    Role.REPORT_CLERK: [NavItem("我的创建任务", "indicators:board")],
    Role.LEADER: [NavItem("包保任务", "indicators:board"), NavItem("任务矩阵", "indicators:matrix")],
}
