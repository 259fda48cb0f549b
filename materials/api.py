"""JSON API of report materials, under /api/v1/materials/. Every step calls the same service as
the pages; refusals come back as {"detail": "..."} (403, 400, 409, 404)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from indicators.models import Criterion
from org.audit import Actor, record
from org.models import Unit, User

from . import figures, package, services
from .filtersets import CardFilter, SubmissionFilter, parse_month
from .models import Card, MaterialFile, Requirement, Submission

router = Router(tags=["网报资料 materials"])


def _actor(request) -> Actor:
    return Actor.from_request(request, via="api")


def _month(value: str | None) -> dt.date:
    if not value:
        return services.month_start(timezone.localdate())
    month = parse_month(value)
    if month is None:
        raise ValidationError({"month": "月份格式应为 YYYY-MM"})
    return month


def _filtered(filterset):
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


# -- schemas -------------------------------------------------------------------------------------


class RequirementOut(Schema):
    id: int
    month: dt.date
    criterion_id: int | None
    criterion_text: str
    title: str
    description: str
    needs_text: bool
    min_photos: int
    document_types: list[str]
    points: Decimal
    due_date: dt.date
    reviewer_id: int
    unit_ids: list[int]
    template_url: str | None


class RequirementIn(Schema):
    month: str
    title: str
    points: Decimal
    reviewer_id: int
    unit_ids: list[int]
    description: str = ""
    needs_text: bool = True
    min_photos: int = 0
    document_types: list[str] = []
    due_date: dt.date | None = None
    criterion_id: int | None = None


class GenerateIn(Schema):
    month: str
    unit_ids: list[int]
    reviewer_id: int
    due_date: dt.date | None = None


class MonthIn(Schema):
    month: str


class FileOut(Schema):
    id: int
    kind: str
    name: str
    content_type: str
    size: int
    url: str
    thumbnail_url: str | None


class SubmissionOut(Schema):
    id: int
    requirement_id: int
    title: str
    month: dt.date
    due_date: dt.date
    points: Decimal
    unit_id: int
    unit_name: str
    state: str
    state_label: str
    text: str
    version: int
    submitted_at: dt.datetime | None
    is_late: bool
    return_count: int
    score: Decimal | None
    review_comment: str
    missing: list[str]
    days_left: int
    actions: list[str]


class SubmissionEventOut(Schema):
    kind: str
    version: int
    at: dt.datetime
    actor_id: int | None
    via: str
    note: str


class SubmissionDetailOut(SubmissionOut):
    criterion_text: str
    files: list[FileOut]
    events: list[SubmissionEventOut]


class TextIn(Schema):
    text: str


class ScoreIn(Schema):
    score: Decimal
    comment: str = ""
    version: int


class ReturnIn(Schema):
    reason: str
    version: int


class CardOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    month: dt.date
    color: str
    rules: list[str]
    reason: str
    is_automatic: bool
    submission_ids: list[int]
    issued_by_id: int | None
    issued_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str


class CardIn(Schema):
    unit_id: int
    month: str
    color: str
    reason: str
    submission_ids: list[int] = []


class RevokeIn(Schema):
    reason: str


class MaterialRankOut(Schema):
    key: int
    name: str
    rank: int
    percent: Decimal | None
    score: Decimal
    points: Decimal
    assigned: int
    on_time_percent: Decimal | None
    return_percent: Decimal | None
    yellow: int
    red: int


# -- helpers -------------------------------------------------------------------------------------


def _requirement_out(req: Requirement) -> dict[str, Any]:
    return {
        "id": req.pk,
        "month": req.month,
        "criterion_id": req.criterion_id,
        "criterion_text": req.criterion.text if req.criterion else "",
        "title": req.title,
        "description": req.description,
        "needs_text": req.needs_text,
        "min_photos": req.min_photos,
        "document_types": req.document_type_list,
        "points": req.points,
        "due_date": req.due_date,
        "reviewer_id": req.reviewer_id,
        "unit_ids": sorted(s.unit_id for s in req.submissions.all()),
        "template_url": reverse("materials:template", args=[req.pk]) if req.template else None,
    }


def _file_out(item: MaterialFile) -> dict[str, Any]:
    return {
        "id": item.pk,
        "kind": item.kind,
        "name": item.name,
        "content_type": item.content_type,
        "size": item.size,
        "url": reverse("api-v1:materials_file", args=[item.pk]),
        "thumbnail_url": reverse("materials:thumb", args=[item.pk]) if item.thumbnail else None,
    }


def _submission_out(request, sub: Submission) -> dict[str, Any]:
    return {
        "id": sub.pk,
        "requirement_id": sub.requirement_id,
        "title": sub.requirement.title,
        "month": sub.requirement.month,
        "due_date": sub.requirement.due_date,
        "points": sub.requirement.points,
        "unit_id": sub.unit_id,
        "unit_name": sub.unit.name,
        "state": sub.state,
        "state_label": sub.get_state_display(),
        "text": sub.text,
        "version": sub.version,
        "submitted_at": sub.submitted_at,
        "is_late": sub.is_late,
        "return_count": sub.return_count,
        "score": sub.score,
        "review_comment": sub.review_comment,
        "missing": services.missing(sub) if sub.is_open else [],
        "days_left": services.days_left(sub),
        "actions": services.allowed_actions(request.user, sub),
    }


def _visible(request, pk: int) -> Submission:
    qs = services.visible_submissions(request.user).select_related("requirement__criterion", "unit")
    return get_object_or_404(qs.prefetch_related("files"), pk=pk)


def _detail(request, pk: int) -> dict[str, Any]:
    sub = _visible(request, pk)
    out = _submission_out(request, sub)
    out["criterion_text"] = sub.requirement.criterion.text if sub.requirement.criterion else ""
    out["files"] = [_file_out(f) for f in sub.files.all()]
    out["events"] = [
        {
            "kind": e.kind,
            "version": e.version,
            "at": e.at,
            "actor_id": e.actor_id,
            "via": e.via,
            "note": e.note,
        }
        for e in sub.events.all()
    ]
    return out


def _card_out(card: Card) -> dict[str, Any]:
    return {
        "id": card.pk,
        "unit_id": card.unit_id,
        "unit_name": card.unit.name,
        "month": card.month,
        "color": card.color,
        "rules": card.rules,
        "reason": card.reason,
        "is_automatic": card.is_automatic,
        "submission_ids": [s.pk for s in card.submissions.all()],
        "issued_by_id": card.issued_by_id,
        "issued_at": card.issued_at,
        "revoked_at": card.revoked_at,
        "revoke_reason": card.revoke_reason,
    }


def _pick(model, pk: int | None, label: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError({label: "不存在"})
    return found


def _units(ids: list[int]) -> list[Unit]:
    units = list(Unit.objects.filter(pk__in=ids))
    if len(units) != len(set(ids)):
        raise ValidationError({"unit_ids": "有单位不存在"})
    return units


def _spec(data: RequirementIn) -> services.Spec:
    return services.Spec(
        title=data.title,
        points=data.points,
        reviewer=_pick(User, data.reviewer_id, "reviewer_id"),
        description=data.description,
        needs_text=data.needs_text,
        min_photos=data.min_photos,
        document_types=data.document_types,
        due_date=data.due_date,
        criterion=_pick(Criterion, data.criterion_id, "criterion_id"),
    )


# -- requirements (HQ) ---------------------------------------------------------------------------


@router.get("/requirements", response=list[RequirementOut])
def list_requirements(request, month: str | None = None):
    qs = services.visible_requirements(request.user).filter(month=_month(month))
    return [_requirement_out(r) for r in qs.select_related("criterion").prefetch_related("submissions")]


@router.post("/requirements", response={201: RequirementOut})
def create_requirement(request, data: RequirementIn):
    req = services.create_requirement(_actor(request), _month(data.month), _spec(data), _units(data.unit_ids))
    return Status(201, _requirement_out(req))


@router.put("/requirements/{int:requirement_id}", response=RequirementOut)
def update_requirement(request, requirement_id: int, data: RequirementIn):
    services.check_plan(request.user)
    req = get_object_or_404(Requirement, pk=requirement_id)
    req = services.update_requirement(_actor(request), req, _spec(data), _units(data.unit_ids))
    return _requirement_out(req)


@router.post("/requirements/generate", response={201: list[RequirementOut]})
def generate(request, data: GenerateIn):
    reviewer = _pick(User, data.reviewer_id, "reviewer_id")
    made = services.generate_month(
        _actor(request), _month(data.month), _units(data.unit_ids), reviewer, data.due_date
    )
    return Status(201, [_requirement_out(r) for r in made])


@router.post("/requirements/copy-previous", response={201: list[RequirementOut]})
def copy_previous(request, data: MonthIn):
    made = services.copy_previous_month(_actor(request), _month(data.month))
    return Status(201, [_requirement_out(r) for r in made])


# -- submissions ---------------------------------------------------------------------------------


@router.get("/submissions", response=list[SubmissionOut])
@paginate
def list_submissions(request):
    """The caller's visible submissions, filtered as the list page is (month=YYYY-MM, unit,
    region, state, late, returned, reviewer, requirement, q)."""
    qs = (
        services.visible_submissions(request.user)
        .select_related("requirement", "unit")
        .prefetch_related("files")
    )
    rows = _filtered(SubmissionFilter(request.GET, queryset=qs.order_by("requirement__due_date", "pk")))
    return [_submission_out(request, s) for s in rows]


@router.get("/review-queue", response=list[SubmissionOut])
def review_queue(request):
    """Waiting for the caller's review, earliest due date first."""
    qs = (
        Submission.objects.filter(requirement__reviewer=request.user, state=Submission.State.SUBMITTED)
        .select_related("requirement", "unit")
        .prefetch_related("files")
        .order_by("requirement__due_date", "submitted_at")
    )
    return [_submission_out(request, s) for s in qs]


