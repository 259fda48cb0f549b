"""One error contract per interface (错误响应), in Chinese:

- the JSON API under /api/: ``{"detail": "<中文>"}`` with the status;
- Open311 under /open311/: the GeoReport v2 error list, in the format the path asks for;
- pages: the Chinese templates 400.html, 403.html, 404.html and 500.html.

``error_response`` picks the form by path; Django's handler400/403/404/500 (chuangwen/urls.py)
and the request middleware use it, so a production server (DEBUG=0) never shows Django's English
default pages, nor HTML to an API or Open311 client.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from appeals.georeport import Open311Error, render_error

API_PREFIX = "/api/"
OPEN311_PREFIX = "/open311/"

MESSAGES = {
    400: "请求无效",
    403: "无权执行此操作",
    404: "对象不存在或不在您的权限范围内",
    405: "不支持该请求方法",
    500: "服务器内部错误，请稍后再试",
    503: "数据库暂时不可用，请稍后重试（本次提交未保存）",
}
# Seconds a client is asked to wait before retrying while the database is unreachable.
RETRY_AFTER = 5

logger = logging.getLogger(__name__)


def error_response(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    """The error answer of the interface the request went to."""
    message = message or MESSAGES.get(status, "请求失败")
    path = request.path_info or "/"
    if path.startswith(API_PREFIX):
        return JsonResponse({"detail": message}, status=status)
    if path.startswith(OPEN311_PREFIX):
        fmt = "xml" if path.endswith(".xml") else "json"
        return render_error(Open311Error(status, message), fmt)
    known = (400, 403, 404, 500)
    template = loader.get_template(
        f"{status}.html" if status in known else "500.html" if status > 500 else "400.html"
    )
    # Rendered with the request only below 500: a 500 page must not depend on the database.
    body = template.render({"message": message, "status": status}, request if status < 500 else None)
    return HttpResponse(body, status=status)


def bad_request(request, exception=None):
    return error_response(request, 400, _detail(exception, 400))


def permission_denied(request, exception=None):
    return error_response(request, 403, _detail(exception, 403))


def page_not_found(request, exception=None):
    return error_response(request, 404)


def server_error(request):
    """handler500, called while the exception is being handled. The database unreachable (a
    restart, a fail-over, a dropped connection) is a 503 with Retry-After: the step's transaction
    did not commit, so the client may safely send it again; anything else is a 500."""
    return server_error_for(sys.exc_info()[1], request)


def server_error_for(exc: BaseException | None, request: HttpRequest) -> HttpResponse:
    """The answer to a request that failed with ``exc``: 503 for the database, else 500."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, exc)
        response = error_response(request, 503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    return error_response(request, 500)


def _detail(exception, status: int) -> str:
    """A refusal's own message when it is Chinese text meant for people, else the default."""
    text = str(exception or "")
    if text and any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    return MESSAGES[status]


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: an expired or missing CSRF token, in the interface's own form."""
    if (request.path_info or "").startswith((API_PREFIX, OPEN311_PREFIX)):
        return error_response(request, 403, "请求缺少有效的 CSRF 令牌")
    return error_response(request, 403, "页面已过期或请求来源无法验证，请刷新页面后重试。")
