"""Public street signs 街巷长联系牌: the page without login (chief, the three service teams with
masked numbers, calls through the district's number, the appeal form with the segment filled
in), the QR code, and the staff's print page of a unit's signs."""

from urllib.parse import parse_qs, urlparse

from django.test import override_settings
from django.urls import reverse

from streets import services
from streets.models import ServiceTeam


def teams(world):
    """Street-wide teams for all three kinds; 一社区 has its own sanitation team."""
    for kind, name, ext in (
        ("appearance", "一街道市容队", "11"),
        ("sanitation", "一街道环卫所", "12"),
        ("municipal", "区市政养护队", ""),
    ):
        ServiceTeam.objects.create(
            region=world.s1, kind=kind, name=name, leader="赵刚", phone="13900001111", extension=ext
        )
    ServiceTeam.objects.create(
        region=world.c1, kind="sanitation", name="一社区保洁队", phone="13800002222", extension="21"
    )


@override_settings(STREETS_SIGN_CALL_NUMBER="0827-12319")
def test_public_sign_without_login(client, world, st):
    teams(world)
    world.chief.display_name, world.chief.phone = "陈明", "13712345678"
    world.chief.save()
    page = client.get(reverse("streets:sign", args=[st.seg1.code])).content.decode()
    assert "一街" in page and "陈明" in page and "137****5678" in page and "13712345678" not in page
    assert "一街道市容队" in page and "一社区保洁队" in page and "一街道环卫所" not in page
    assert "139****1111" in page and "13900001111" not in page
    assert 'href="tel:082712319,11"' in page and 'href="tel:082712319"' in page
    report = next(line for line in page.splitlines() if "在这里反映问题" in line)
    href = report.split('href="')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlparse(href).query)
    assert urlparse(href).path == reverse("appeals:submit")
    assert (
        query["address"] == ["一社区 一街"]
        and query["lat"] == ["31.850000"]
        and query["lng"] == ["106.730000"]
    )
    form = client.get(href).content.decode()
    assert 'value="一社区 一街"' in form and 'value="31.850000"' in form
    assert client.get(reverse("streets:sign", args=["NOPE"])).status_code == 404


def test_sign_without_teams_or_call_number(client, world, st):
    with override_settings(STREETS_SIGN_CALL_NUMBER=""):
        page = client.get(reverse("streets:sign", args=[st.seg2.code])).content.decode()
    assert "街巷长待定" in page and "服务队伍信息待公布" in page and "tel:" not in page
    assert services.sign_for(st.seg2).chief_name == ""


@override_settings(STREETS_SIGN_BASE_URL="https://cw.example.cn")
def test_qr_code_and_print_page(client, world, st):
    teams(world)
    r = client.get(reverse("streets:sign_qr", args=[st.seg1.code]))
    assert r["Content-Type"] == "image/svg+xml" and r.content.startswith(b"<svg")
    client.force_login(st.staff)
    page = client.get(reverse("streets:signs")).content.decode()
    assert page.count('class="print-sign"') == 2  # 一街 and 二街 of 一社区; 三街 is 二社区's
    assert "https://cw.example.cn/streets/sign/SEG1/" in page and "<svg" in page
    client.force_login(world.collector)
    assert client.get(reverse("streets:signs")).status_code == 403


def test_roster_page_links_the_print_page(client, world, st):
    client.force_login(st.staff)
    page = client.get(reverse("streets:roster")).content.decode()
    assert f"{reverse('streets:signs')}?unit={world.committee.pk}" in page
