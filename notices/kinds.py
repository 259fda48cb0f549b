"""The events worth telling 通知事件: one entry per kind, with its Chinese message template.

A template is formatted with the context the caller gives ``notices.outbox.notify``; contexts
carry case numbers, categories, places, units and deadlines, never a citizen's name or phone.
``urgent`` kinds ignore quiet hours. Apps that add events add a kind here (this module imports
nothing of theirs).
"""

from dataclasses import dataclass

from django.db import models


class Kind(models.TextChoices):
    CASE_DISPATCHED = "case_dispatched", "新派案件"
    CASE_RETURNED = "case_returned", "案件退单"
    CASE_DUE_SOON = "case_due_soon", "案件即将到期"
    CASE_OVERDUE = "case_overdue", "案件超期"
    CASE_ESCALATED = "case_escalated", "超期升级"
    EXTENSION_DECIDED = "extension_decided", "延期审批结果"
    CASE_REWORK = "case_rework", "核查未通过返工"
    DEADLINES_BATCH = "deadlines_batch", "到期提醒汇总"
    DAILY_DIGEST = "daily_digest", "每日待办汇总"
    TASK_WARNING = "task_warning", "任务预警"
    TASK_REOPENED = "task_reopened", "任务重新打开"
    APPEAL_UNSATISFIED = "appeal_unsatisfied", "诉求评价不满意"
    MATERIAL_DUE = "material_due", "网报资料即将截止"
    MATERIAL_RETURNED = "material_returned", "网报资料退回"
    MATERIAL_CARD = "material_card", "红黄牌警示"
    INSPECTION_FINDING = "inspection_finding", "督查发现问题"
    CIRCULAR_ISSUED = "circular_issued", "考评通报"
    ORDER_ASSIGNED = "order_assigned", "志愿服务派单"
    ORDER_RATED_LOW = "order_rated_low", "志愿服务差评"
    SYSTEM = "system", "系统通知"


@dataclass(frozen=True)
class Template:
    title: str
    body: str
    urgent: bool = False


TEMPLATES: dict[str, Template] = {
    Kind.CASE_DISPATCHED: Template(
        "新派案件 {number}", "{unit}收到新案件 {number}（{category}，{place}），请于 {deadline} 前处置完毕。"
    ),
    Kind.CASE_RETURNED: Template(
        "案件退单 {number}", "{unit}退回案件 {number}（{category}，{place}），理由：{reason}。请重新派遣。"
    ),
    Kind.CASE_DUE_SOON: Template(
        "案件即将到期 {number}", "{unit}承办的案件 {number}（{category}，{place}）将于 {deadline} 到期。"
    ),
    Kind.CASE_OVERDUE: Template(
        "案件已超期 {number}",
        "{unit}承办的案件 {number}（{category}，{place}）已于 {deadline} 超期，请尽快处置。",
    ),
    Kind.CASE_ESCALATED: Template(
        "超期升级 {number}",
        "{unit}承办的案件 {number}（{category}，{place}）已超期 {days} 个工作日（时限 {deadline}），请督办。",
        urgent=True,
    ),
    Kind.EXTENSION_DECIDED: Template(
        "延期申请{decision} {number}",
        "{unit}对案件 {number} 申请延期 {amount}，审批结果：{decision}。当前时限 {deadline}。{note}",
    ),
    Kind.CASE_REWORK: Template(
        "核查未通过，请返工 {number}",
        "案件 {number}（{category}，{place}）核查未通过：{reason}。新的处置时限 {deadline}。",
    ),
    Kind.DEADLINES_BATCH: Template("{unit}有 {count} 件案件{what}", "{what}的案件：{numbers}。"),
    Kind.DAILY_DIGEST: Template(
        "{unit}今日待办：今日到期 {due_today} 件，已超期 {overdue} 件",
        "今日到期：{due_numbers}。\n已超期：{overdue_numbers}。",
    ),
    Kind.TASK_WARNING: Template(
        "任务{level} {task}", "{unit}牵头的任务“{task}”（时限 {deadline}）{level}：{label}。"
    ),
    Kind.TASK_REOPENED: Template(
        "任务重新打开 {task}", "{unit}牵头的任务“{task}”已重新打开（第 {count} 次），原因：{reason}。"
    ),
    Kind.APPEAL_UNSATISFIED: Template(
        "诉求评价不满意 {number}",
        "群众对案件 {number}（{category}，承办单位 {unit}）的办理结果评价不满意，请研判是否重新办理。",
    ),
    Kind.MATERIAL_DUE: Template(
        "网报资料将于 {due} 截止 {title}",
        "{unit}的网报资料“{title}”（{month}）将于 {due} 截止，当前状态：{state}。请尽快提交。",
    ),
    Kind.MATERIAL_RETURNED: Template(
        "网报资料被退回 {title}",
        "{unit}的网报资料“{title}”（{month}，第 {version} 版）被退回修改（第 {count} 次），理由：{reason}。",
    ),
    Kind.MATERIAL_CARD: Template(
        "{unit}被亮{color} {month}",
        "{unit}{month}网报资料被亮{color}：{reason}",
    ),
    Kind.INSPECTION_FINDING: Template(
        "{kind}发现问题 {site}",
        "{round}在{site}发现 {count} 个问题（扣 {deductions} 分），责任单位 {unit}，请于 {deadline} 前整改：{items}。",
    ),
    Kind.CIRCULAR_ISSUED: Template(
        "考评通报 {number}", "创文办印发通报 {number}《{title}》，{unit}在本期考评中被点名，请查阅。"
    ),
    Kind.ORDER_ASSIGNED: Template(
        "志愿服务派单 {service}",
        "{station}将“{service}”服务订单（期望 {wanted}）派给{team}，请于 {deadline} 前接单。",
    ),
    Kind.ORDER_RATED_LOW: Template(
        "志愿服务评价 {stars} 星 {service}",
        "{team}承接的“{service}”服务订单（{station}）被群众评为 {stars} 星，请回访了解情况。",
    ),
    Kind.SYSTEM: Template("{title}", "{body}"),
}


def template(kind: str) -> Template:
    return TEMPLATES[kind]
