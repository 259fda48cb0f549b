"""The shapes of the cases API 案件接口 (django-ninja schemas): what it answers and what it takes.

The detail's related rows come prefetched by the API (``_with_related``) or filled in by the
report itself; the steps a caller may take and the duplicates shown come from the services.
"""

import datetime as dt
from decimal import Decimal

from django.core.files.storage import default_storage
from ninja import Field, Schema

from . import duplicates, services
from .models import Case, CaseEvent, CasePart, CasePhoto, ExtensionRequest, FieldCheck
from .routing import suggest_unit


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    major_code: str
    major_name: str
    time_limit_days: int
    time_limit_hours: int | None
    default_unit_kind: str


class CaseOut(Schema):
    id: int
    number: str
    status: str
    status_label: str = Field(alias="get_status_display")
    source: str
    category_id: int
    category_name: str = Field(alias="category.name")
    description: str
    address: str
    lat: Decimal
    lng: Decimal
    region_id: int | None
    grid_id: int | None
    urgent: bool
    lead_unit_id: int | None
    reported_at: dt.datetime
    accepted_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    due_at: dt.datetime | None
    handle_deadline: dt.datetime | None
    close_deadline: dt.datetime | None
    rework_count: int
    return_count: int
    extension_count: int
    overdue: bool

    @staticmethod
    def resolve_overdue(obj: Case) -> bool:
        return obj.is_overdue()


class PartOut(Schema):
    id: int
    unit_id: int
    unit_name: str = Field(alias="unit.name")
    is_lead: bool
    status: str
    deadline: dt.datetime
    dispatched_at: dt.datetime
    started_at: dt.datetime | None
    handled_at: dt.datetime | None
    extension_days: int
    extension_hours: int


class EventOut(Schema):
    id: int
    action: str
    action_label: str = Field(alias="get_action_display")
    at: dt.datetime
    actor_name: str | None
    actor_role: str
    actor_unit_id: int | None
    part_id: int | None
    reason: str
    via: str
    data: dict

    @staticmethod
    def resolve_actor_name(obj: CaseEvent) -> str | None:
        return str(obj.actor) if obj.actor_id else None


class PhotoOut(Schema):
    id: int
    kind: str
    image_url: str
    thumbnail_url: str
    width: int
    height: int
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_image_url(obj: CasePhoto) -> str:
        return default_storage.url(obj.image.name)

    @staticmethod
    def resolve_thumbnail_url(obj: CasePhoto) -> str:
        return default_storage.url(obj.thumbnail.name)


class ExtensionOut(Schema):
    id: int
    part_id: int
    days: int
    hours: int
    reason: str
    status: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


class FieldCheckOut(Schema):
    """现场核查: the task of one round of handling and its outcome."""

    id: int
    round: int
    verifier_id: int
    verifier_name: str
    status: str
    assigned_at: dt.datetime
    checked_at: dt.datetime | None
    lat: Decimal | None
    lng: Decimal | None
    distance_m: float | None
    note: str

    @staticmethod
    def resolve_verifier_name(obj: FieldCheck) -> str:
        return str(obj.verifier)


class FieldCheckIn(Schema):
    passed: bool
    lat: Decimal
    lng: Decimal
    note: str = ""


