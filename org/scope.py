"""Scope rules in one place: what a signed-in person may see and act on.

- HQ admins, dispatchers and inspectors work district-wide: everything.
- A handler or report clerk works for their unit: they see the unit's own work and, when the
  unit is territorial (street office, township government, community or village committee),
  everything located in the unit's region subtree, plus what the unit contracts (包保).
- A grid worker (collector) sees their grids, a street chief their street segments: holding
  such a field role in a community committee does not open the committee's whole territory.
- A leader sees the regions and sites they contract in an active contract (and the units
  located there); a volunteer sees no organisation data through the scope.

Every list and every object fetch goes through ``scope_for(user).filter(...)`` or ``.allows(...)``.
"""

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from .compiled import compiled
from .models import MEMBERSHIP_VALUES, Contract, Membership, Region, Role, Unit, User

DISTRICT_WIDE_ROLES = frozenset({Role.HQ_ADMIN, Role.DISPATCHER, Role.INSPECTOR})
# Roles that act for their unit as a whole, so the membership opens the unit's work and territory.
UNIT_WORK_ROLES = frozenset({Role.HANDLER, Role.REPORT_CLERK})


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    roles: frozenset[str] = frozenset()
    unit_ids: frozenset[int] = frozenset()
    region_paths: tuple[str, ...] = ()
    site_ids: frozenset[int] = frozenset()
    grid_ids: frozenset[int] = frozenset()
    segment_ids: frozenset[int] = frozenset()
    # roles per unit, for "may this person act for that unit in that role"
    unit_roles: dict[int, frozenset[str]] = field(default_factory=dict)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def acts_for(self, unit_id: int | None, *roles: str) -> bool:
        """True when the person holds one of ``roles`` in that very unit."""
        return unit_id is not None and bool(self.unit_roles.get(unit_id, frozenset()).intersection(roles))

    def filter(
        self,
        qs: QuerySet,
        *,
        unit: str | None = "unit",
        region: str | None = "region",
        site: str | None = None,
        grid: str | None = None,
        segment: str | None = None,
        extra: Q | None = None,
    ) -> QuerySet:
        """Limit ``qs`` to this scope. Name the lookups that lead from the model to unit, region,
        site, grid and street segment; ``extra`` adds a condition of the caller's own (e.g. "I reported it")."""
        if self.everything:
            return qs
        conditions: list[Q] = []
        if unit and self.unit_ids:
            conditions.append(Q(**{f"{unit}__in": self.unit_ids}))
        if region:
            conditions.extend(Q(**{f"{region}__path__startswith": path}) for path in self.region_paths)
        if site and self.site_ids:
            conditions.append(Q(**{f"{site}__in": self.site_ids}))
        if grid and self.grid_ids:
            conditions.append(Q(**{f"{grid}__in": self.grid_ids}))
        if segment and self.segment_ids:
            conditions.append(Q(**{f"{segment}__in": self.segment_ids}))
        if extra is not None:
            conditions.append(extra)
        if not conditions:
            return qs.none()
        # Every lookup named here is a forward foreign key, so OR-ing them cannot duplicate rows.
        return qs.filter(reduce(or_, conditions))

    def allows_unit(self, unit_id: int | None) -> bool:
        return self.everything or (unit_id is not None and unit_id in self.unit_ids)

    def allows_region(self, region: Region | None) -> bool:
        if self.everything:
            return True
        return region is not None and any(region.path.startswith(p) for p in self.region_paths)

    def units(self) -> QuerySet[Unit]:
        return self.filter(Unit.objects.all(), unit="pk", region="region")

    def regions(self) -> QuerySet[Region]:
        if self.everything:
            return Region.objects.all()
        if not self.region_paths:
            return Region.objects.none()
        return Region.objects.filter(reduce(or_, (Q(path__startswith=p) for p in self.region_paths)))


EMPTY = Scope()


def _minimal_paths(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path, so filters stay short."""
    kept: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return tuple(sorted(kept))


# A person's roles, the units they hold them in and those units' kind and territory: asked on every
# request that checks a permission, so compiled once per process (``org.compiled``); the marker is
# a user id no person has.
_MEMBERSHIP_MARKS = [-7_310_011]


def _memberships(marks: list) -> QuerySet:
    return Membership.objects.filter(user_id=marks[0]).values(*MEMBERSHIP_VALUES)


def compute_scope(user: User) -> Scope:
    if not user.is_authenticated or not user.is_active:
        return EMPTY
    # Read with the person's API token when they came with one (``ApiToken.authenticate``).
    memberships = getattr(user, "_chuangwen_memberships", None)
    if memberships is None:
        memberships = compiled(("org.scope.memberships",), _memberships, _MEMBERSHIP_MARKS).rows([user.pk])
    roles = frozenset(m["role"] for m in memberships)
    unit_roles: dict[int, set[str]] = {}
    for m in memberships:
        unit_roles.setdefault(m["unit_id"], set()).add(m["role"])
    frozen_roles = {k: frozenset(v) for k, v in unit_roles.items()}
    if user.is_superuser or roles & DISTRICT_WIDE_ROLES:
        return Scope(everything=True, roles=roles, unit_ids=frozenset(unit_roles), unit_roles=frozen_roles)

    working = [m for m in memberships if m["role"] in UNIT_WORK_ROLES]
    unit_ids = {m["unit_id"] for m in working}
    paths = {m["unit__region__path"] for m in working if m["unit__kind"] in Unit.TERRITORIAL_KINDS}
    contracts = Contract.objects.active().filter(Q(leader=user) | Q(unit_id__in=unit_ids))
    site_ids: set[int] = set()
    for contract in contracts.select_related("region"):
        if contract.region is not None:
            paths.add(contract.region.path)
        if contract.site_id is not None:
            site_ids.add(contract.site_id)
    grid_ids = set(user.grids.values_list("id", flat=True))
    segment_ids = set(user.segments.values_list("id", flat=True))
    return Scope(
        everything=False,
        roles=roles,
        unit_ids=frozenset(unit_ids),
        region_paths=_minimal_paths(paths),
        site_ids=frozenset(site_ids),
        grid_ids=frozenset(grid_ids),
        segment_ids=frozenset(segment_ids),
        unit_roles=frozen_roles,
    )


def scope_for(user) -> Scope:
    """The scope of ``user``, computed once per request (cached on the user object)."""
    cached = getattr(user, "_chuangwen_scope", None)
    if cached is None:
        cached = compute_scope(user)
        if user.is_authenticated:
            user._chuangwen_scope = cached
    return cached


def require_role(user, *roles: str) -> Scope:
    """The user's scope, or PermissionDenied when they hold none of ``roles``."""
    from django.core.exceptions import PermissionDenied

    scope = scope_for(user)
    if not (user.is_superuser or scope.has_role(*roles)):
        raise PermissionDenied("您没有执行此操作的角色")
    return scope
