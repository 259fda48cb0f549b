"""The actions on appeals 诉求. Each takes an ``Actor`` first, checks who may do it, runs in one
transaction and writes its audit entry. Views, the API, Open311 and the commands call these."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases.models import Case
from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Role
from org.scope import require_role

from .models import Appeal, Open311Client
from .privacy import may_see_contact, normalize_phone

# Case states in which the citizen can be given an answer (回访): the work is done or refused.
ANSWERABLE_STATUSES = (Case.Status.HANDLED, Case.Status.CLOSED, Case.Status.REJECTED, Case.Status.MERGED)


def _require_dispatcher(actor: Actor) -> None:
    if actor.user is None:
        raise PermissionDenied("请先登录")
    require_role(actor.user, Role.DISPATCHER)


def _require_hq(actor: Actor) -> None:
    """HQ issues Open311 keys; a management command (no user) is run by the operator and may too."""
    if actor.user is None and actor.via == "command":
        return
    if actor.user is None:
        raise PermissionDenied("请先登录")
    if not actor.user.is_superuser:
        require_role(actor.user, Role.HQ_ADMIN)


# --- Open311 API keys --------------------------------------------------------------------------


def issue_open311_key(actor: Actor, name: str, contact: str = "") -> tuple[Open311Client, str]:
    """A new Open311 client and its key (returned once, never stored in clear)."""
    _require_hq(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["请填写客户端名称"]})
    with transaction.atomic():
        if Open311Client.objects.filter(name=name).exists():
            raise ValidationError({"name": [f"已有名为“{name}”的客户端"]})
        client = Open311Client(name=name, contact=contact.strip(), created_by=actor.user)
        key = client.set_new_key()
        client.save()
        record(actor, "open311.issue_key", client, f"签发 Open311 密钥：{name}", prefix=client.prefix)
    return client, key


def revoke_open311_key(actor: Actor, client: Open311Client) -> Open311Client:
    _require_hq(actor)
    with transaction.atomic():
        client = Open311Client.objects.select_for_update().get(pk=client.pk)
        if client.revoked_at is not None:
            raise ActionRefused("该密钥已吊销")
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        record(actor, "open311.revoke_key", client, f"吊销 Open311 密钥：{client.name}", prefix=client.prefix)
    return client


# --- Contact details ---------------------------------------------------------------------------


def read_contact(actor: Actor, appeal: Appeal) -> dict[str, str]:
    """The citizen's phone and name in full, for a call-back. Only dispatchers; every read is logged."""
    if actor.user is None or not may_see_contact(actor.user):
        raise PermissionDenied("只有受理派遣员可以查看群众联系方式")
    record(actor, "appeal.read_contact", appeal, f"查看诉求 {appeal.code} 的联系方式")
    return {"phone": appeal.phone, "name": appeal.name}


# --- Rating and follow-up ----------------------------------------------------------------------


def owns(appeal: Appeal, phone: str) -> bool:
    """True when ``phone`` is the number the appeal was submitted with."""
    try:
        return bool(appeal.phone) and normalize_phone(phone) == appeal.phone
    except ValidationError:
        return False


def rate_appeal(actor: Actor, appeal: Appeal, rating: str, comment: str = "", *, phone: str = "") -> Appeal:
    """评价: the citizen (proving the appeal is theirs by its phone number) or a dispatcher taking the
    rating on the phone rates a closed case once. 不满意 goes to the dispatchers to decide on reopening."""
    if not owns(appeal, phone) and not (actor.user is not None and may_see_contact(actor.user)):
        raise PermissionDenied("只有诉求人本人可以评价")
    if rating not in Appeal.Rating.values:
        raise ValidationError({"rating": ["请选择满意、基本满意或不满意"]})
    if rating == Appeal.Rating.UNSATISFIED and not comment.strip():
        raise ValidationError({"comment": ["选择不满意时，请写明原因，便于重新办理"]})
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("case").get(pk=appeal.pk)
        if appeal.rating:
            raise ActionRefused("该诉求已评价，不能重复评价")
        if appeal.case.status != Case.Status.CLOSED:
            raise ActionRefused("诉求办结后才能评价")
        appeal.rating = rating
        appeal.rating_comment = comment.strip()[:500]
        appeal.rated_at = timezone.now()
        fields = ["rating", "rating_comment", "rated_at"]
        if rating == Appeal.Rating.UNSATISFIED:
            appeal.review = Appeal.Review.PENDING
            fields.append("review")
        appeal.save(update_fields=fields)
        record(actor, "appeal.rate", appeal, f"诉求 {appeal.code} 评价：{appeal.get_rating_display()}")
    return appeal


def record_follow_up(actor: Actor, appeal: Appeal, note: str) -> Appeal:
    """回访: a dispatcher records the answer given to the citizen (required before closing a
    clerk-entered appeal)."""
    _require_dispatcher(actor)
    if not note.strip():
        raise ValidationError({"note": ["请填写回访情况"]})
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("case").get(pk=appeal.pk)
        if appeal.case.status not in ANSWERABLE_STATUSES:
            raise ActionRefused("案件处置完成（或不予立案）后才能回访")
        appeal.follow_up_note = note.strip()
        appeal.followed_up_by = actor.user
        appeal.followed_up_at = timezone.now()
        appeal.save(update_fields=["follow_up_note", "followed_up_by", "followed_up_at"])
        record(actor, "appeal.follow_up", appeal, f"诉求 {appeal.code} 已回访")
    return appeal