class CaseDetailOut(CaseOut):
    """The detail: the case, its parts, timeline, photos, extension requests, the steps the caller
    may take, duplicates to merge into (reported cases) and the routing suggestion (to dispatch)."""

    reporter_unit_id: int | None
    merged_into_id: int | None
    dispatch_deadline: dt.datetime | None
    verify_deadline: dt.datetime | None
    verified_at: dt.datetime | None
    parts: list[PartOut]
    events: list[EventOut]
    photos: list[PhotoOut]
    extensions: list[ExtensionOut]
    field_checks: list[FieldCheckOut]
    allowed_actions: list[str]
    duplicates: list[CaseOut]
    suggested_unit_id: int | None

    # The related rows come prefetched (``_with_related``), or filled in by the report itself.

    @staticmethod
    def resolve_parts(obj: Case) -> list[CasePart]:
        return list(obj.parts.all())

    @staticmethod
    def resolve_events(obj: Case) -> list[CaseEvent]:
        return list(obj.events.all())

    @staticmethod
    def resolve_photos(obj: Case) -> list[CasePhoto]:
        return list(obj.photos.all())

    @staticmethod
    def resolve_field_checks(obj: Case) -> list[FieldCheck]:
        return list(obj.field_checks.all())

    @staticmethod
    def resolve_extensions(obj: Case) -> list[ExtensionRequest]:
        requests = [r for p in obj.parts.all() for r in p.extension_requests.all()]
        return sorted(requests, key=lambda r: (r.requested_at, r.pk))

    @staticmethod
    def resolve_allowed_actions(obj: Case, context) -> list[str]:
        return services.allowed_actions(context["request"].user, obj)

    @staticmethod
    def resolve_duplicates(obj: Case, context) -> list[Case]:
        if obj.status != Case.Status.REPORTED:
            return []
        user = context["request"].user
        reported = getattr(obj, "reported", None)  # just reported: the report looked already
        if reported is not None:
            return duplicates.visible(user, reported.duplicates)
        # The report event (where the report's look-up is kept) is among the timeline's rows.
        return services.suggestions_for(user, [obj], list(obj.events.all()))[obj.pk]

    @staticmethod
    def resolve_suggested_unit_id(obj: Case) -> int | None:
        if obj.status not in (Case.Status.ACCEPTED, Case.Status.RETURNED):
            return None
        unit = suggest_unit(obj.category, obj.region, obj.grid)
        return unit.pk if unit else None


class ReportIn(Schema):
    category_id: int
    description: str
    lat: Decimal
    lng: Decimal
    address: str = ""
    urgent: bool = False


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class ReclassifyIn(Schema):
    category_id: int
    reason: str = ""


class MergeIn(Schema):
    into_id: int
    reason: str = ""


class DispatchIn(Schema):
    lead_unit_id: int
    co_unit_ids: list[int] = []
    note: str = ""


class PartReasonIn(Schema):
    reason: str = ""
    part_id: int | None = None


class PartIn(Schema):
    part_id: int | None = None


class ExtensionIn(Schema):
    """``days`` (working days) or ``hours`` (an urgent part: clock hours; the working-hours clock:
    working hours), one of the two."""

    days: int = 0
    hours: int = 0
    reason: str = ""
    part_id: int | None = None


class DecideIn(Schema):
    approve: bool
    note: str = ""


class HandleIn(Schema):
    note: str = ""
    part_id: int | None = None


class CaseFilterQuery(Schema):
    """The list's filters, as the list page, export and map take them: ``cases.filtersets``
    validates and applies them (text here, so that one place reads them)."""

    q: str | None = Field(None, description="case number (prefix), address or description")
    status: list[str] = Field(default_factory=list, description="one or several states")
    state: str | None = Field(None, description="open, overdue, due_soon or reworked")
    due_soon_hours: str | None = Field(
        None,
        description="with state=due_soon: working hours (工作时) left (1..744, default: WORKDAY_DUE_SOON_HOURS)",
    )
    unit: str | None = Field(None, description="unit id: the cases it leads or holds a part of")
    region: str | None = Field(None, description="region id: its subtree")
    category: str | None = Field(None, description="category id")
    major: str | None = Field(None, description="major category, component:CODE or event:CODE")
    date_field: str | None = Field(None, description="reported (default), accepted, handled or closed")
    start: str | None = Field(None, description="first day (YYYY-MM-DD, included)")
    end: str | None = Field(None, description="last day (YYYY-MM-DD, included)")
    month: str | None = Field(None, description="YYYY-MM: with summary or metric, the figure's month")
    at: str | None = Field(
        None, description="ISO moment the figure is counted at (default: month end or now)"
    )
    summary: str | None = Field(None, description="a monthly-summary figure: the cases behind it")
    metric: str | None = Field(None, description="a metric key: the cases behind it")
    side: str | None = Field(None, description="numerator (default) or denominator")


class SuggestionOut(Schema):
    unit_id: int | None
    unit_name: str | None
    region_id: int | None
    grid_id: int | None


class FigureOut(Schema):
    key: str
    label: str
    numerator: int
    denominator: int
    rate: float | None
    percent: float | None


class MetricsOut(Schema):
    start: dt.datetime
    end: dt.datetime
    at: dt.datetime
    figures: list[FigureOut]


class MetricsQuery(Schema):
    start: dt.date | None = None
    end: dt.date | None = Field(None, description="the last day of the period (included)")
    month: str | None = Field(None, description="YYYY-MM; the default is the current month")
    at: dt.datetime | None = None
    unit_id: int | None = None
    region_id: int | None = None
    category_id: int | None = None
