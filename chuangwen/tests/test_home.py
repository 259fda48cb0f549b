"""The home page's counts 首页待办数: for every demo login, each count equals the number of rows
of the list its link opens, and the home page stays within its query budget."""

import re

import pytest
from django.conf import settings
from django.test import Client

from org.demo import DEMO_LOGINS
from org.models import User

ROLES = [login[0] for login in DEMO_LOGINS]
# The home page of the busiest person (HQ): session, memberships, scope, each app's counts.
HOME_QUERY_BUDGET = 40


def login(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username), backend=settings.AUTHENTICATION_BACKENDS[-1])
    return client


def rows_listed(response) -> int:
    """The number of rows the list page shows in all its pages."""
    context = response.context
    if "pending" in context:  # 今日督查: the sites still to inspect today
        return context["pending"].count()
    if "earlier" in context:  # 本月网报: the open submissions of this month and earlier months
        return sum(1 for sub, _missing, _left in [*context["rows"], *context["earlier"]] if sub.is_open)
    page = context["page"]
    return page.paginator.count if hasattr(page, "paginator") else page.count


@pytest.mark.parametrize("username", ROLES)
def test_each_count_equals_the_rows_of_the_list_it_opens(demo_world, db, username):
    client = login(username)
    response = client.get("/")
    assert response.status_code == 200
    counts = response.context["counts"]
    for count in counts:
        opened = client.get(count.url)
        assert opened.status_code == 200, count
        if count.text:  # a rate: the figure the metrics page shows
            figure = next(f for f in opened.context["figures"] if f.key == "close_rate")
            assert count.n == figure.denominator
            assert count.text == ("无数据" if figure.percent is None else f"{figure.percent:g}%")
        else:
            assert count.n == rows_listed(opened), (
                f"{username}: {count.label} {count.n} ≠ list at {count.url}"
            )
        assert f'href="{count.url.replace("&", "&amp;")}"' in response.content.decode()


EXPECTED = {
    "hq": {"待立案", "待派遣", "待核查", "延期待批", "未结案", "已超期案件", "本月结案率", "红色预警任务"},
    "dispatcher": {"待立案", "待派遣", "待核查", "延期待批"},
    "handler": {"待办案件", "已超期", "即将到期"},
    "collector": {"我上报的案件", "未结案"},
    "streetchief": {"我上报的案件", "未结案"},
    "leader": {"未结案", "已超期案件", "本月结案率"},
    "clerk": {"待报送网报资料"},
    "practice": {"待派单服务订单", "已超期服务订单"},
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_its_own_work_first(demo_world, db, username):
    labels = {c.label for c in login(username).get("/").context["counts"]}
    assert EXPECTED[username] <= labels


@pytest.mark.parametrize("username", ROLES)
def test_the_home_page_stays_within_its_query_budget(demo_world, db, username, django_assert_max_num_queries):
    client = login(username)
    client.get("/")  # the first visit may compute and store this month's figures
    with django_assert_max_num_queries(HOME_QUERY_BUDGET):
        assert client.get("/").status_code == 200


def test_the_menu_folds_by_group_and_keeps_tokens_under_the_user_menu(demo_world, db):
    body = login("dispatcher").get("/cases/queue/dispatch/").content.decode()
    # One toggle per group; the group of the page one is on starts unfolded.
    assert body.count('class="group-toggle"') >= 3
    opened = re.findall(
        r'class="group-toggle" checked><label for="menu-group-\d+" class="menu-group-label">(\w+)<', body
    )
    assert opened == ["案件"]
    user_menu = body[body.index('<details class="user-menu">') : body.index("</details>")]
    assert 'href="/org/tokens/"' in user_menu
    assert body.count("API 令牌") == 1
    assert '<a class="skip-link" href="#main">' in body and 'id="main"' in body
    assert 'role="status" aria-live="polite"' in body


def test_entries_a_role_cannot_use_are_not_in_its_menu(demo_world, db):
    body = login("volunteer").get("/").content.decode()
    assert "案件查询" not in body and "受理派遣" not in body
    assert "我的志愿服务" in body


def test_headline_rates_say_their_change_against_last_month(demo_world, db):
    """HQ's and a leader's 本月结案率 carries its change against last month's, in percentage points."""
    from cases.counts import change_text
    from cases.metrics import Figure

    for username in ("hq", "leader"):
        (headline,) = [c for c in login(username).get("/").context["counts"] if c.label == "本月结案率"]
        assert headline.change.startswith("较上月"), (username, headline)
        assert headline.change in login(username).get("/").content.decode()

    def rate(numerator, denominator):
        return Figure("close_rate", "结案率", numerator, denominator)

    assert change_text(rate(95, 100), rate(918, 1000)) == "较上月 +3.2 个百分点"
    assert change_text(rate(88, 100), rate(9, 10)) == "较上月 -2 个百分点"
    assert change_text(rate(90, 100), rate(9, 10)) == "较上月持平"
    assert change_text(rate(1, 2), rate(0, 0)) == ""
