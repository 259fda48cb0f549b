"""What inspections tell, and whom (through ``notices.outbox``): the findings 督查问题 of an
inspection go to the site's responsible unit (its handlers and group robots) and to the leader
contracting the site 包保领导, where one exists, with the number of findings, the lines failed and
the rectification deadline.

When: at ``submit_inspection`` for 晨查, 督查 and 复查; for an 暗访 only when HQ publishes the round
(``publish_round``), since the inspected must not learn of an unannounced visit before. Each
person is checked against the inspection's visibility (``Inspection.objects.visible_to``), so
nobody outside the record's scope is told.
"""

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from notices import recipients
from notices.kinds import Kind
from notices.outbox import notify
from org.models import Role, User

from .models import Inspection, Round

UNIT_PEOPLE = (Role.HANDLER,)


def notify_findings(inspection: Inspection) -> None:
    """Called in the step's transaction; nothing for an inspection without findings or one of an
    unpublished 暗访."""
    round_ = inspection.round
    if round_.is_hidden:
        return
    findings = list(inspection.findings.select_related("item").order_by("pk"))
    if not findings:
        return
    unit = inspection.responsible_unit
    people: list[User | None] = []
    if unit is not None:
        people += recipients.members([unit.pk], *UNIT_PEOPLE).get(unit.pk, [])
    people.append(inspection.responsible_leader)
    visible = [
        u
        for u in dict.fromkeys(people)
        if u is not None and Inspection.objects.visible_to(u).filter(pk=inspection.pk).exists()
    ]
    deductions = inspection.findings.aggregate(total=Sum("deduction"))["total"]
    notify(
        Kind.INSPECTION_FINDING,
        visible,
        {
            "kind": round_.get_kind_display(),
            "round": round_.title[:40],
            "site": inspection.site.name,
            "count": len(findings),
            "deductions": format(deductions.normalize(), "f") if deductions is not None else 0,
            "unit": (unit.short_name or unit.name) if unit else "未定",
            "deadline": timezone.localtime(findings[0].deadline).strftime("%m月%d日 %H:%M"),
            "items": "、".join(f.item.text[:30] for f in findings[:10]),
        },
        reverse("inspections:inspection", args=[inspection.pk]),
        f"inspection:{inspection.pk}:findings",
        units=[unit] if unit else [],
    )


def notify_published(round_: Round) -> None:
    """An 暗访 published: each of its inspections' findings are told now."""
    for inspection in round_.inspections.select_related(
        "round", "site", "responsible_unit", "responsible_leader"
    ):
        notify_findings(inspection)
