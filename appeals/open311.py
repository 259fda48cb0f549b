"""Open311 GeoReport v2 at /open311/v2/ (and service discovery at /open311/discovery.{json,xml}).

Services are the active case categories (service_code BJ…/SJ…, see ``appeals.models``); service
requests are the cases that came from citizens (appeals), with ``service_request_id`` the case
number. Requests are accepted realtime: POST answers with the service_request_id at once. A
citizen's tracking code (查询码) also works as a GeoReport token (GET tokens/{code}).

No endpoint shows who reported; photos are the EXIF/GPS-stripped copies. POST needs an api_key
issued by HQ (admin, or ``manage.py open311_key create NAME``).
"""

import datetime as dt
import functools
import hashlib
import re
import secrets
import time
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from cases import photos as case_photos
from cases.models import Case, CaseEvent, CasePhoto, Category
from org.audit import Actor
from org.compiled import compiled
from workdays.clock import deadline_after
from workdays.models import DeadlineRule

from . import limits
from .georeport import Open311Error, parse_w3, render, render_error, w3
from .models import (
    SERVICE_PREFIXES,
    Appeal,
    Open311Client,
    ServiceAttribute,
    clean_tracking_code,
    service_code,
    services,
)
from .progress import CLOSED_STATUSES, PLAIN_STAGES
from .services import submit_appeal

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_DAYS = 90
MAX_REQUESTS = 1000


def jurisdiction() -> str:
    return getattr(settings, "OPEN311_JURISDICTION_ID", "bazhou.gov.cn")


def endpoint(*methods: str, action: str = "read"):
    """Open311 plumbing: allowed methods, jurisdiction_id, rate limit, errors in the asked format."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, fmt: str, **kwargs):
            try:
                if request.method not in methods:
                    raise Open311Error(405, f"不支持 {request.method} 方法（method not allowed）")
                params = request.POST if request.method == "POST" else request.GET
                given = params.get("jurisdiction_id", "").strip()
                if given and given != jurisdiction():
                    raise Open311Error(404, f"jurisdiction_id 不存在：{given}（jurisdiction_id not found）")
                if request.method == "GET":
                    # A POST is counted per client key and phone, before the case's transaction.
                    limits.check(request, action)
                return view(request, fmt, params, **kwargs)
            except limits.Throttled as exc:
                return render_error(Open311Error(429, str(exc)), fmt)
            except Open311Error as exc:
                response = render_error(exc, fmt)
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapper

    return decorate


# --- Discovery and services --------------------------------------------------------------------


@endpoint("GET")
def discovery(request, fmt, params):
    base = request.build_absolute_uri(reverse("appeals:open311-root"))
    return render(
        {
            "changeset": "2026-11-23T00:00:00+08:00",
            "contact": getattr(settings, "OPEN311_CONTACT", "巴州区创文办 数字城管指挥中心"),
            "key_service": "API 密钥由区创文办签发（API keys are issued by the district campaign office）",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": "2026-11-23T00:00:00+08:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
        fmt,
        "discovery",
    )


def _service(category, with_metadata: set[int]) -> dict:
    return {
        "service_code": service_code(category),
        "service_name": category.name,
        "description": f"{category.get_kind_display()} · {category.major_name} · {category.name}",
        "metadata": category.pk in with_metadata,
        "type": "realtime",
        "keywords": f"{category.major_name}, {category.get_kind_display()}",
        "group": category.major_name,
    }


# The services, their categories and attribute definitions, built once per process and kept as
# long as the catalogue's version in the shared cache stays the one it was built at (a request
# reads the version with whatever else it reads from the cache: a few bytes, not sixty pickled
# categories). ``forget_services`` (signals on Category and ServiceAttribute) drops the version
# when a change commits, so every process builds afresh; it expires after CATALOGUE_SECONDS in any
# case.
CATALOGUE_KEY = "appeals.open311.catalogue.version"
CATALOGUE_SECONDS = 600
# An authenticated client is kept for a minute; revoking its key drops it at once.
CLIENT_SECONDS = 60


def _build_catalogue() -> dict[str, Any]:
    categories = list(services())
    attributes: dict[int, list[ServiceAttribute]] = {}
    for attribute in ServiceAttribute.objects.filter(category__in=categories):
        attributes.setdefault(attribute.category_id, []).append(attribute)
    return {
        "services": [_service(c, set(attributes)) for c in categories],
        "categories": {service_code(c).upper(): c for c in categories},
        "attributes": attributes,
    }


class _Built:
    """This process's catalogue and the version it was built at."""

    version: str | None = None
    catalogue: dict[str, Any] = {}


