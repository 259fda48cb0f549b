"""The citizen's path on the public pages: submit → code → track through the loop → rate → counted."""

import datetime as dt
import re

from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from appeals import metrics
from appeals.models import Appeal
from cases import services as loop
from cases.models import Case, CasePhoto

from .conftest import IN_DISTRICT, actor, jpeg

PHONE = "13812345678"


def _submit(client, **overrides):
    data = {
        "category": "",
        "description": "小区门口垃圾堆了三天没人清",
        "address": "一社区南门",
        "lat": IN_DISTRICT[0],
        "lng": IN_DISTRICT[1],
        "phone": "138 1234 5678",
        "name": "李四",
    }
    data.update(overrides)
    return client.post("/appeal/", data)


def _through_the_loop(world, case: Case) -> Case:
    case = loop.accept_case(actor(world.dispatcher), case)
    case = loop.dispatch_case(actor(world.dispatcher), case, world.dept)
    case = loop.start_handling(actor(world.handler), case)
    case = loop.handle_part(actor(world.handler), case, [jpeg("after.jpg")], note="已清运")
    return loop.verify_case(actor(world.dispatcher), case)


def test_the_submit_page_works_without_login_in_chinese(client, world):
    response = client.get("/appeal/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-Hans">' in body
    assert "不确定（由工作人员分类）" in body
    assert 'name="photos"' in body and "multiple" in body
    assert 'inputmode="tel"' in body
    assert "leaflet/leaflet.js" in body and 'id="pick-map"' in body


def test_a_citizen_follows_an_appeal_from_submission_to_rating(client, world):
    response = _submit(client, category=str(world.garbage.pk), photos=[jpeg()])
    assert response.status_code == 302 and response["Location"] == "/appeal/submitted/"
    appeal = Appeal.objects.get()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{10}", appeal.code)
    page = client.get("/appeal/submitted/").content.decode()
    assert appeal.code in page
    assert (appeal.channel, appeal.phone, appeal.name) == ("web", PHONE, "李四")
    case = appeal.case
    assert (case.status, case.source, case.category) == ("reported", "appeal", world.garbage)
    assert case.reporter is None
    assert case.photos.filter(kind=CasePhoto.Kind.BEFORE).count() == 1

    # A fresh browser tracks with code + phone.
    client.cookies.clear()
    assert client.get(f"/appeal/track/{appeal.code}/").status_code == 302
    response = client.post("/appeal/track/", {"code": appeal.code.lower(), "phone": PHONE})
    assert response.status_code == 302 and response["Location"] == f"/appeal/track/{appeal.code}/"
    page = client.get(response["Location"]).content.decode()
    assert "已收到，等待受理" in page and "正在安排" in page

    loop.accept_case(actor(world.dispatcher), case)
    loop.dispatch_case(actor(world.dispatcher), Case.objects.get(pk=case.pk), world.dept)
    page = client.get(f"/appeal/track/{appeal.code}/").content.decode()
    assert "已交由责任单位办理" in page and "区城管局" in page
    case.refresh_from_db()
    assert timezone.localtime(case.handle_deadline).strftime("%Y年%-m月%-d日 %H:%M") in page

    case = loop.start_handling(actor(world.handler), case)
    case = loop.handle_part(actor(world.handler), case, [jpeg("after.jpg")], note="已清运")
    page = client.get(f"/appeal/track/{appeal.code}/").content.decode()
    assert "已处理完毕，正在核查" in page
    after = case.photos.get(kind=CasePhoto.Kind.AFTER)
    assert after.image.url in page and after.original.name not in page
    with default_storage.open(after.image.name) as served:
        assert dict(Image.open(served).getexif()) == {}
    assert "评价办理结果" not in page

    loop.verify_case(actor(world.dispatcher), case)
    page = client.get(f"/appeal/track/{appeal.code}/").content.decode()
    assert "已办结" in page and "评价办理结果" in page
    response = client.post(
        f"/appeal/track/{appeal.code}/rate/", {"rating": "satisfied", "comment": "很快"}, follow=True
    )
    assert "感谢您的评价" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.rating == "satisfied"

    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    total, _ = metrics.resolution(Appeal.objects.all(), start, start + dt.timedelta(days=1))
    assert (total.received, total.resolved, total.satisfied, total.percent) == (1, 1, 1, "100.00%")

    # Rated once: the form is gone and a second rating changes nothing.
    response = client.post(
        f"/appeal/track/{appeal.code}/rate/", {"rating": "unsatisfied", "comment": "x"}, follow=True
    )
    assert "该诉求已评价，不能重复评价" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.rating == "satisfied"


def test_not_sure_and_address_only_still_enter_the_loop(client, world):
    response = _submit(client, lat="", lng="", address="一社区菜市场后门")
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.category_unsure and appeal.location_approximate
    assert appeal.case.category.code == "9900"
    assert appeal.case.region == world.district
    assert appeal.case.address == "一社区菜市场后门"


def test_the_form_explains_what_is_missing(client, world):
    response = _submit(client, lat="", lng="", address="", phone="12345", description="")
    assert response.status_code == 200
    body = response.content.decode()
    assert "请填写正确的手机号或带区号的固定电话" in body
    assert "这个字段是必填项" in body or "此字段为必填项" in body
    assert Appeal.objects.count() == 0


def test_a_point_outside_the_district_is_refused_plainly(client, world):
    response = _submit(client, lat="39.9", lng="116.4")
    assert "位置不在本区范围内" in response.content.decode()
    assert Appeal.objects.count() == 0


def test_photos_are_checked_by_content_type_and_count(client, world, settings):
    fake = jpeg()
    fake.file.seek(0)
    fake = type(fake)("photo.jpg", b"not an image at all", content_type="image/jpeg")
    body = _submit(client, photos=[fake]).content.decode()
    assert "文件不是有效的图片" in body
    body = _submit(client, photos=[jpeg(f"{i}.jpg") for i in range(7)]).content.decode()
    assert "最多上传 6 张照片" in body
    settings.UPLOAD_MAX_IMAGE_BYTES = 100
    body = _submit(client, photos=[jpeg()]).content.decode()
    assert "照片不能超过" in body
    assert Appeal.objects.count() == 0


def test_a_wrong_phone_or_code_finds_nothing(client, world):
    _submit(client)
    appeal = Appeal.objects.get()
    client.cookies.clear()
    for code, phone in ((appeal.code, "13900000000"), ("ABCDEFGHJK", PHONE)):
        response = client.post("/appeal/track/", {"code": code, "phone": phone})
        assert response.status_code == 200
        assert "查询码或联系电话不正确" in response.content.decode()
    assert client.get(f"/appeal/track/{appeal.code}/").status_code == 302


def test_public_pages_never_show_who_reported(client, world):
    _submit(client, photos=[jpeg()])
    appeal = Appeal.objects.get()
    _through_the_loop(world, appeal.case)
    page = client.get(f"/appeal/track/{appeal.code}/").content.decode()
    for secret in (PHONE, "138****5678", "李四", "李*"):
        assert secret not in page
    assert "private/" not in page


def test_a_rejected_appeal_tells_the_reason(client, world):
    _submit(client)
    appeal = Appeal.objects.get()
    loop.reject_case(actor(world.dispatcher), appeal.case, "不属于城市管理范围，已转12345热线")
    page = client.get(f"/appeal/track/{appeal.code}/").content.decode()
    assert "未予受理" in page and "已转12345热线" in page
    assert "评价办理结果" not in page


def test_the_login_page_sends_citizens_to_the_portal(client, db):
    page = client.get("/login/").content.decode()
    assert 'href="/appeal/"' in page and 'href="/appeal/track/"' in page
