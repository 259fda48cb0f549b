"""The navigation menu, in one place for the whole project (as NetBox's central menu): groups by
area, each entry shown to the roles that use it, and each role's first tasks on the home page.

The project package names the apps' pages; apps never import it. ``roles=None`` means every
signed-in person. The menu is a convenience, never a permission: every view asks its app's
services (role and scope) itself.
"""

from dataclasses import dataclass

from django.urls import reverse

from appeals.privacy import STAFF_ROLES
from cases import counts as case_counts
from dashboards.services import DASHBOARD_ROLES as DASHBOARD_ROLE_LIST
from dashboards.services import SCREEN_ROLES as SCREEN_ROLE_LIST
from indicators import counts as task_counts
from inspections import counts as inspection_counts
from materials import counts as material_counts
from org.counts import Count
from org.models import Role
from org.scope import scope_for
from volunteers import counts as volunteer_counts


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str] | None = None


@dataclass(frozen=True)
class NavGroup:
    label: str
    items: tuple[NavItem, ...]


HQ = frozenset({Role.HQ_ADMIN})
COMMAND = frozenset({Role.DISPATCHER, Role.HQ_ADMIN})
REPORTERS = frozenset({Role.COLLECTOR, Role.STREET_CHIEF, Role.INSPECTOR, Role.DISPATCHER, Role.HQ_ADMIN})
DASHBOARD_ROLES = frozenset(DASHBOARD_ROLE_LIST)
SCREEN_ROLES = frozenset(SCREEN_ROLE_LIST)
OVERSIGHT = frozenset({Role.HQ_ADMIN, Role.DISPATCHER, Role.LEADER, Role.INSPECTOR})
APPEAL_STAFF = frozenset(STAFF_ROLES)
INDEX_OVERVIEW = frozenset({Role.HQ_ADMIN, Role.LEADER, Role.INSPECTOR})
TASK_ROLES = frozenset({Role.HQ_ADMIN, Role.LEADER, Role.INSPECTOR, Role.HANDLER, Role.REPORT_CLERK})
INSPECTION_ROLES = frozenset({Role.HQ_ADMIN, Role.INSPECTOR, Role.LEADER})
INSPECTION_LISTS = frozenset({Role.HQ_ADMIN, Role.INSPECTOR, Role.LEADER, Role.DISPATCHER, Role.HANDLER})
# Everyone with work on cases; volunteers have none (they report through the public pages).
CASE_READERS = frozenset(set(Role.values) - {Role.VOLUNTEER})
# Volunteer services: volunteers, team leaders and practice-station staff hold the volunteer role;
# what each may do there is volunteers.access's answer (manager, leader, member).
VOLUNTEER_ROLES = frozenset({Role.HQ_ADMIN, Role.VOLUNTEER})
# Street chiefs and grids: who patrols, who keeps a territorial unit's roster, who reads coverage.
PATROLLERS = frozenset({Role.COLLECTOR, Role.STREET_CHIEF})
STREET_STAFF = frozenset({Role.HQ_ADMIN, Role.HANDLER, Role.REPORT_CLERK})
STREET_FIGURES = frozenset(
    {Role.HQ_ADMIN, Role.DISPATCHER, Role.INSPECTOR, Role.LEADER, Role.HANDLER, Role.REPORT_CLERK}
)
# Roles whose scope holds regions and units (field roles and volunteers see none: org.scope).
ORG_READERS = frozenset(
    {Role.HQ_ADMIN, Role.DISPATCHER, Role.INSPECTOR, Role.HANDLER, Role.REPORT_CLERK, Role.LEADER}
)

