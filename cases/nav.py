"""The case pages in the menu, and each role's first case tasks on the home page."""

from chuangwen.nav import NavItem
from org.models import Role

REPORTERS = frozenset({Role.COLLECTOR, Role.STREET_CHIEF, Role.INSPECTOR, Role.DISPATCHER, Role.HQ_ADMIN})
COMMAND = frozenset({Role.DISPATCHER, Role.HQ_ADMIN})
HANDLERS = frozenset({Role.HANDLER})
OVERSIGHT = frozenset({Role.HQ_ADMIN, Role.DISPATCHER, Role.LEADER, Role.INSPECTOR})

MENU = [
    NavItem("上报问题", "cases:report", REPORTERS),
    NavItem("受理派遣", "cases:dispatch_queue", COMMAND),
    NavItem("待办案件", "cases:unit_queue", HANDLERS),
    NavItem("核查结案", "cases:verify_queue", COMMAND),
    NavItem("延期审批", "cases:extensions", COMMAND),
    NavItem("案件查询", "cases:list"),
    NavItem("月度汇总", "cases:summary", OVERSIGHT),
    NavItem("案件指标", "cases:metrics", OVERSIGHT),
]

ROLE_TASKS = {
    Role.COLLECTOR: [NavItem("上报问题", "cases:report"), NavItem("我上报的案件", "cases:list")],
    Role.STREET_CHIEF: [NavItem("上报问题", "cases:report"), NavItem("我上报的案件", "cases:list")],
    Role.INSPECTOR: [
        NavItem("上报问题", "cases:report"),
        NavItem("案件查询", "cases:list"),
        NavItem("案件考核指标", "cases:metrics"),
    ],
    Role.DISPATCHER: [
        NavItem("受理派遣", "cases:dispatch_queue"),
        NavItem("核查结案", "cases:verify_queue"),
        NavItem("延期审批", "cases:extensions"),
        NavItem("案件查询", "cases:list"),
    ],
    Role.HQ_ADMIN: [
        NavItem("案件月度汇总", "cases:summary"),
        NavItem("案件考核指标", "cases:metrics"),
        NavItem("案件查询", "cases:list"),
    ],
    Role.HANDLER: [NavItem("待办案件", "cases:unit_queue"), NavItem("案件查询", "cases:list")],
    Role.LEADER: [NavItem("案件月度汇总", "cases:summary"), NavItem("案件查询", "cases:list")],
}
