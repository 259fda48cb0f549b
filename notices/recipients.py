"""Who to tell, from the organisation: a unit's people in given roles, its leader (单位负责人, set
in the unit's notice settings), the leaders contracting a place (包保领导). The apps that own a
record choose among these and check each person against the record's scope."""

from collections.abc import Iterable

from org.models import Contract, Membership, Region, User

from .models import UnitPreference


def members(unit_ids: Iterable[int], *roles: str) -> dict[int, list[User]]:
    """The active people holding one of ``roles`` in each unit, by unit id (one query)."""
    result: dict[int, list[User]] = {}
    rows = Membership.objects.filter(unit_id__in=set(unit_ids), role__in=roles, user__is_active=True)
    for m in rows.select_related("user").order_by("unit_id", "user_id"):
        people = result.setdefault(m.unit_id, [])
        if m.user not in people:
            people.append(m.user)
    return result


def unit_leaders(unit_ids: Iterable[int]) -> dict[int, User]:
    """Each unit's leader 单位负责人, where the unit's notice settings name one."""
    prefs = UnitPreference.objects.filter(unit_id__in=set(unit_ids), leader__is_active=True)
    return {p.unit_id: p.leader for p in prefs.select_related("leader") if p.leader is not None}


def contracting_leaders(region: Region | None) -> list[User]:
    """The leaders with an active contract for ``region`` or a region above it."""
    if region is None:
        return []
    paths = [p for p in _ancestor_paths(region.path)]
    contracts = Contract.objects.active().filter(leader__is_active=True, region__path__in=paths)
    return list(User.objects.filter(pk__in=contracts.values("leader_id")).order_by("pk"))


def _ancestor_paths(path: str) -> list[str]:
    codes = path.strip("/").split("/")
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def members_with_role(*roles: str) -> list[User]:
    """The active people holding one of ``roles`` in any unit (e.g. the district's dispatchers)."""
    people = Membership.objects.filter(role__in=roles, user__is_active=True).values("user_id")
    return list(User.objects.filter(pk__in=people).order_by("pk"))
