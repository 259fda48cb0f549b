"""Open311 GeoReport v2 at /open311/v2/ (and service discovery at /open311/discovery.{json,xml}).

Services are the active case categories (service_code BJ…/SJ…, see ``appeals.models``); service
requests are the cases that came from citizens (appeals), with ``service_request_id`` the case
number. Requests are accepted realtime: POST answers with the service_request_id at once. A
citizen's tracking code (查询码) also works as a GeoReport token (GET tokens/{code}).

No endpoint shows who reported; photos are the EXIF/GPS-stripped copies. POST needs an api_key
issued by HQ (admin, or ``manage.py open311_key create NAME``).
"""

import datetime as dt
import re
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from cases.models import Case, CaseEvent
from org.audit import Actor

from . import limits
from .georeport import Open311Error, parse_w3, render, render_error, w3
from .models import (
    Appeal,
    Open311Client,
    ServiceAttribute,
    category_for_service,
    clean_tracking_code,
    service_code,
    services,
)
from .progress import CLOSED_STATUSES, REJECT_EVENTS, progress
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


@endpoint("GET")
def service_list(request, fmt, params):
    categories = list(services())
    with_metadata = set(ServiceAttribute.objects.values_list("category_id", flat=True))
    return render([_service(c, with_metadata) for c in categories], fmt, "services")


def _category(code: str):
    category = category_for_service(code)
    if category is None:
        raise Open311Error(404, f"service_code 不存在：{code}（service_code not found）")
    return category


@endpoint("GET")
def service_definition(request, fmt, params, code: str):
    category = _category(code)
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
        for a in category.open311_attributes.all()
    ]
    return render(
        {"service_code": service_code(category), "attributes": attributes}, fmt, "service_definition"
    )


# --- Service requests --------------------------------------------------------------------------


def _media_url(request, appeal: Appeal, shown) -> str | None:
    photos = shown.after_photos or shown.before_photos
    if photos:
        return request.build_absolute_uri(photos[-1].image.url)
    return appeal.media_url or None


def _request_body(request, appeal: Appeal, case: Case | None = None) -> dict:
    """One service request: the appeal's current case, or one of its earlier (reopened) cases."""
    case = case or appeal.case
    shown = progress(case)
    if case.pk != appeal.case_id:
        shown.note = f"群众不满意，已重新办理（案件 {appeal.case.number}）"
    return {
        "service_request_id": case.number,
        "status": "closed" if shown.closed else "open",
        "status_notes": shown.status_notes,
        "service_name": case.category.name,
        "service_code": service_code(case.category),
        "description": case.description,
        "agency_responsible": shown.unit,
        "service_notice": f"{case.category.name}：{case.category.time_limit_days} 个工作日内处置",
        "requested_datetime": w3(appeal.received_at),
        "updated_datetime": w3(shown.updated),
        "expected_datetime": w3(shown.deadline),
        "address": case.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": None if appeal.location_approximate else float(case.lat),
        "long": None if appeal.location_approximate else float(case.lng),
        "media_url": _media_url(request, appeal, shown),
    }


def _appeals() -> QuerySet[Appeal]:
    return Appeal.objects.select_related("case__category", "case__lead_unit").prefetch_related("case__photos")


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
    qs = _appeals()
    ids = _split(params.get("service_request_id", ""))
    if ids:
        # service_request_id overrides every other argument.
        cases = Case.objects.select_related("category", "lead_unit").filter(number__in=ids)
        bodies = [body for case in cases if (body := _case_body(request, case)) is not None]
        return render(bodies, fmt, "service_requests")
    start, end = _window(params)
    qs = qs.filter(received_at__gte=start, received_at__lte=end)
    codes = _split(params.get("service_code", ""))
    if codes:
        categories = [category_for_service(code) for code in codes]
        unknown = [code for code, c in zip(codes, categories, strict=True) if c is None]
        if unknown:
            raise Open311Error(400, f"service_code 不存在：{', '.join(unknown)}（unknown service_code）")
        qs = qs.filter(case__category__in=categories)
    statuses = _split(params.get("status", ""))
    if statuses:
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise Open311Error(
                400, f"status 只能是 open 或 closed：{', '.join(bad)}（status must be open or closed）"
            )
        if statuses == ["open"]:
            qs = qs.exclude(case__status__in=CLOSED_STATUSES)
        elif statuses == ["closed"]:
            qs = qs.filter(case__status__in=CLOSED_STATUSES)
    # What the status notes of refused and merged reports need, for the whole list at once
    # (``progress`` uses it when present): the refusal reason and the case a report joined.
    found = (
        qs.select_related("case__merged_into__category", "case__merged_into__lead_unit")
        .prefetch_related(
            "case__merged_into__photos",
            Prefetch(
                "case__events",
                queryset=CaseEvent.objects.filter(action=CaseEvent.Action.REJECT).order_by("-at", "-id"),
                to_attr=REJECT_EVENTS,
            ),
        )
        .order_by("-received_at", "-id")[:MAX_REQUESTS]
    )
    return render([_request_body(request, a) for a in found], fmt, "service_requests")


def _attributes(request, category) -> dict:
    """attribute[code]=value (and attribute[code][]=v1&attribute[code][]=v2), checked against the
    service definition."""
    given: dict[str, list[str]] = {}
    for key in request.POST:
        match = re.fullmatch(r"attribute\[([^\]]+)\](\[\])?", key)
        if match:
            given.setdefault(match.group(1), []).extend(v for v in request.POST.getlist(key) if v != "")
    errors: list[str] = []
    answers: dict[str, str | list[str] | None] = {}
    for attribute in category.open311_attributes.filter(variable=True):
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
    client = Open311Client.authenticate(key)
    if client is None:
        raise Open311Error(403, "api_key 无效或已吊销（invalid api_key）")
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "缺少 service_code（service_code is missing）")
    category = _category(code)
    lat, lng, address = _location(params)
    answers = _attributes(request, category)
    phone = params.get("phone", "").strip()
    try:
        limits.check(request, "open311", phone=phone, client=str(client.pk))
    except limits.Throttled as exc:
        raise Open311Error(429, str(exc)) from None
    name = params.get("last_name", "").strip() + params.get("first_name", "").strip()
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


def _case_body(request, case: Case) -> dict | None:
    """The request of a case that came from a citizen (now or before a reopening), else None."""
    appeal = Appeal.objects.filter(Q(case=case) | Q(earlier_cases=case)).select_related("case").first()
    return _request_body(request, appeal, case) if appeal is not None else None


@endpoint("GET")
def service_request(request, fmt, params, request_id: str):
    case = Case.objects.select_related("category", "lead_unit").filter(number=request_id).first()
    body = _case_body(request, case) if case is not None else None
    if body is None:
        raise Open311Error(404, f"service_request_id 不存在：{request_id}（service request not found）")
    return render([body], fmt, "service_requests")


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
