"""Who is who in volunteer services, and what each person sees.

- HQ admins 创文办 (and superusers) see and configure everything (points rules, adjustments).
- Station staff: the managers of a station see its orders, teams, volunteers and shop pick-ups, and
  those of the stations below it; the centre's managers therefore see the district.
- A team leader 队长 (a volunteer with ``TeamMember.is_leader``) sees their teams' orders,
  activities and members.
- A volunteer sees their own records (the orders and activities they are on, hours, points).
"""

from django.db.models import Q, QuerySet

from org.models import Role
from org.scope import scope_for

from .models import Activity, Attendance, Order, Station, Team, TeamMember, Volunteer


def is_hq(user) -> bool:
    return bool(user and user.is_authenticated) and (
        user.is_superuser or scope_for(user).has_role(Role.HQ_ADMIN)
    )


def managed_station_ids(user) -> set[int] | None:
    """The stations the person manages with those below them; None means every station (HQ)."""
    if not (user and user.is_authenticated):
        return set()
    if is_hq(user):
        return None
    cached = getattr(user, "_volunteer_stations", None)
    if cached is not None:
        return cached
    ids = set(Station.objects.filter(managers=user).values_list("pk", flat=True))
    frontier = ids
    while frontier:
        frontier = set(Station.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    user._volunteer_stations = ids
    return ids


def is_staff(user) -> bool:
    ids = managed_station_ids(user)
    return ids is None or bool(ids)


def manages_station(user, station_id: int | None) -> bool:
    ids = managed_station_ids(user)
    return ids is None or (station_id is not None and station_id in ids)


def volunteer_of(user) -> Volunteer | None:
    if not (user and user.is_authenticated):
        return None
    return Volunteer.objects.filter(user=user, is_active=True).first()


def led_team_ids(user) -> set[int]:
    if not (user and user.is_authenticated):
        return set()
    return set(
        TeamMember.objects.filter(
            volunteer__user=user, volunteer__is_active=True, is_leader=True
        ).values_list("team_id", flat=True)
    )


def leads(user, team_id: int | None) -> bool:
    return team_id is not None and team_id in led_team_ids(user)


def _station_filter(ids: set[int] | None, lookup: str) -> Q | None:
    if ids is None:
        return None
    return Q(**{f"{lookup}__in": ids})


def orders_for(user) -> QuerySet[Order]:
    qs = Order.objects.select_related("service", "station", "team")
    stations = managed_station_ids(user)
    if stations is None:
        return qs
    condition = Q(station_id__in=stations) | Q(team_id__in=led_team_ids(user))
    volunteer = volunteer_of(user)
    if volunteer is not None:
        condition |= Q(
            pk__in=Attendance.objects.filter(volunteer=volunteer, order__isnull=False).values("order_id")
        )
    return qs.filter(condition)


def teams_for(user) -> QuerySet[Team]:
    qs = Team.objects.select_related("station", "organisation")
    stations = managed_station_ids(user)
    if stations is None:
        return qs
    return qs.filter(Q(station_id__in=stations) | Q(pk__in=led_team_ids(user)))


def volunteers_for(user) -> QuerySet[Volunteer]:
    """Staff see the volunteers of their stations' teams; leaders their members."""
    qs = Volunteer.objects.all()
    stations = managed_station_ids(user)
    if stations is None:
        return qs
    teams = Team.objects.filter(Q(station_id__in=stations) | Q(pk__in=led_team_ids(user)))
    return qs.filter(pk__in=TeamMember.objects.filter(team__in=teams).values("volunteer_id"))


def activities_for(user) -> QuerySet[Activity]:
    """Published activities are open to every signed-in person (volunteers enrol from the list)."""
    if not (user and user.is_authenticated):
        return Activity.objects.none()
    return Activity.objects.select_related("team__station")
