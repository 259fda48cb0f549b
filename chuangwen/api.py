"""The JSON API, versioned under /api/v1/, with its OpenAPI schema at /api/v1/openapi.json and
docs at /api/v1/docs (when ``settings.API_DOCS`` is on: the demo, not production by default).
Each app contributes a ``router`` from its ``api.py``.

Authentication: a browser session (with CSRF) or a device token ``Authorization: Bearer <key>``.
Errors: every refusal is a 4xx JSON body ``{"detail": "<message in Chinese>"}``: 400 bad input
(or a body that is not JSON), 401 not signed in, 403 not allowed, 404 not found or out of scope,
409 not in this state, 422 a parameter of the wrong type or out of its bounds; a 500 is
``{"detail": "服务器内部错误，请稍后再试"}`` too (chuangwen/errors.py).
"""

import functools

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.security import HttpBearer, SessionAuth

from appeals.api import router as appeals_router
from assessment.api import router as assessment_router
from cases.api import router as cases_router
from dashboards.api import router as dashboards_router
from indicators.api import router as indicators_router
from inspections.api import router as inspections_router
from materials.api import router as materials_router
from notices.api import router as notices_router
from org.api import router as org_router
from org.errors import ActionRefused
from org.models import ApiToken
from streets.api import router as streets_router
from volunteers.api import router as volunteers_router


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


def docs_setting(view):
    """The docs and the schema answer only when ``settings.API_DOCS`` is on (off by default in
    production); checked per request, so the setting needs no URL reload."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not settings.API_DOCS:
            raise Http404
        return view(request, *args, **kwargs)

    return guarded


api = NinjaAPI(
    title="创文 Chuangwen API",
    version="1",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
    docs_decorator=docs_setting,
)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return "；".join(f"{k}: {'，'.join(v)}" for k, v in exc.message_dict.items())
        return "；".join(exc.messages)
    return str(exc) or exc.__class__.__name__


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return api.create_response(request, {"detail": _message(exc) or "无权执行此操作"}, status=403)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"detail": "对象不存在或不在您的权限范围内"}, status=404)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    return api.create_response(request, {"detail": _message(exc)}, status=400)


@api.exception_handler(ActionRefused)
def on_action_refused(request, exc):
    return api.create_response(request, {"detail": _message(exc)}, status=409)


@api.exception_handler(SchemaError)
def on_schema_error(request, exc):
    """Pydantic's list of English errors → one Chinese sentence naming the parameters."""
    return api.create_response(request, {"detail": schema_message(exc.errors)}, status=422)


HTTP_MESSAGES = {
    400: "请求内容无法解析，应为有效的 JSON",
    401: "未登录或令牌无效",
    403: "无权执行此操作（如使用浏览器会话，请附带 CSRF 令牌）",
    405: "不支持该请求方法",
    429: "请求过于频繁，请稍后再试",
}


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    """django-ninja's own refusals (authentication, CSRF, body parsing) in Chinese."""
    status = 401 if isinstance(exc, AuthenticationError) else exc.status_code
    return api.create_response(request, {"detail": HTTP_MESSAGES.get(status, "请求无效")}, status=status)


# Pydantic error types → Chinese, with the bound from the error's context where there is one.
SCHEMA_MESSAGES = {
    "missing": "为必填项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "datetime_type": "应为日期时间（ISO 8601）",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "不是有效的 JSON",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "string_too_long": "不能超过 {max_length} 字",
    "string_too_short": "至少 {min_length} 字",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
}
WHERE = {"query", "body", "path", "form", "file", "header", "cookie", "payload"}


def schema_message(items: list[dict]) -> str:
    parts = []
    for item in items:
        loc = [str(x) for x in item.get("loc", ()) if str(x) not in WHERE]
        template = SCHEMA_MESSAGES.get(item.get("type", ""), "取值无效")
        try:
            text = template.format(**(item.get("ctx") or {}))
        except (KeyError, IndexError):
            text = "取值无效"
        parts.append(f"{'.'.join(loc)} {text}" if loc else text)
    return "参数无效：" + "；".join(dict.fromkeys(parts))


api.add_router("/org/", org_router)
api.add_router("/cases/", cases_router)
api.add_router("/appeals/", appeals_router)
api.add_router("/indicators/", indicators_router)
api.add_router("/materials/", materials_router)
api.add_router("/inspections/", inspections_router)
api.add_router("/assessment/", assessment_router)
api.add_router("/volunteers/", volunteers_router)
api.add_router("/notices/", notices_router)
api.add_router("/streets/", streets_router)
api.add_router("/dashboards/", dashboards_router)