MENU: tuple[NavGroup, ...] = (
    NavGroup(
        "案件",
        (
            NavItem("上报问题", "cases:report", REPORTERS),
            NavItem("受理派遣", "cases:dispatch_queue", COMMAND),
            NavItem("待办案件", "cases:unit_queue", frozenset({Role.HANDLER})),
            NavItem("核查结案", "cases:verify_queue", COMMAND),
            NavItem("延期审批", "cases:extensions", COMMAND),
            NavItem("案件查询", "cases:list", CASE_READERS),
            NavItem("月度汇总", "cases:summary", OVERSIGHT),
            NavItem("案件指标", "cases:metrics", OVERSIGHT),
        ),
    ),
    NavGroup(
        "诉求",
        (
            NavItem("群众诉求", "appeals:list", APPEAL_STAFF),
            NavItem("诉求化解率", "appeals:stats", APPEAL_STAFF),
        ),
    ),
    NavGroup(
        "任务",
        (
            NavItem("创建任务", "indicators:board", TASK_ROLES),
            NavItem("测评体系", "indicators:systems", INDEX_OVERVIEW),
            NavItem("五落实", "indicators:check", HQ),
            NavItem("任务矩阵", "indicators:matrix", INDEX_OVERVIEW),
        ),
    ),
    NavGroup(
        "网报资料",
        (
            NavItem("本月网报", "materials:mine", frozenset({Role.REPORT_CLERK})),
            NavItem("资料审核", "materials:review_queue", frozenset({Role.HQ_ADMIN, Role.INSPECTOR})),
            NavItem("月初安排", "materials:plan", HQ),
            NavItem("报送查询", "materials:submissions", ORG_READERS),
            NavItem("网报排名", "materials:ranking", INDEX_OVERVIEW),
            NavItem("红黄牌", "materials:cards", ORG_READERS),
        ),
    ),
    NavGroup(
        "督查",
        (
            NavItem("今日督查", "inspections:index", INSPECTION_ROLES),
            NavItem("计划轮次", "inspections:plan", HQ),
            NavItem("整改清单", "inspections:findings", INSPECTION_LISTS),
            NavItem("督查指标", "inspections:figures", INSPECTION_LISTS),
            NavItem("测评表", "inspections:checklists", HQ),
        ),
    ),
    NavGroup(
        "考评",
        (
            NavItem("考评批次", "assessment:runs", HQ),
            NavItem("考评方案", "assessment:schemes", HQ),
            NavItem("加减分", "assessment:bonuses", HQ),
            NavItem(
                "通报", "assessment:circulars", frozenset({Role.HQ_ADMIN, Role.HANDLER, Role.REPORT_CLERK})
            ),
            NavItem("本单位考评结果", "assessment:mine", frozenset({Role.HANDLER, Role.REPORT_CLERK})),
            NavItem("包保考评", "assessment:leader", frozenset({Role.LEADER})),
        ),
    ),
    NavGroup(
        "看板",
        (
            NavItem("数据看板", "dashboards:index", DASHBOARD_ROLES),
            NavItem("指挥大屏", "dashboards:screen", SCREEN_ROLES),
            NavItem("大屏令牌", "dashboards:displays", HQ),
        ),
    ),
    NavGroup(
        "街巷巡查",
        (
            NavItem("今日巡查", "streets:today", PATROLLERS),
            NavItem("现场核查", "streets:checks", PATROLLERS),
            NavItem("集中联合执法", "streets:joint_actions", PATROLLERS | STREET_FIGURES),
            NavItem("巡查排班", "streets:roster", STREET_STAFF),
            NavItem("巡查覆盖率", "streets:coverage", STREET_FIGURES),
            NavItem("巡查记录", "streets:patrols", PATROLLERS | STREET_FIGURES),
            NavItem("履职记录", "streets:log", PATROLLERS),
            NavItem("社区六必报", "streets:social", PATROLLERS | STREET_STAFF),
        ),
    ),
    NavGroup(
        "志愿服务",
        (
            NavItem("我的志愿服务", "volunteers:home", VOLUNTEER_ROLES),
            NavItem("志愿活动", "volunteers:activities", VOLUNTEER_ROLES),
            NavItem("服务订单", "volunteers:orders", VOLUNTEER_ROLES),
        ),
    ),
    NavGroup(
        "组织",
        (
            NavItem("组织架构", "org:regions", ORG_READERS),
            NavItem("单位", "org:units", ORG_READERS),
            NavItem("包保关系", "org:contracts", frozenset({Role.HQ_ADMIN, Role.LEADER})),
            NavItem("导入导出", "org:import", HQ),
            NavItem("工作日历", "workdays:calendar", HQ),
        ),
    ),
    NavGroup(
        "通知",
        (
            NavItem("我的通知", "notices:inbox"),
            NavItem("通知设置", "notices:preferences"),
            NavItem("投递记录", "notices:log", HQ),
            NavItem("群机器人", "notices:robots", HQ),
        ),
    ),
)

