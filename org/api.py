from ninja import Field, Router, Schema
from ninja.pagination import paginate

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
