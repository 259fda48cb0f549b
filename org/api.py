from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from . import services
from .audit import Actor
from .models import ApiToken
from .scope import scope_for

router = Router(tags=["组织 org"])


class MembershipOut(Schema):
    unit_id: int
    unit_name: str = Field(alias="unit.name")
    role: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    everything: bool
    roles: list[str]
    memberships: list[MembershipOut]


class RegionOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    lat: float | None
    lng: float | None


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    region_id: int


@router.get("/me", response=MeOut)
def me(request):
    scope = scope_for(request.user)
    return {
        "id": request.user.pk,
        "username": request.user.username,
        "display_name": request.user.display_name,
        "everything": scope.everything,
        "roles": sorted(scope.roles),
        "memberships": list(request.user.memberships.select_related("unit")),
    }


@router.get("/regions", response=list[RegionOut])
@paginate
def regions(request, level: str | None = None, parent_id: int | None = None):
    qs = scope_for(request.user).regions()
    if level:
        qs = qs.filter(level=level)
    if parent_id:
        qs = qs.filter(parent_id=parent_id)
    return qs.order_by("path")


@router.get("/units", response=list[UnitOut])
@paginate
def units(request, kind: str | None = None, q: str | None = None):
    qs = scope_for(request.user).units()
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__contains=q)
    return qs.order_by("code")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    username: str = Field(alias="user.username")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIn(Schema):
    name: str
    days: int = ApiToken.DEFAULT_LIFETIME_DAYS


class NewTokenOut(Schema):
    token: TokenOut
    key: str


@router.get("/tokens", response=list[TokenOut])
def tokens(request):
    """Your device tokens (HQ admins: everyone's), newest first."""
    return services.tokens_visible_to(request.user).order_by("-created_at")[:500]


@router.post("/tokens", response={201: NewTokenOut})
def issue_token(request, body: TokenIn):
    """A new device token for yourself. The key is in this answer only; keep it."""
    token, key = services.issue_token(
        Actor.from_request(request, via="api"), request.user, body.name, body.days
    )
    return Status(201, {"token": token, "key": key})


@router.post("/tokens/{token_id}/revoke", response=TokenOut)
def revoke_token(request, token_id: int):
    """Revoke a token (your own; HQ admins any): the next request with its key gets 401."""
    token = get_object_or_404(services.tokens_visible_to(request.user), pk=token_id)
    return services.revoke_token(Actor.from_request(request, via="api"), token)