@router.get("/submissions/{int:submission_id}", response=SubmissionDetailOut)
def get_submission(request, submission_id: int):
    return _detail(request, submission_id)


@router.put("/submissions/{int:submission_id}/text", response=SubmissionDetailOut)
def save_draft(request, submission_id: int, data: TextIn):
    services.save_draft(_actor(request), _visible(request, submission_id), data.text)
    return _detail(request, submission_id)


@router.post("/submissions/{int:submission_id}/files", response={201: list[FileOut]})
def add_files(request, submission_id: int, files: File[list[UploadedFile]]):
    stored = services.add_files(_actor(request), _visible(request, submission_id), files)
    return Status(201, [_file_out(f) for f in stored])


@router.delete("/files/{int:file_id}", response={204: None})
def remove_file(request, file_id: int):
    item = get_object_or_404(
        MaterialFile.objects.filter(submission__in=services.visible_submissions(request.user)), pk=file_id
    )
    services.remove_file(_actor(request), item)
    return Status(204, None)


@router.get("/files/{int:file_id}", url_name="materials_file")
def get_file(request, file_id: int):
    item = get_object_or_404(
        MaterialFile.objects.filter(submission__in=services.visible_submissions(request.user)), pk=file_id
    )
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, filename=item.name, content_type=item.content_type)


