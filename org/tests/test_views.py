"""The UI shell: home page per role, the phone menu, the 403 and 404 pages in Chinese."""

import pytest

from org.models import Region, Role, StreetSegment, Unit
from org.tests.factories import GridFactory, RegionFactory, UnitFactory, UserFactory, contract, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def committee():
    street = RegionFactory(code="S1", name="甲街道", level=Region.Level.STREET)
    community = RegionFactory(code="S1C1", name="甲社区", level=Region.Level.COMMUNITY, parent=street)
    return UnitFactory(code="C1", name="甲社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=community)


def test_home_shows_a_grid_worker_their_grids(client, committee):
    worker = member(committee, Role.COLLECTOR, username="gw")
    GridFactory(code="G1", name="甲社区第1网格", community=committee.region).workers.add(worker)
    GridFactory(code="G2", name="甲社区第2网格", community=committee.region)
    client.force_login(worker)
    body = client.get("/").content.decode()
    assert "信息采集员/网格员" in body
    assert "我的网格" in body and "甲社区第1网格" in body
    assert "甲社区第2网格" not in body
    assert "您的权限范围：1 个网格" in body


def test_home_shows_a_street_chief_their_segments(client, committee):
    chief = member(committee, Role.STREET_CHIEF, username="chief")
    StreetSegment.objects.create(code="L1", name="甲路", region=committee.region, chief=chief)
    client.force_login(chief)
    body = client.get("/").content.decode()
    assert "我负责的街巷" in body and "甲路" in body


def test_home_shows_a_handler_their_territory_and_a_leader_their_contracts(client, committee):
    handler = member(committee, Role.HANDLER, username="handler")
    client.force_login(handler)
    body = client.get("/").content.decode()
    assert "我的辖区" in body and "甲社区" in body
    leader = member(UnitFactory(code="HQ", kind=Unit.Kind.HQ), Role.LEADER, username="leader")
    contract(leader=leader, region=committee.region.parent)
    client.force_login(leader)
    body = client.get("/").content.decode()
    assert "我包保的区域和点位" in body and "甲街道" in body
    assert "我的辖区" not in body


def test_home_of_someone_without_a_role_says_so(client):
    client.force_login(UserFactory(username="new"))
    body = client.get("/").content.decode()
    assert "您还没有任何角色" in body
    assert "暂无分管的单位或区域" in body


def test_the_menu_collapses_behind_a_button_on_a_phone(client, committee):
    client.force_login(member(committee, Role.HANDLER, username="handler"))
    body = client.get("/").content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in body
    assert 'id="menu-toggle"' in body and 'class="menu-button"' in body
    assert 'href="/org/units/"' in body
    assert 'href="/org/import/"' not in body  # HQ only


def test_403_page_is_chinese(client, committee):
    client.force_login(member(committee, Role.HANDLER, username="handler"))
    response = client.get("/org/import/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "无权访问" in body and "返回首页" in body


def test_404_page_is_chinese(client, committee):
    client.force_login(member(committee, Role.HANDLER, username="handler"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    response = client.post("/org/tokens/999/revoke/")
    assert response.status_code == 404
    assert "不在您的权限范围内" in response.content.decode()


def test_login_page_and_a_failed_login_are_chinese(client):
    UserFactory(username="zhang")
    response = client.post("/login/", {"username": "zhang", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
