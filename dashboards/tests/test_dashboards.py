"""The dashboard 数据看板 and the command-centre screen 指挥中心大屏 on the demo world: every data
point opens the list behind it and that list has as many rows as the point says; leaders see
their scope only; the JSON stays within its query budget; a display token reads the screen and
nothing else."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from cases.models import Case
from dashboards.models import DisplayToken
from org.models import AuditLog, Region, User
from org.scope import scope_for

CHARTS = "/api/v1/dashboards/charts"
SCREEN = "/api/v1/dashboards/screen"
# The dashboard's JSON of the busiest person (HQ), its figures stored: session, scope, the
# weekly, backlog, category and area aggregates, six stored months, the tasks, six months of appeals,
# six months of inspections (one query), last month's material ranking (submissions, cards, scope).
CHARTS_QUERY_BUDGET = 49 + 6  # + reading, claiming and keeping the copy (the database cache)
SCREEN_QUERY_BUDGET = 15 + 11  # + reading, claiming and keeping the copy (the database cache)


def login(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username), backend=settings.AUTHENTICATION_BACKENDS[-1])
    return client


def rows_listed(response) -> int:
    page = response.context["page"]
    return page.paginator.count if hasattr(page, "paginator") else page.count


def points(body: dict):
    for chart in body["charts"]:
        for series in chart["series"]:
            for point in series["data"]:
                yield chart, series, point


@pytest.mark.parametrize("username", ["hq", "leader"])
def test_each_data_point_opens_the_list_with_as_many_rows(demo_world, db, username):
    client = login(username)
    response = client.get(CHARTS)
    assert response.status_code == 200
    body = response.json()
    keys = {c["key"] for c in body["charts"]}
    assert {"weekly", "on_time", "backlog", "categories", "areas", "tasks", "task_units", "appeals"} <= keys
    assert {"inspections", "materials"} <= keys
    checked = 0
    for chart, series, point in points(body):
        assert point["url"], (chart["key"], series["name"])
        opened = client.get(point["url"])
        assert opened.status_code == 200, point["url"]
        if series["unit"] in ("件", "次"):
            assert rows_listed(opened) == point["value"], (chart["key"], series["name"], point["url"])
            checked += 1
    assert checked > 20


def test_the_material_bars_are_the_months_ranking_of_the_units_they_open(demo_world, db):
    from materials import figures as material_figures

    client = login("hq")
    chart = next(c for c in client.get(CHARTS).json()["charts"] if c["key"] == "materials")
    assert chart["series"][0]["data"], "the demo has last month's submissions"
    for point in chart["series"][0]["data"]:
        month, unit = re.search(r"month=(\d{4}-\d{2})&unit=(\d+)", point["url"]).groups()
        opened = client.get(point["url"])
        units = {sub.unit_id for sub in opened.context["page"]}
        assert units == {int(unit)}
        (row,) = [
            r for r in material_figures.monthly(dt.date.fromisoformat(month + "-01")) if r.key == int(unit)
        ]
        assert point["value"] == round(float(row.score * 100 / row.points), 2)
    values = [p["value"] for p in chart["series"][0]["data"]]
    assert values == sorted(values)  # the lowest first


def test_the_on_time_rate_is_the_stored_metric_of_the_list_it_opens(demo_world, db):
    client = login("hq")
    chart = next(c for c in client.get(CHARTS).json()["charts"] if c["key"] == "on_time")
    point = chart["series"][0]["data"][-1]
    month = re.search(r"month=(\d{4}-\d{2})", point["url"]).group(1)
    metrics = client.get(f"/cases/metrics/?month={month}")
    figure = next(f for f in metrics.context["figures"] if f.key == "handle_on_time_rate")
    assert point["value"] == figure.percent
    # 应处置 counts case parts; the list behind it shows their cases, each once.
    assert 0 < rows_listed(client.get(point["url"])) <= figure.denominator


def test_a_leader_sees_only_the_contracted_areas(demo_world, db):
    hq = login("hq").get(CHARTS).json()
    leader = login("leader").get(CHARTS).json()
    assert hq["scope"] == "全区" and leader["scope"] == "包保区域"

    def backlog(body):
        chart = next(c for c in body["charts"] if c["key"] == "backlog")
        return sum(p["value"] for p in chart["series"][0]["data"])

    leader_user = User.objects.get(username="leader")
    assert backlog(leader) == Case.objects.visible_to(leader_user).open().count()
    assert backlog(leader) < backlog(hq) == Case.objects.open().count()
    areas = next(c for c in leader["charts"] if c["key"] == "areas")
    assert set(areas["categories"]) <= {r.name for r in scope_for(leader_user).regions()}


@pytest.mark.parametrize("username", ["dispatcher", "handler", "collector", "volunteer"])
def test_other_roles_are_refused(demo_world, db, username):
    client = login(username)
    assert client.get(CHARTS).status_code == 403
    assert client.get("/dashboards/").status_code == 403
    assert Client().get(CHARTS).status_code == 401


def test_the_dashboard_page_loads_its_charts_from_the_api(demo_world, db):
    body = login("leader").get("/dashboards/").content.decode()
    assert f'data-source="{CHARTS}"' in body
    assert "vendor/echarts/echarts.min.js" in body
    assert 'role="status" aria-live="polite"' in body


@pytest.mark.parametrize("username", ["hq", "leader"])
def test_the_dashboard_json_stays_within_its_query_budget(
    demo_world, db, username, django_assert_max_num_queries
):
    client = login(username)
    client.get(CHARTS)  # the first request may compute and store the months' figures
    cache.clear()  # the answer is kept for a minute: count a computation, not a cache hit
    with django_assert_max_num_queries(CHARTS_QUERY_BUDGET):
        assert client.get(CHARTS).status_code == 200
    # Within the minute: session, user, the scope (memberships; a leader's contracts, grids and
    # street segments) and the cache.
    with django_assert_max_num_queries(8):
        assert client.get(CHARTS).status_code == 200


def test_the_screen_json_stays_within_its_query_budget(demo_world, db, django_assert_max_num_queries):
    client = login("dispatcher")
    cache.clear()  # count a computation (and keeping its copy), not a kept copy
    with django_assert_max_num_queries(SCREEN_QUERY_BUDGET):
        response = client.get(SCREEN)
    assert response.status_code == 200
    # Within the minute: session, user, the scope and the cache.
    with django_assert_max_num_queries(6):
        assert client.get(SCREEN).json() == response.json()
    body = response.json()
    assert body["headline"]["open"] == Case.objects.open().count()
    assert body["headline"]["overdue"] == Case.objects.overdue().count()
    assert sum(a["open"] for a in body["areas"]) + body["headline"]["unplaced"] == body["headline"]["open"]
    # Each street or township comes with its outline for the map, as stored on the region.
    outlines = dict(
        Region.objects.filter(name__in=[a["name"] for a in body["areas"]]).values_list("name", "boundary")
    )
    assert body["areas"] and all(
        a["boundary"] and a["boundary"] == outlines[a["name"]] for a in body["areas"]
    )


def create_display(client: Client, name: str = "指挥中心主屏") -> str:
    response = client.post("/dashboards/displays/", {"name": name})
    assert response.status_code == 200
    url = re.search(r'<code class="key">([^<]+)</code>', response.content.decode()).group(1)
    assert "/dashboards/screen/#token=" in url
    return url.split("#token=", 1)[1]


def test_a_display_token_reads_the_screen_and_nothing_else(demo_world, db):
    key = create_display(login("hq"))
    token = DisplayToken.objects.get(prefix=key[:8])
    assert token.key_hash != key and AuditLog.objects.filter(action="dashboards.display.issue").exists()
    wall = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    # The screen: its page needs no login and its JSON answers to the token.
    assert wall.get("/dashboards/screen/").status_code == 200
    assert wall.get(SCREEN, **bearer).status_code == 200
    # Anywhere else the token is no credential at all.
    for url in (CHARTS, "/api/v1/cases/cases", "/api/v1/org/me", "/api/v1/appeals/", "/api/v1/cases/map"):
        assert wall.get(url, **bearer).status_code == 401, url
    for url in ("/", "/dashboards/", "/cases/", "/dashboards/displays/", "/admin/"):
        for response in (wall.get(url, **bearer), wall.get(f"{url}?token={key}")):
            assert response.status_code == 302, url
            assert "login" in response["Location"], url
    assert wall.get(SCREEN, HTTP_AUTHORIZATION="Bearer not-a-key").status_code == 401
    assert wall.get(SCREEN).status_code == 401


def test_hq_revokes_a_display_token_and_the_screen_stops(demo_world, db):
    hq = login("hq")
    key = create_display(hq, "会议室屏")
    token = DisplayToken.objects.get(prefix=key[:8])
    response = hq.post(f"/dashboards/displays/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by.username == "hq"
    assert AuditLog.objects.filter(action="dashboards.display.revoke", object_id=str(token.pk)).exists()
    assert Client().get(SCREEN, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


@pytest.mark.parametrize("username", ["dispatcher", "leader", "handler"])
def test_only_hq_manages_display_tokens(demo_world, db, username):
    client = login(username)
    assert client.get("/dashboards/displays/").status_code == 403
    assert client.post("/dashboards/displays/", {"name": "x"}).status_code == 403
    assert not DisplayToken.objects.filter(name="x").exists()


def test_a_display_token_needs_a_name(demo_world, db):
    response = login("hq").post("/dashboards/displays/", {"name": "  "})
    assert "请填写大屏名称" in response.content.decode()
    assert not DisplayToken.objects.exists()
