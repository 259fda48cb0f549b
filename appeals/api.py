"""JSON API for appeals under /api/v1/appeals/ (staff only; citizens use the public pages and Open311).

Contact details are always masked here; a dispatcher reads them in full from ``/{id}/contact``,
and every such read is logged."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from cases.models import Case, Category
from org.audit import Actor
from org.models import Role
from org.scope import require_role
from workdays.periods import days

from . import metrics
from .models import Appeal
from .privacy import STAFF_ROLES
from .progress import Progress, progress
from .services import (
    classify_appeal,
    rate_appeal,
    read_contact,
    record_follow_up,
    review_unsatisfied,
    submit_appeal,
)

router = Router(tags=["群众诉求 appeals"])


class AppealOut(Schema):
    id: int
    code: str
    case_id: int
    case_number: str = Field(alias="case.number")
    case_status: str = Field(alias="case.status")
    stage: str
    channel: str
    received_at: dt.datetime
    category_id: int = Field(alias="case.category_id")
    category_unsure: bool
    lead_unit: str | None
    deadline: dt.datetime | None
    phone: str = Field(alias="masked_phone")
    name: str = Field(alias="masked_name")
    rating: str
    rating_comment: str
    review: str
    reopen_count: int
    needs_follow_up: bool
    followed_up_at: dt.datetime | None

    @staticmethod
    def resolve_stage(obj: Appeal) -> str:
        return _progress(obj).status_notes

    @staticmethod
    def resolve_lead_unit(obj: Appeal) -> str | None:
        return obj.case.lead_unit.name if obj.case.lead_unit is not None else None

    @staticmethod
    def resolve_deadline(obj: Appeal) -> dt.datetime | None:
        return _progress(obj).deadline


def _progress(appeal: Appeal) -> Progress:
    """The citizen's view of the appeal's case, computed once per appeal and response."""
    if not hasattr(appeal, "_progress"):
        appeal._progress = progress(appeal.case)  # type: ignore[attr-defined]
    return appeal._progress  # type: ignore[attr-defined]


class AppealContactOut(Schema):
    phone: str
    name: str


class AppealIn(Schema):
    channel: str = Appeal.Channel.HOTLINE
    category_id: int | None = None
    description: str
    phone: str
    name: str = ""
    lat: float | None = None
    lng: float | None = None
    address: str = ""


class AppealNoteIn(Schema):
    note: str


class ClassifyIn(Schema):
    category_id: int


class RatingIn(Schema):
    rating: str
    comment: str = ""


class AppealReviewIn(Schema):
    reopen: bool
    note: str = ""


class AppealRowOut(Schema):
    key: str | None
    label: str
    received: int
    closed: int
    resolved: int
    satisfied: int
    basic: int
    unsatisfied: int
    unrated: int
    reopened: int
    rate: float | None


class StatsOut(Schema):
    start: dt.date
    end: dt.date
    by: str | None
    total: AppealRowOut
    rows: list[AppealRowOut]


def _visible(request):
    require_role(request.user, *STAFF_ROLES)
    return (
        Appeal.objects.filter(case__in=Case.objects.visible_to(request.user))
        .select_related("case__category", "case__lead_unit")
        .prefetch_related("case__photos")
    )


def _get(request, appeal_id: int) -> Appeal:
    return get_object_or_404(_visible(request), pk=appeal_id)


@router.get("/", response=list[AppealOut])
@paginate
def list_appeals(
    request,
    channel: str | None = None,
    status: str | None = None,
    rating: str | None = None,
    review: str | None = None,
):
    qs = _visible(request)
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(case__status=status)
    if rating:
        qs = qs.filter(rating=rating)
    if review:
        qs = qs.filter(review=review)
    return qs


@router.post("/", response={201: AppealOut})
def create_appeal(request, payload: AppealIn):
    """坐席录入: a dispatcher enters an appeal that came by hotline, mail, visit or another channel."""
    category = (
        get_object_or_404(Category, pk=payload.category_id, active=True) if payload.category_id else None
    )
    appeal = submit_appeal(
        Actor.from_request(request, via="api"),
        channel=payload.channel,
        category=category,
        description=payload.description,
        phone=payload.phone,
        name=payload.name,
        lat=payload.lat,
        lng=payload.lng,
        address=payload.address,
    )
    return Status(201, appeal)


@router.get("/stats", response=StatsOut)
def stats(request, start: dt.date, end: dt.date, by: str | None = None):
    """诉求化解率 over [start, end] (dates, both included), optionally by unit, area, category or channel."""
    if by and by not in metrics.DIMENSIONS:
        raise ValidationError(f"by 只能是 {', '.join(metrics.DIMENSIONS)}")
    begin, finish = days(start, end)
    total, rows = metrics.resolution(_visible(request), begin, finish, by=by)
    return {
        "start": start,
        "end": end,
        "by": by,
        "total": total.as_dict(),
        "rows": [r.as_dict() for r in rows],
    }


@router.get("/{appeal_id}", response=AppealOut)
def get_appeal(request, appeal_id: int):
    return _get(request, appeal_id)


@router.get("/{appeal_id}/contact", response=AppealContactOut)
def get_contact(request, appeal_id: int):
    """The citizen's phone and name in full, for the call-back. Dispatchers only; logged."""
    return read_contact(Actor.from_request(request, via="api"), _get(request, appeal_id))


@router.post("/{appeal_id}/classify", response=AppealOut)
def classify(request, appeal_id: int, payload: ClassifyIn):
    category = get_object_or_404(Category, pk=payload.category_id)
    return classify_appeal(Actor.from_request(request, via="api"), _get(request, appeal_id), category)


@router.post("/{appeal_id}/follow-up", response=AppealOut)
def follow_up(request, appeal_id: int, payload: AppealNoteIn):
    return record_follow_up(Actor.from_request(request, via="api"), _get(request, appeal_id), payload.note)


@router.post("/{appeal_id}/rating", response=AppealOut)
def phone_rating(request, appeal_id: int, payload: RatingIn):
    """A rating the citizen gave on the phone, recorded by a dispatcher."""
    require_role(request.user, Role.DISPATCHER)
    return rate_appeal(
        Actor.from_request(request, via="api"), _get(request, appeal_id), payload.rating, payload.comment
    )


@router.post("/{appeal_id}/review", response=AppealOut)
def review(request, appeal_id: int, payload: AppealReviewIn):
    return review_unsatisfied(
        Actor.from_request(request, via="api"), _get(request, appeal_id), payload.reopen, payload.note
    )
