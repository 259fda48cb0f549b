"""The actions on appeals 诉求. Each takes an ``Actor`` first, checks who may do it, runs in one
transaction and writes its audit entry. Views, the API, Open311 and the commands call these.

An appeal enters the same case loop as every other report: ``submit_appeal`` calls
``cases.services.report_case`` and the dispatchers take it from there (立案 → 派单 → ...).
"""

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from cases import photos
from cases import services as case_services
from cases.models import Case, Category
from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Region, Role
from org.scope import require_role
from org.text import clean_text

from .models import Appeal, Open311Client, new_tracking_code, unsure_category
from .notices import notify_rating
from .privacy import may_see_contact, normalize_phone

MAX_PHOTOS = 6
MAX_DESCRIPTION = 4000
SOURCES: dict[str, str] = {
    Appeal.Channel.WEB: Case.Source.APPEAL,
    Appeal.Channel.OPEN311: Case.Source.OPEN311,
}

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


# --- Submission --------------------------------------------------------------------------------


def approximate_point() -> tuple[Decimal, Decimal]:
    """Where an appeal with an address but no point is placed until the dispatcher looks at it:
    the district's centre (the case loop needs a point; the appeal is marked approximate)."""
    district = Region.objects.filter(
        level=Region.Level.DISTRICT, lat__isnull=False, lng__isnull=False
    ).first()
    lat, lng = (district.lat, district.lng) if district is not None else settings.MAP_CENTER
    return Decimal(str(lat)), Decimal(str(lng))


def _check_channel(actor: Actor, channel: str, client: Open311Client | None) -> None:
    if channel == Appeal.Channel.WEB:
        return
    if channel == Appeal.Channel.OPEN311:
        if client is None or not client.is_active:
            raise PermissionDenied("Open311 api_key 无效")
        return
    if channel not in Appeal.CLERK_CHANNELS:
        raise ValidationError({"channel": ["渠道无效"]})
    # Appeals by hotline, mail or visit are entered by the 受理员 (dispatchers) who take them.
    _require_dispatcher(actor)


def submit_appeal(
    actor: Actor,
    *,
    channel: str,
    category: Category | None,
    description: str,
    phone: str = "",
    name: str = "",
    lat=None,
    lng=None,
    address: str = "",
    photos_uploaded: Iterable = (),
    media_url: str = "",
    attributes: dict | None = None,
    client: Open311Client | None = None,
) -> Appeal:
    """收件: a citizen's appeal becomes a reported case (待立案) and gets its tracking code.

    ``category`` None means the citizen was not sure (不确定): the dispatcher classifies it.
    A point (lat/lng) or an address is required; the phone number is required except from
    Open311 clients, whose users may stay anonymous."""
    _check_channel(actor, channel, client)
    errors: dict[str, list[str]] = {}
    phone = (phone or "").strip()
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    elif channel != Appeal.Channel.OPEN311:
        errors["phone"] = ["请留下联系电话，便于回访"]
    texts: dict[str, str] = {}
    for key, value, limit, what, multiline in (
        ("description", description, MAX_DESCRIPTION, "问题描述", True),
        ("address", address, 200, "地址", False),
        ("name", name, 50, "姓名", False),
        ("media_url", media_url, 500, "media_url", False),
    ):
        try:
            texts[key] = clean_text(value, limit, what, multiline=multiline)
        except ValidationError as exc:
            errors[key] = exc.messages
            texts[key] = ""
    description, address, name, media_url = (
        texts["description"],
        texts["address"],
        texts["name"],
        texts["media_url"],
    )
    if not description and "description" not in errors:
        errors["description"] = ["请描述您反映的问题"]
    has_point = lat not in (None, "") and lng not in (None, "")
    if not has_point and not address:
        errors["location"] = ["请在地图上选择位置、使用定位，或填写地址"]
    uploads = list(photos_uploaded)
    if len(uploads) > MAX_PHOTOS:
        errors["photos"] = [f"最多上传 {MAX_PHOTOS} 张照片"]
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            errors["media_url"] = ["media_url 不是有效的 http(s) 地址"]
    if errors:
        raise ValidationError(errors)
    if not has_point:
        lat, lng = approximate_point()

    with photos.atomic():  # the case's photos go if the appeal is not saved

        def appeal_of(case: Case) -> list[Appeal]:
            return [
                Appeal(
                    case=case,
                    # 31^10 ≈ 8×10^14 codes: no look-up first; the unique index refuses the
                    # astronomically rare repeat (a 500 the client retries), one statement fewer
                    # on every submission.
                    code=new_tracking_code(),
                    channel=channel,
                    received_at=case.reported_at,
                    phone=phone,
                    name=name,
                    category_unsure=category is None,
                    location_approximate=not has_point,
                    media_url=media_url,
                    attributes=attributes or {},
                    entered_by=actor.user if channel in Appeal.CLERK_CHANNELS else None,
                    client=client if channel == Appeal.Channel.OPEN311 else None,
                )
            ]

        # The appeal is written with the case and its report event (one round trip).
        case = case_services.report_case(
            actor,
            category=category or unsure_category(),
            description=description,
            lat=lat,
            lng=lng,
            address=address,
            photos_uploaded=uploads,
            source=SOURCES.get(channel, Case.Source.CLERK),
            for_citizen=True,
            beside=appeal_of,
        )
        (appeal,) = case.reported.beside  # type: ignore[attr-defined]
        record(
            actor,
            "appeal.submit",
            appeal,
            f"收到诉求 {appeal.code}（{appeal.get_channel_display()}）",
            case=case.number,
        )
    return appeal