@router.post("/submissions/{int:submission_id}/submit", response=SubmissionDetailOut)
def submit(request, submission_id: int):
    services.submit(_actor(request), _visible(request, submission_id))
    return _detail(request, submission_id)


@router.post("/submissions/{int:submission_id}/score", response=SubmissionDetailOut)
def score(request, submission_id: int, data: ScoreIn):
    services.score_submission(
        _actor(request), _visible(request, submission_id), data.score, data.comment, version=data.version
    )
    return _detail(request, submission_id)


@router.post("/submissions/{int:submission_id}/return", response=SubmissionDetailOut)
def return_submission(request, submission_id: int, data: ReturnIn):
    services.return_submission(
        _actor(request), _visible(request, submission_id), data.reason, version=data.version
    )
    return _detail(request, submission_id)


# -- cards, ranking, package ---------------------------------------------------------------------


@router.get("/cards", response=list[CardOut])
@paginate
def list_cards(request):
    qs = services.visible_cards(request.user).select_related("unit").prefetch_related("submissions")
    return [_card_out(c) for c in _filtered(CardFilter(request.GET, queryset=qs))]


@router.post("/cards", response={201: CardOut})
def issue_card(request, data: CardIn):
    services.check_cards(request.user)
    unit = _pick(Unit, data.unit_id, "unit_id")
    subs = Submission.objects.filter(pk__in=data.submission_ids).select_related("requirement")
    card = services.issue_card(_actor(request), unit, _month(data.month), data.color, data.reason, subs)
    return Status(201, _card_out(card))


@router.post("/cards/monthly", response={201: list[CardOut]})
def issue_monthly(request, data: MonthIn):
    issued = services.issue_monthly_cards(_actor(request), _month(data.month))
    return Status(201, [_card_out(c) for c in issued])


@router.post("/cards/{int:card_id}/revoke", response=CardOut)
def revoke_card(request, card_id: int, data: RevokeIn):
    card = get_object_or_404(services.visible_cards(request.user), pk=card_id)
    return _card_out(services.revoke_card(_actor(request), card, data.reason))


@router.get("/ranking", response=list[MaterialRankOut])
def ranking(request, month: str | None = None, level: str = "unit"):
    """Score rate per unit (or street, level=street), ranked 1, 2, 2, 4 on ties."""
    scope = services.check_figures(request.user)
    if level not in figures.LEVELS:
        raise ValidationError({"level": "应为 unit 或 street"})
    rows = figures.monthly(_month(month), level, None if scope.everything else scope.units())
    return [
        {
            "key": r.key,
            "name": r.name,
            "rank": r.rank,
            "percent": r.percent,
            "score": r.score,
            "points": r.points,
            "assigned": r.assigned,
            "on_time_percent": r.on_time_percent,
            "return_percent": r.return_percent,
            "yellow": r.yellow,
            "red": r.red,
        }
        for r in rows
    ]


@router.get("/package")
def download_package(request, month: str):
    """The month's upward report package (ZIP), streamed."""
    services.check_package(request.user)
    chosen = _month(month)
    handle, count = package.build_tempfile(chosen)
    record(_actor(request), "materials.package", None, f"导出{chosen:%Y年%m月}上报资料包（{count} 个文件）")
    return FileResponse(
        handle, as_attachment=True, filename=f"网报资料-{chosen:%Y-%m}.zip", content_type="application/zip"
    )