def _catalogue(cached: dict[str, Any] | None = None) -> dict[str, Any]:
    """The catalogue, current by the version in ``cached`` (a ``cache.get_many`` already done) or
    in the cache; built again when the version is another or gone."""
    version = cached.get(CATALOGUE_KEY) if cached is not None else cache.get(CATALOGUE_KEY)
    if version is None or version != _Built.version:
        if version is None:
            version = secrets.token_hex(8)
            cache.set(CATALOGUE_KEY, version, CATALOGUE_SECONDS)
        # Version first, then the rows: a change committing in between drops the version again.
        _Built.catalogue, _Built.version = _build_catalogue(), version
    return _Built.catalogue


def forget_services(**kwargs) -> None:
    """Drop the catalogue's version once the change commits (dropped earlier, a request could
    build from the rows before the change and keep them under a fresh version)."""
    transaction.on_commit(lambda: cache.delete(CATALOGUE_KEY))


def _service_category(code: str, catalogue: dict[str, Any]) -> Category | None:
    """The active category of an Open311 service code, or None."""
    return catalogue["categories"].get(code.strip().upper())


@endpoint("GET")
def service_list(request, fmt, params):
    return render(_catalogue()["services"], fmt, "services")


def _category(code: str, catalogue: dict[str, Any]) -> Category:
    category = _service_category(code, catalogue)
    if category is None:
        raise Open311Error(404, f"service_code 不存在：{code}（service_code not found）")
    return category


@endpoint("GET")
def service_definition(request, fmt, params, code: str):
    catalogue = _catalogue()
    category = _category(code, catalogue)
    attributes = [
        {
            "variable": a.variable,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.datatype_description or None,
            "order": a.order,
            "description": a.description,
            **(
                {"values": [{"key": v["key"], "name": v["name"]} for v in a.values]}
                if a.datatype in ServiceAttribute.LIST_TYPES
                else {}
            ),
        }
        for a in catalogue["attributes"].get(category.pk, [])
    ]
    return render(
        {"service_code": service_code(category), "attributes": attributes}, fmt, "service_definition"
    )


# --- Service requests --------------------------------------------------------------------------


# A service request is read as one row of values (no model objects): the case, its category and
# unit, the case it was merged into, the last refusal reason and the photo to link, each by an
# indexed look-up of the case's own key. ``_body`` turns a row into the GeoReport fields.
_CASE_FIELDS = {
    "number": "number",
    "status": "status",
    "description": "description",
    "address": "address",
    "lat": "lat",
    "lng": "lng",
    "updated_at": "updated_at",
    "closed_at": "closed_at",
    "ended_at": "ended_at",
    "handle_deadline": "handle_deadline",
    "dispatch_deadline": "dispatch_deadline",
    "reported_at": "reported_at",
    "urgent": "urgent",
    "category_name": "category__name",
    "category_kind": "category__kind",
    "category_code": "category__code",
    "limit_days": "category__time_limit_days",
    "limit_hours": "category__time_limit_hours",
    "rule": "category__deadline_rule",
    "unit": "lead_unit__name",
    "t_number": "merged_into__number",
    "t_status": "merged_into__status",
    "t_unit": "merged_into__lead_unit__name",
    "t_handle_deadline": "merged_into__handle_deadline",
    "t_dispatch_deadline": "merged_into__dispatch_deadline",
    "t_reported_at": "merged_into__reported_at",
    "t_urgent": "merged_into__urgent",
    "t_limit_days": "merged_into__category__time_limit_days",
    "t_limit_hours": "merged_into__category__time_limit_hours",
    "t_rule": "merged_into__category__deadline_rule",
    "t_updated_at": "merged_into__updated_at",
}