def classify_appeal(actor: Actor, appeal: Appeal, category: Category) -> Appeal:
    """分类: before dispatch, a dispatcher gives an appeal the citizen could not classify (or
    classified wrongly) its category, so that routing and the time limit follow the right one."""
    _require_dispatcher(actor)
    with transaction.atomic():
        case = Case.objects.get(pk=appeal.case_id)
        previous = case.category_id
        if previous != category.pk:
            why = "群众选择“不确定”" if appeal.category_unsure else "群众所选类别不符"
            case_services.reclassify_case(actor, case, category, f"诉求 {appeal.code} 归类（{why}）")
        elif case.status not in (Case.Status.REPORTED, Case.Status.ACCEPTED, Case.Status.RETURNED):
            raise ActionRefused("案件已派遣，不能再改类别")
        Appeal.objects.filter(pk=appeal.pk).update(category_unsure=False)
        record(
            actor,
            "appeal.classify",
            appeal,
            f"诉求 {appeal.code} 归类为 {category}",
            previous=previous,
            category=category.pk,
        )
    appeal.refresh_from_db()
    return appeal


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
        # Open311 keeps authenticated clients in the shared cache for a minute: forget this one.
        key_hash = client.key_hash
        transaction.on_commit(lambda: cache.delete(Open311Client.cache_key(key_hash)))
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
        appeal = Appeal.objects.select_for_update(of=("self",)).select_related("case").get(pk=appeal.pk)
        if appeal.rating:
            raise ActionRefused("该诉求已评价，不能重复评价")
        if appeal.effective_case.status != Case.Status.CLOSED:
            raise ActionRefused("诉求办结后才能评价")
        appeal.rating = rating
        appeal.rating_comment = clean_text(comment, 500, "评价意见")
        appeal.rated_at = timezone.now()
        fields = ["rating", "rating_comment", "rated_at"]
        if rating == Appeal.Rating.UNSATISFIED:
            appeal.review = Appeal.Review.PENDING
            fields.append("review")
        appeal.save(update_fields=fields)
        record(actor, "appeal.rate", appeal, f"诉求 {appeal.code} 评价：{appeal.get_rating_display()}")
        notify_rating(appeal)
    return appeal


def review_unsatisfied(actor: Actor, appeal: Appeal, reopen: bool, note: str = "") -> Appeal:
    """研判: a dispatcher decides on an unsatisfied rating — reopen (重新办理: a new case for the
    same problem, accepted and dispatched at once to the unit that handled it) or uphold the closing.

    The appeal then follows the new case; the earlier round (case, rating, comment) is kept in
    ``history``, and ``reopen_count`` counts the reopenings."""
    _require_dispatcher(actor)
    if not reopen and not note.strip():
        raise ValidationError({"note": ["维持结案时请说明理由"]})
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("case__category", "case__lead_unit")
            .get(pk=appeal.pk)
        )
        if appeal.review != Appeal.Review.PENDING:
            raise ActionRefused("该诉求没有待研判的不满意评价")
        now = timezone.now()
        old = appeal.case
        appeal.reviewed_by, appeal.reviewed_at, appeal.review_note = (
            actor.user,
            now,
            clean_text(note, 500, "研判说明"),
        )
        if not reopen:
            appeal.review = Appeal.Review.UPHELD
            appeal.save(update_fields=["review", "reviewed_by", "reviewed_at", "review_note"])
            record(actor, "appeal.uphold", appeal, f"诉求 {appeal.code} 不满意评价研判：维持结案")
            return appeal
        if old.lead_unit is None:
            raise ActionRefused("原案件没有主办单位，请重新上报")
        case = case_services.report_case(
            actor,
            category=old.category,
            description=f"【群众不满意，重新办理，原案件 {old.number}】{old.description}\n群众意见：{appeal.rating_comment}",
            lat=old.lat,
            lng=old.lng,
            address=old.address,
            source=Case.Source.CLERK,
        )
        case = case_services.accept_case(actor, case, note=f"群众对案件 {old.number} 的办理不满意，重新办理")
        case = case_services.dispatch_case(actor, case, old.lead_unit, note=note.strip())
        appeal.history = [
            *appeal.history,
            {
                "case": old.number,
                "rating": appeal.rating,
                "comment": appeal.rating_comment,
                "rated_at": appeal.rated_at.isoformat() if appeal.rated_at else None,
                "reopened_at": now.isoformat(),
                "note": appeal.review_note,
            },
        ]
        appeal.case = case
        appeal.review = Appeal.Review.REOPENED
        appeal.reopen_count += 1
        appeal.rating, appeal.rating_comment, appeal.rated_at = "", "", None
        appeal.followed_up_at, appeal.followed_up_by, appeal.follow_up_note = None, None, ""
        appeal.save()
        appeal.earlier_cases.add(old)
        record(actor, "appeal.reopen", appeal, f"诉求 {appeal.code} 重新办理：{old.number} → {case.number}")
    return appeal


def record_follow_up(actor: Actor, appeal: Appeal, note: str) -> Appeal:
    """回访: a dispatcher records the answer given to the citizen (required before closing a
    clerk-entered appeal)."""
    _require_dispatcher(actor)
    if not note.strip():
        raise ValidationError({"note": ["请填写回访情况"]})
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update(of=("self",)).select_related("case").get(pk=appeal.pk)
        if appeal.case.status not in ANSWERABLE_STATUSES:
            raise ActionRefused("案件处置完成（或不予立案）后才能回访")
        appeal.follow_up_note = note.strip()
        appeal.followed_up_by = actor.user
        appeal.followed_up_at = timezone.now()
        appeal.save(update_fields=["follow_up_note", "followed_up_by", "followed_up_at"])
        record(actor, "appeal.follow_up", appeal, f"诉求 {appeal.code} 已回访")
    return appeal
