"""What a citizen (and an Open311 client) is told about a case: the stage in plain words, the
unit handling it, the deadline and the after-photos. Never who reported it."""

import datetime as dt
from dataclasses import dataclass, field

from cases.models import Case, CaseEvent, CasePhoto
from cases.services import handle_deadline

# Open311 knows two statuses; the detailed stage goes to status_notes.
CLOSED_STATUSES = (Case.Status.CLOSED, Case.Status.REJECTED, Case.Status.MERGED)

PLAIN_STAGES = {
    Case.Status.REPORTED: "已收到，等待受理",
    Case.Status.ACCEPTED: "已受理，正在安排责任单位",
    Case.Status.DISPATCHED: "已交由责任单位办理",
    Case.Status.RETURNED: "正在重新安排责任单位",
    Case.Status.HANDLING: "责任单位正在处理",
    Case.Status.HANDLED: "已处理完毕，正在核查",
    Case.Status.CLOSED: "已办结",
    Case.Status.REJECTED: "未予受理",
    Case.Status.MERGED: "已与同一问题的其他反映合并办理",
}
# The steps a citizen sees on the tracking page, in order.
STEPS = ("已收到", "已受理", "办理中", "已处理", "已办结")
STEP_OF_STATUS = {
    Case.Status.REPORTED: 0,
    Case.Status.ACCEPTED: 1,
    Case.Status.RETURNED: 1,
    Case.Status.DISPATCHED: 2,
    Case.Status.HANDLING: 2,
    Case.Status.HANDLED: 3,
    Case.Status.CLOSED: 4,
}


@dataclass
class Progress:
    case: Case
    stage: str
    note: str = ""
    unit: str | None = None
    deadline: dt.datetime | None = None
    overdue: bool = False
    # Open311's "closed": closed, refused, or merged into another case (a duplicate).
    closed: bool = False
    updated: dt.datetime | None = None
    step: int | None = None
    after_photos: list[CasePhoto] = field(default_factory=list)
    before_photos: list[CasePhoto] = field(default_factory=list)

    @property
    def status_notes(self) -> str:
        return f"{self.stage}：{self.note}" if self.note else self.stage


# Lists prefetch a case's refusal events, newest first, under this name (one query per list).
REJECT_EVENTS = "reject_events"


def _last_reason(case: Case, action: str) -> str:
    prefetched = getattr(case, REJECT_EVENTS, None) if action == CaseEvent.Action.REJECT else None
    if prefetched is not None:
        return prefetched[0].reason if prefetched else ""
    event = case.events.filter(action=action).order_by("-at", "-id").first()
    return event.reason if event is not None else ""


def expected(case: Case) -> dt.datetime | None:
    """When the work should be done: the handling deadline, or before dispatch an estimate from
    the dispatch deadline and the category's time limit. None when the report was refused."""
    if case.status in (Case.Status.REJECTED, Case.Status.MERGED):
        return None
    if case.handle_deadline is not None:
        return case.handle_deadline
    return handle_deadline(case, case.dispatch_deadline or case.reported_at).at


def progress(case: Case) -> Progress:
    """The citizen's view of ``case``; a merged case is followed into the case it joined."""
    own = case
    note = ""
    if case.status == Case.Status.MERGED and case.merged_into_id is not None:
        target = case.merged_into if Case._meta.get_field("merged_into").is_cached(case) else None
        # A list's select_related brought the target along; otherwise it is read now.
        case = target or Case.objects.select_related("lead_unit", "category").get(pk=case.merged_into_id)
        note = f"并入案件 {case.number}，当前{PLAIN_STAGES[Case.Status(case.status)]}"
    elif case.status == Case.Status.REJECTED:
        note = _last_reason(case, CaseEvent.Action.REJECT)
    status = Case.Status(case.status)
    photos = list(case.photos.all())  # prefetched by lists (``prefetch_related("case__photos")``)
    return Progress(
        case=case,
        stage=PLAIN_STAGES[Case.Status(own.status)],
        note=note,
        unit=case.lead_unit.name if case.lead_unit_id and case.lead_unit else None,
        deadline=expected(case),
        overdue=case.is_overdue(),
        closed=own.status in CLOSED_STATUSES,
        updated=(own.closed_at or own.ended_at) if own.status in CLOSED_STATUSES else own.updated_at,
        step=STEP_OF_STATUS.get(status),
        after_photos=[p for p in photos if p.kind == CasePhoto.Kind.AFTER],
        before_photos=[p for p in photos if p.kind == CasePhoto.Kind.BEFORE],
    )
