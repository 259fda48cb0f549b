"""Factories for volunteer-service test data."""

import itertools

from org.models import User
from volunteers.models import Station, Team, TeamMember, Volunteer
from volunteers.privacy import _ID_CHECK, _ID_WEIGHTS

_numbers = itertools.count(1)


def id_number(serial: int, birth: str = "19900101", area: str = "511902") -> str:
    """A valid 18-character ID number (GB 11643 check character) for ``serial``."""
    body = f"{area}{birth}{serial % 1000:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def station(code: str, kind: str, region, parent: Station | None = None, managers=()) -> Station:
    obj = Station.objects.create(code=code, name=f"{code}实践阵地", kind=kind, region=region, parent=parent)
    obj.managers.set(managers)
    return obj


def volunteer(team: Team | None = None, *, leader: bool = False, user: User | None = None, login: bool = True,
              **kwargs) -> Volunteer:  # fmt: skip
    n = next(_numbers)
    if user is None and login:
        user = User.objects.create(username=kwargs.pop("username", f"vol{n}"))
    defaults = {
        "number": f"V{n:06d}",
        "name": f"志愿者{n}",
        "id_number": id_number(n),
        "phone": f"139{n:08d}",
    }
    obj = Volunteer.objects.create(user=user, **{**defaults, **kwargs})
    if team is not None:
        TeamMember.objects.create(team=team, volunteer=obj, is_leader=leader)
    return obj
