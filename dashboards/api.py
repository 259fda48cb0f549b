"""Dashboards JSON API under /api/v1/dashboards/: the dashboard's charts (HQ and leaders, each
within their scope) and the command-centre screen's figures (a display token, or HQ and the
dispatchers signed in). A display token is accepted here and nowhere else."""

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer, SessionAuth

from . import services, stored
from .models import DisplayToken

router = Router(tags=["看板 dashboards"])


class PointOut(Schema):
    value: float | None
    url: str


class SeriesOut(Schema):
    name: str
    data: list[PointOut]
    kind: str
    stack: str
    unit: str


class ChartOut(Schema):
    key: str
    title: str
    categories: list[str]
    series: list[SeriesOut]
    horizontal: bool
    note: str


class DashboardOut(Schema):
    at: dt.datetime
    scope: str
    charts: list[ChartOut]


class HeadlineOut(Schema):
    received_today: int
    closed_today: int
    open: int
    overdue: int
    unplaced: int
    late_tasks: int


class AreaOut(Schema):
    name: str
    lat: float | None
    lng: float | None
    # The street's or township's outline, a closed ring of [lng, lat] (GeoJSON order), if drawn.
    boundary: list[list[float]] | None = None
    open: int
    overdue: int


class UnitRankOut(Schema):
    name: str
    overdue: int


class WarningOut(Schema):
    number: str
    category: str
    area: str
    hours: int


class ScreenOut(Schema):
    at: dt.datetime
    headline: HeadlineOut
    areas: list[AreaOut]
    unit_ranking: list[UnitRankOut]
    warnings: list[WarningOut]
    weekly: ChartOut


class DisplayAuth(HttpBearer):
    """``Authorization: Bearer <display key>``: the screen's JSON only (never signs anyone in)."""

    def authenticate(self, request: HttpRequest, token: str) -> DisplayToken | None:
        return services.display_for_key(token)


@router.get(
    "/charts", response=DashboardOut, url_name="dashboards_charts", summary="数据看板的图表（本人权限范围）"
)
def charts(request):
    scope = services.check_view_dashboard(request.user)
    return stored.cached_dashboard(request.user, scope)


@router.get(
    "/screen",
    response=ScreenOut,
    auth=[DisplayAuth(), SessionAuth()],
    url_name="dashboards_screen",
    summary="指挥中心大屏的数据（大屏令牌或创文办、指挥中心登录）",
)
def screen(request):
    if not isinstance(request.auth, DisplayToken):
        services.check_view_screen(request.user)
    return stored.cached_screen()