# Each role's first tasks on the home page, in this order.
ROLE_TASKS: dict[str, tuple[NavItem, ...]] = {
    Role.HQ_ADMIN: (
        NavItem("数据看板", "dashboards:index"),
        NavItem("指挥大屏", "dashboards:screen"),
        NavItem("案件月度汇总", "cases:summary"),
        NavItem("案件考核指标", "cases:metrics"),
        NavItem("考评批次", "assessment:runs"),
        NavItem("案件查询", "cases:list"),
        NavItem("诉求化解率", "appeals:stats"),
        NavItem("测评体系", "indicators:systems"),
        NavItem("督查轮次", "inspections:index"),
        NavItem("整改清单", "inspections:findings"),
        NavItem("五落实检查", "indicators:check"),
        NavItem("批量分解", "indicators:bulk_assign"),
        NavItem("任务矩阵", "indicators:matrix"),
        NavItem("网报月初安排", "materials:plan"),
        NavItem("网报排名", "materials:ranking"),
        NavItem("组织架构", "org:regions"),
        NavItem("导入导出", "org:import"),
        NavItem("工作日历", "workdays:calendar"),
        NavItem("通知投递记录", "notices:log"),
    ),
    Role.DISPATCHER: (
        NavItem("受理派遣", "cases:dispatch_queue"),
        NavItem("核查结案", "cases:verify_queue"),
        NavItem("延期审批", "cases:extensions"),
        NavItem("案件查询", "cases:list"),
        NavItem("坐席录入诉求", "appeals:new"),
        NavItem("群众诉求", "appeals:list"),
    ),
    Role.HANDLER: (
        NavItem("待办案件", "cases:unit_queue"),
        NavItem("整改清单", "inspections:findings"),
        NavItem("案件查询", "cases:list"),
        NavItem("我的创建任务", "indicators:board"),
    ),
    Role.COLLECTOR: (
        NavItem("今日巡查", "streets:today"),
        NavItem("上报问题", "cases:report"),
        NavItem("我上报的案件", "cases:list"),
    ),
    Role.STREET_CHIEF: (
        NavItem("今日巡查", "streets:today"),
        NavItem("上报问题", "cases:report"),
        NavItem("我上报的案件", "cases:list"),
    ),
    Role.INSPECTOR: (
        NavItem("今日督查", "inspections:index"),
        NavItem("整改清单", "inspections:findings"),
        NavItem("督查指标", "inspections:figures"),
        NavItem("上报问题", "cases:report"),
        NavItem("案件查询", "cases:list"),
        NavItem("案件考核指标", "cases:metrics"),
        NavItem("网报资料审核", "materials:review_queue"),
    ),
    Role.REPORT_CLERK: (
        NavItem("本月网报", "materials:mine"),
        NavItem("红黄牌", "materials:cards"),
        NavItem("我的创建任务", "indicators:board"),
    ),
    Role.VOLUNTEER: (
        NavItem("我的志愿服务", "volunteers:home"),
        NavItem("志愿活动", "volunteers:activities"),
        NavItem("我的积分", "volunteers:points"),
    ),
    Role.LEADER: (
        NavItem("数据看板", "dashboards:index"),
        NavItem("案件月度汇总", "cases:summary"),
        NavItem("案件查询", "cases:list"),
        NavItem("诉求化解率", "appeals:stats"),
        NavItem("包保任务", "indicators:board"),
        NavItem("督查与整改", "inspections:findings"),
        NavItem("任务矩阵", "indicators:matrix"),
        NavItem("我的包保", "org:contracts"),
        NavItem("包保考评", "assessment:leader"),
    ),
}


# The counts at the top of the home page, each from the app that owns the list it opens.
HOME_COUNTS = (
    case_counts.home_counts,
    task_counts.home_counts,
    material_counts.home_counts,
    inspection_counts.home_counts,
    volunteer_counts.home_counts,
)


def home_counts(user) -> list[Count]:
    return [count for provider in HOME_COUNTS for count in provider(user)]


def role_tasks(role: str) -> list[dict[str, str]]:
    return [{"label": i.label, "url": reverse(i.url_name)} for i in ROLE_TASKS.get(role, ())]


def groups_for(user, path: str = "") -> list[dict]:
    """The menu groups (with only the entries this person's roles use) for the signed-in person;
    the group holding the page at ``path`` is ``current`` (a phone shows it unfolded)."""
    if not user.is_authenticated:
        return []
    scope = scope_for(user)
    groups = []
    for group in MENU:
        items = [
            {"label": item.label, "url": reverse(item.url_name)}
            for item in group.items
            if item.roles is None or user.is_superuser or scope.has_role(*item.roles)
        ]
        if items:
            current = any(item["url"] == path for item in items)
            groups.append({"label": group.label, "items": items, "current": current})
    return groups


def items_for(user) -> list[dict[str, str]]:
    """The menu as one flat list, in order."""
    return [item for group in groups_for(user) for item in group["items"]]


def navigation(request):
    """Template context processor: the menu for the signed-in person."""
    user = getattr(request, "user", None)
    return {"nav_groups": groups_for(user, request.path) if user is not None else []}