def _photo(case_ref: str) -> Subquery:
    """The image of the case's last after-photo, else its last before-photo (the stripped copy)."""
    return Subquery(
        CasePhoto.objects.filter(
            case_id=OuterRef(case_ref), kind__in=[CasePhoto.Kind.AFTER, CasePhoto.Kind.BEFORE]
        )
        .order_by(
            SqlCase(
                When(kind=CasePhoto.Kind.AFTER, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            "-uploaded_at",
            "-id",
        )
        .values("image")[:1]
    )


def _case_values(prefix: str) -> dict[str, Any]:
    """The value expressions of a request's case, reached from the queryset's model by ``prefix``."""
    values: dict[str, Any] = {f"r_{alias}": F(prefix + path) for alias, path in _CASE_FIELDS.items()}
    values["r_reason"] = Subquery(
        CaseEvent.objects.filter(case_id=OuterRef(prefix + "id"), action=CaseEvent.Action.REJECT)
        .order_by("-at", "-id")
        .values("reason")[:1]
    )
    values["r_photo"] = _photo(prefix + "id")
    values["r_t_photo"] = _photo(prefix + "merged_into_id")
    return values


def _expected(
    status, deadline, dispatch_deadline, reported_at, urgent, days, hours, rule
) -> dt.datetime | None:
    """``progress.expected`` from values: the handling deadline, or before dispatch an estimate."""
    if status in (Case.Status.REJECTED, Case.Status.MERGED):
        return None
    if deadline is not None:
        return deadline
    # Each process keeps the working calendar for a minute (workdays.calendar); so do the estimates.
    return _estimate(dispatch_deadline or reported_at, days, hours, urgent, rule, int(time.time() // 60))


@functools.lru_cache(maxsize=20_000)
def _estimate(start: dt.datetime, days, hours, urgent, rule, minute: int) -> dt.datetime:
    """As cases.services.handle_deadline, from the values (no model objects for a list of rows)."""
    if urgent and hours:
        return deadline_after(start, hours=hours, rule=DeadlineRule.CLOCK_HOURS).at
    return deadline_after(start, days, rule=rule).at


class _Media:
    """Absolute URLs of stored images, the request's scheme and host worked out once."""

    def __init__(self, request):
        self.root = request.build_absolute_uri("/")[:-1]

    def __call__(self, name: str | None) -> str | None:
        if not name:
            return None
        url = default_storage.url(name)
        return url if "://" in url else self.root + url


def _body(r: dict[str, Any], appeal: dict[str, Any], media: _Media) -> dict:
    """One service request from its row; ``appeal`` holds received_at, location_approximate,
    media_url and, for an earlier (reopened) case, the number of the appeal's current case."""
    status = r["r_status"]
    merged = status == Case.Status.MERGED and r["r_t_number"] is not None
    note = ""
    if merged:
        note = f"并入案件 {r['r_t_number']}，当前{PLAIN_STAGES[Case.Status(r['r_t_status'])]}"
        deadline = _expected(
            r["r_t_status"], r["r_t_handle_deadline"], r["r_t_dispatch_deadline"], r["r_t_reported_at"],
            r["r_t_urgent"], r["r_t_limit_days"], r["r_t_limit_hours"], r["r_t_rule"],
        )  # fmt: skip
        unit, photo = r["r_t_unit"], r["r_t_photo"]
    else:
        if status == Case.Status.REJECTED:
            note = r["r_reason"] or ""
        deadline = _expected(
            status, r["r_handle_deadline"], r["r_dispatch_deadline"], r["r_reported_at"],
            r["r_urgent"], r["r_limit_days"], r["r_limit_hours"], r["r_rule"],
        )  # fmt: skip
        unit, photo = r["r_unit"], r["r_photo"]
    if appeal.get("current"):
        note = f"群众不满意，已重新办理（案件 {appeal['current']}）"
    closed = status in CLOSED_STATUSES
    stage = PLAIN_STAGES[Case.Status(status)]
    approximate = appeal["location_approximate"]
    return {
        "service_request_id": r["r_number"],
        "status": "closed" if closed else "open",
        "status_notes": f"{stage}：{note}" if note else stage,
        "service_name": r["r_category_name"],
        "service_code": SERVICE_PREFIXES[Category.Kind(r["r_category_kind"])] + r["r_category_code"],
        "description": r["r_description"],
        "agency_responsible": unit or None,
        "service_notice": f"{r['r_category_name']}：{r['r_limit_days']} 个工作日内处置",
        "requested_datetime": w3(appeal["received_at"]),
        "updated_datetime": w3((r["r_closed_at"] or r["r_ended_at"]) if closed else r["r_updated_at"]),
        "expected_datetime": w3(deadline),
        "address": r["r_address"] or None,
        "address_id": None,
        "zipcode": None,
        "lat": None if approximate else float(r["r_lat"]),
        "long": None if approximate else float(r["r_lng"]),
        "media_url": media(photo) or appeal["media_url"] or None,
    }


# Marker arguments: values no request sends.
_MARK_TIMES = [dt.datetime(2000, 1, 1, 0, 0, k, tzinfo=dt.UTC) for k in (1, 2)]


def _marks(kind: str, count: int) -> list[Any]:
    if kind == "int":
        return [-7_310_000 - k for k in range(count)]
    return [f"~open311-mark-{k}~" for k in range(count)]


def _modified(r: dict[str, Any]) -> dt.datetime:
    """When what a request shows last changed: its case, or the case it was merged into."""
    return max(m for m in (r["r_updated_at"], r["r_t_updated_at"]) if m is not None)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _window(params) -> tuple[dt.datetime, dt.datetime]:
    """[start, end] from the arguments; either missing means the 90 days next to the other (or up to now)."""
    span = dt.timedelta(days=DEFAULT_DAYS)
    start = parse_w3(params["start_date"], "start_date") if params.get("start_date") else None
    end = parse_w3(params["end_date"], "end_date") if params.get("end_date") else None
    if start is None:
        end = end or timezone.now()
        start = end - span
    elif end is None:
        end = start + span
    if start > end:
        raise Open311Error(400, "start_date 晚于 end_date（start_date is after end_date）")
    if end - start > span:
        raise Open311Error(
            400, f"查询时间跨度不能超过 {DEFAULT_DAYS} 天（the range may not span more than 90 days）"
        )
    return start, end


def _search(request, fmt, params):
    ids = _split(params.get("service_request_id", ""))
    if ids:
        # service_request_id overrides every other argument.
        bodies = [body for _row, body in _by_number(request, ids)]
        return render(bodies, fmt, "service_requests")
    start, end = _window(params)
    codes = _split(params.get("service_code", ""))
    categories: list[int] = []
    if codes:
        catalogue = _catalogue()
        found = [_service_category(code, catalogue) for code in codes]
        unknown = [code for code, c in zip(codes, found, strict=True) if c is None]
        if unknown:
            raise Open311Error(400, f"service_code 不存在：{', '.join(unknown)}（unknown service_code）")
        categories = sorted({c.pk for c in found if c is not None})
    statuses = _split(params.get("status", ""))
    status = ""
    if statuses:
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise Open311Error(
                400, f"status 只能是 open 或 closed：{', '.join(bad)}（status must be open or closed）"
            )
        status = statuses[0] if len(statuses) == 1 else ""

    def build(marks: list[Any]) -> QuerySet:
        qs = Appeal.objects.filter(received_at__gte=marks[0], received_at__lte=marks[1])
        if categories:
            qs = qs.filter(case__category__in=marks[2:])
        if status == "open":
            qs = qs.exclude(case__status__in=CLOSED_STATUSES)
        elif status == "closed":
            qs = qs.filter(case__status__in=CLOSED_STATUSES)
        return qs.order_by("-received_at", "-id").values(
            "received_at", "location_approximate", "media_url", **_case_values("case__")
        )[:MAX_REQUESTS]

    query = compiled(
        ("list", len(categories), status, MAX_REQUESTS), build, _MARK_TIMES + _marks("int", len(categories))
    )
    rows = query.rows([start, end, *categories])
    media = _Media(request)
    return render([_body(r, r, media) for r in rows], fmt, "service_requests")


def _attributes(request, definitions: list[ServiceAttribute]) -> dict:
    """attribute[code]=value (and attribute[code][]=v1&attribute[code][]=v2), checked against the
    service definition."""
    given: dict[str, list[str]] = {}
    for key in request.POST:
        match = re.fullmatch(r"attribute\[([^\]]+)\](\[\])?", key)
        if match:
            given.setdefault(match.group(1), []).extend(v for v in request.POST.getlist(key) if v != "")
    errors: list[str] = []
    answers: dict[str, str | list[str] | None] = {}
    for attribute in (a for a in definitions if a.variable):
        values = given.get(attribute.code, [])
        if not values:
            if attribute.required:
                errors.append(f"缺少必填属性 attribute[{attribute.code}]：{attribute.description}")
            continue
        if attribute.datatype in ServiceAttribute.LIST_TYPES:
            keys = attribute.value_keys()
            wrong = [v for v in values if v not in keys]
            if wrong or (attribute.datatype == ServiceAttribute.Datatype.SINGLE and len(values) > 1):
                errors.append(f"属性 attribute[{attribute.code}] 的取值无效：{', '.join(wrong or values)}")
                continue
            answers[attribute.code] = (
                values if attribute.datatype == ServiceAttribute.Datatype.MULTI else values[0]
            )
        elif attribute.datatype == ServiceAttribute.Datatype.NUMBER:
            try:
                float(values[0])
            except ValueError:
                errors.append(f"属性 attribute[{attribute.code}] 应为数字")
                continue
            answers[attribute.code] = values[0]
        elif attribute.datatype == ServiceAttribute.Datatype.DATETIME:
            answers[attribute.code] = w3(parse_w3(values[0], f"attribute[{attribute.code}]"))
        else:
            answers[attribute.code] = values[0][:1000]
    if errors:
        raise Open311Error(400, *errors)
    return answers


def _location(params) -> tuple[str | None, str | None, str]:
    lat, lng = params.get("lat", "").strip(), params.get("long", "").strip()
    address = params.get("address_string", "").strip()
    if bool(lat) != bool(lng):
        raise Open311Error(400, "lat 和 long 必须同时提供（lat and long must both be sent）")
    if lat:
        try:
            if not (-90 <= float(lat) <= 90 and -180 <= float(lng) <= 180):
                raise ValueError
        except ValueError:
            raise Open311Error(
                400, "lat/long 不是有效的 WGS-84 坐标（lat/long is not a valid WGS-84 coordinate）"
            ) from None
        return lat, lng, address
    if address:
        return None, None, address
    if params.get("address_id", "").strip():
        raise Open311Error(
            400,
            "本辖区不提供 address_id 地址库，请提供 lat/long 或 address_string（address_id is not supported）",
        )
    raise Open311Error(
        400,
        "缺少位置：请提供 lat 和 long，或 address_string（a location is required: lat & long or address_string）",
    )


def _create(request, fmt, params):
    key = params.get("api_key", "").strip()
    if not key:
        raise Open311Error(403, "缺少 api_key（api_key is missing）")
    # The client and the services from the shared cache (one read); the rate-limit counters (one
    # UPSERT on its own, before the case's transaction: every POST of a client counts on the same
    # row, and counted inside that transaction the row stayed locked until its commit, so a busy
    # client's POSTs queued behind each other); then one transaction: the case, its report event,
    # the appeal and the audit entry. An authenticated attempt counts unless it is refused.
    client_key = Open311Client.cache_key(Open311Client.hash_key(key))
    cached = cache.get_many([CATALOGUE_KEY, client_key])
    client = cached.get(client_key)
    if client is None:
        client = Open311Client.authenticate(key)
        if client is None:
            raise Open311Error(403, "api_key 无效或已吊销（invalid api_key）")
        cache.set(client_key, client, CLIENT_SECONDS)
    phone = params.get("phone", "").strip()
    try:
        limits.check(request, "open311", phone=phone, client=str(client.pk))
    except limits.Throttled as exc:
        raise Open311Error(429, str(exc)) from None
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "缺少 service_code（service_code is missing）")
    catalogue = _catalogue(cached)
    category = _category(code, catalogue)
    lat, lng, address = _location(params)
    answers = _attributes(request, catalogue["attributes"].get(category.pk, []))
    name = params.get("last_name", "").strip() + params.get("first_name", "").strip()
    with case_photos.atomic():
        try:
            appeal = submit_appeal(
                Actor.from_request(request, via="open311"),
                channel=Appeal.Channel.OPEN311,
                category=category,
                description=params.get("description", "").strip() or category.name,
                phone=phone,
                name=name,
                lat=lat,
                lng=lng,
                address=address,
                media_url=params.get("media_url", "").strip(),
                attributes=answers,
                client=client,
            )
        except PermissionDenied as exc:
            raise Open311Error(403, str(exc)) from None
        except ValidationError as exc:
            raise Open311Error(400, *exc.messages) from None
    notice = (
        f"已受理登记，{category.time_limit_days} 个工作日内处置。查询码 {appeal.code}，"
        f"可凭提交时的手机号在 {request.build_absolute_uri(reverse('appeals:track'))} 查询进度"
    )
    return render(
        [{"service_request_id": appeal.case.number, "service_notice": notice, "account_id": None}],
        fmt,
        "service_requests",
    )


@endpoint("GET", "POST")
def service_requests(request, fmt, params):
    if request.method == "POST":
        return _create(request, fmt, params)
    return _search(request, fmt, params)


_APPEAL_VALUES = {
    # the appeal whose current case this is (the one-to-one's unique index on the case) ...
    "a_received_at": "appeal__received_at",
    "a_location_approximate": "appeal__location_approximate",
    "a_media_url": "appeal__media_url",
    # ... or the appeal that had it before a reopening (the earlier cases' index on the case)
    "e_received_at": "reopened_appeals__received_at",
    "e_location_approximate": "reopened_appeals__location_approximate",
    "e_media_url": "reopened_appeals__media_url",
    "e_current": "reopened_appeals__case__number",
}


def _by_number(request, numbers: list[str]) -> list[tuple[dict[str, Any], dict]]:
    """(row, body) of the requests with these case numbers, in one query: each case found by its
    unique number, its appeal by the indexed key of either link (no OR across a join). Cases that
    never came from a citizen are not service requests and are left out."""
    numbers = sorted(set(numbers))

    def build(marks: list[Any]) -> QuerySet:
        return Case.objects.filter(number__in=marks).values(
            **_case_values(""), **{alias: F(path) for alias, path in _APPEAL_VALUES.items()}
        )

    rows = compiled(("numbers", len(numbers)), build, _marks("str", len(numbers))).rows(numbers)
    media = _Media(request)
    found = []
    for r in rows:
        side = "a" if r["a_received_at"] is not None else "e" if r["e_received_at"] is not None else None
        if side is None:
            continue
        appeal = {
            "received_at": r[f"{side}_received_at"],
            "location_approximate": r[f"{side}_location_approximate"],
            "media_url": r[f"{side}_media_url"],
            "current": r["e_current"] if side == "e" else None,
        }
        found.append((r, _body(r, appeal, media)))
    return found


@endpoint("GET")
def service_request(request, fmt, params, request_id: str):
    found = _by_number(request, [request_id])
    if not found:
        raise Open311Error(404, f"service_request_id 不存在：{request_id}（service request not found）")
    row, body = found[0]
    # Cacheable until the case (or the case it joined) changes: a client that sends back the
    # ETag or Last-Modified it got is answered 304 without a body.
    modified = _modified(row)
    response = render([body], fmt, "service_requests")
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    unchanged = get_conditional_response(request, etag=etag, last_modified=int(modified.timestamp()))
    response = unchanged or response
    response["ETag"] = etag
    response["Last-Modified"] = http_date(int(modified.timestamp()))
    response["Cache-Control"] = "public, no-cache"
    return response


@endpoint("GET", action="track")
def token(request, fmt, params, token: str):
    appeal = Appeal.objects.select_related("case").filter(code=clean_tracking_code(token)).first()
    if appeal is None:
        raise Open311Error(404, f"token 不存在：{token}（token not found）")
    return render([{"service_request_id": appeal.case.number, "token": appeal.code}], fmt, "service_requests")


def not_found(request, path: str = ""):
    """Anything else under /open311/: the error list, in the format the path asks for."""
    fmt = "json" if path.endswith(".json") else "xml"
    return render_error(Open311Error(404, "没有这个 Open311 资源（no such resource）"), fmt)
