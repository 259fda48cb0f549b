"""The JSON API, versioned under /api/v1/, with its OpenAPI schema at /api/v1/openapi.json and
docs at /api/v1/docs. Each app contributes a ``router`` from its ``api.py``.

Authentication: a browser session (with CSRF) or a device token ``Authorization: Bearer <key>``.
Errors: every refusal is a 4xx JSON body ``{"detail": "<message in Chinese>"}``.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from appeals.api import router as appeals_router
from cases.api import router as cases_router
from indicators.api import router as indicators_router
from inspections.api import router as inspections_router
from materials.api import router as materials_router
from notices.api import router as notices_router
from org.api import router as org_router
from org.errors import ActionRefused
from org.models import ApiToken
from volunteers.api import router as volunteers_router


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="创文 Chuangwen API",
    version="1",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
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


api.add_router("/org/", org_router)
api.add_router("/cases/", cases_router)
api.add_router("/appeals/", appeals_router)
api.add_router("/indicators/", indicators_router)
api.add_router("/materials/", materials_router)
api.add_router("/inspections/", inspections_router)
api.add_router("/volunteers/", volunteers_router)
api.add_router("/notices/", notices_router)
