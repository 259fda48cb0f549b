"""Notices JSON API under /api/v1/notices/: the signed-in person's inbox for a phone app."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from org.audit import Actor

from . import services
from .filtersets import ReceiptFilterSet
from .models import Receipt

router = Router(tags=["通知 notices"])


class NoticeOut(Schema):
    id: int
    kind: str = Field(alias="notice.kind")
    title: str = Field(alias="notice.title")
    body: str = Field(alias="notice.body")
    link: str = Field(alias="notice.link")
    urgent: bool = Field(alias="notice.urgent")
    created_at: dt.datetime = Field(alias="notice.created_at")
    read_at: dt.datetime | None


class InboxFilter(Schema):
    unread: bool | None = None
    kind: str | None = None


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


@router.get("/", response=list[NoticeOut], summary="我的通知（新的在前）")
@paginate
def list_notices(request, filters: Query[InboxFilter]):
    data = {k: v for k, v in filters.dict().items() if v is not None}
    filterset = ReceiptFilterSet(data, queryset=services.inbox(request.user))
    if not filterset.is_valid():
        raise ValidationError({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    return filterset.qs


@router.get("/unread-count", response=UnreadOut, summary="未读通知数")
def unread_count(request):
    return {"unread": services.unread_count(request.user)}


@router.post("/{receipt_id}/read", response=MarkedOut, summary="标为已读")
def mark_read(request, receipt_id: int):
    receipt = get_object_or_404(Receipt, pk=receipt_id, user=request.user)
    return {"marked": services.mark_read(Actor.from_request(request, via="api"), [receipt])}


@router.post("/read-all", response=MarkedOut, summary="全部标为已读")
def mark_all_read(request):
    return {"marked": services.mark_read(Actor.from_request(request, via="api"))}
