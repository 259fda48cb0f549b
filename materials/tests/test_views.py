"""The pages: the clerk's month on a phone, drafting and submitting, the reviewer's queue and
review, HQ's plan, ranking and cards, and files only within scope."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from materials.models import Card, Requirement, Submission

from .conftest import MONTH, complete, docx_bytes, photo, upload


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def req(world):
    return world.requirement()


def test_clerk_month_shows_missing_and_days_left(world):
    world.requirement(document_types=["docx"])
    page = client_for(world.clerk).get("/materials/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "文明实践活动记录" in text and "还剩 <b>20</b> 天" in text  # 10 → 30 November
    assert "还缺：文字说明、照片（还差 1 张）、文档（Word 文档）" in text
    assert "二社区" not in text


def test_clerk_drafts_uploads_and_submits_through_the_page(world):
    req = world.requirement(document_types=["docx"])
    sub = req.submissions.get(unit=world.c1)
    c = client_for(world.clerk)
    url = f"/materials/submissions/{sub.pk}/save/"
    r = c.post(url, {"text": "会议两次", "uploads": [photo(), upload("纪要.docx", docx_bytes())]})
    assert r.status_code == 302
    sub.refresh_from_db()
    assert sub.text == "会议两次" and sub.files.count() == 2 and sub.state == Submission.State.DRAFT
    r = c.post(url, {"text": "会议两次", "submit": "1"}, follow=True)
    assert "已提交，等待审核" in r.content.decode()
    sub.refresh_from_db()
    assert sub.state == Submission.State.SUBMITTED and sub.version == 1


def test_bad_upload_on_the_page_is_a_message_and_changes_nothing(world, req):
    sub = req.submissions.get(unit=world.c1)
    r = client_for(world.clerk).post(
        f"/materials/submissions/{sub.pk}/save/",
        {"text": "x", "uploads": [upload("纪要.docx", b"%PDF-1.4 forged")], "submit": "1"},
        follow=True,
    )
    assert "与扩展名不符" in r.content.decode()
    sub.refresh_from_db()
    assert sub.files.count() == 0 and sub.state == Submission.State.DRAFT


def test_another_units_submission_is_not_found(world, req):
    other = req.submissions.get(unit=world.c2)
    c = client_for(world.clerk)
    assert c.get(f"/materials/submissions/{other.pk}/").status_code == 404
    assert c.post(f"/materials/submissions/{other.pk}/save/", {"text": "x"}).status_code == 404
    other.refresh_from_db()
    assert other.text == ""


def test_street_clerk_sees_but_cannot_edit(world, req):
    sub = req.submissions.get(unit=world.c1)
    c = client_for(world.street_clerk)
    page = c.get(f"/materials/submissions/{sub.pk}/")
    assert page.status_code == 200 and "保存草稿" not in page.content.decode()
    assert c.post(f"/materials/submissions/{sub.pk}/save/", {"text": "x"}).status_code == 403


def test_review_queue_and_review(world, req):
    early = world.requirement(title="早截止", due_date=dt.date(2026, 11, 20), needs_text=False)
    late_sub = complete(world, req.submissions.get(unit=world.c1))
    services_files = early.submissions.get(unit=world.c1)
    from materials import services

    services.add_files(world.actor(world.clerk), services_files, [photo()])
    services.submit(world.actor(world.clerk), services_files)
    c = client_for(world.inspector)
    text = c.get("/materials/review/").content.decode()
    assert text.index("早截止") < text.index("文明实践活动记录")
    page = c.get(f"/materials/submissions/{late_sub.pk}/").content.decode()
    assert "评分通过" in page and "退回修改" in page
    r = c.post(f"/materials/submissions/{late_sub.pk}/score/", {"score": "11", "version": "1"}, follow=True)
    assert "得分应在 0 到 10.00 之间" in r.content.decode()
    c.post(f"/materials/submissions/{late_sub.pk}/return/", {"reason": "缺少签到表", "version": "1"})
    late_sub.refresh_from_db()
    assert late_sub.state == Submission.State.RETURNED and late_sub.review_comment == "缺少签到表"
    # A non-reviewer is refused.
    assert client_for(world.inspector2).post(
        f"/materials/submissions/{late_sub.pk}/score/", {"score": "5", "version": "1"}
    ).status_code in (403, 404)


def test_files_only_within_scope(world, req):
    sub = req.submissions.get(unit=world.c1)
    complete(world, sub)
    item = sub.files.get()
    assert client_for(world.clerk).get(f"/materials/files/{item.pk}/").status_code == 200
    assert client_for(world.inspector).get(f"/materials/files/{item.pk}/thumb/").status_code == 200
    assert client_for(world.clerk2).get(f"/materials/files/{item.pk}/").status_code == 404
    anonymous = Client().get(f"/materials/files/{item.pk}/")
    assert anonymous.status_code == 302
    # Nothing under private/ is served by URL.
    assert Client().get(f"/media/{item.file.name}").status_code == 404


def test_hq_plan_generate_copy_and_edit(world):
    c = client_for(world.hq)
    r = c.post(
        "/materials/plan/generate/",
        {"month": "2026-11", "kinds": ["community_committee"], "reviewer": world.inspector.pk},
        follow=True,
    )
    assert "已生成 1 项资料要求" in r.content.decode()
    generated = Requirement.objects.get(month=MONTH)
    assert set(generated.submissions.values_list("unit_id", flat=True)) == {world.c1.pk, world.c2.pk}
    page = c.get("/materials/plan/?month=2026-11").content.decode()
    assert generated.title in page
    r = c.post(
        f"/materials/requirements/{generated.pk}/",
        {
            "title": "改名",
            "needs_text": "on",
            "min_photos": "2",
            "points": "6",
            "reviewer": world.inspector2.pk,
            "units": [world.c1.pk],
            "criterion": world.monthly.pk,
        },
    )
    assert r.status_code == 302
    generated.refresh_from_db()
    assert (
        generated.title == "改名"
        and generated.reviewer == world.inspector2
        and generated.submissions.count() == 1
    )
    r = c.post("/materials/plan/copy/", {"month": "2026-12"}, follow=True)
    assert "已按上月生成 1 项资料要求" in r.content.decode()
    assert client_for(world.clerk).get("/materials/plan/").status_code == 403
    assert client_for(world.inspector).post("/materials/plan/copy/", {"month": "2026-12"}).status_code == 403


def test_ranking_and_cards_pages(world, req, clock):
    sub = complete(world, req.submissions.get(unit=world.c1))
    from materials import services

    services.score_submission(world.actor(world.inspector), sub, Decimal(5))
    c = client_for(world.hq)
    page = c.get("/materials/ranking/?month=2026-11").content.decode()
    assert "50.00%" in page and f"unit={world.c1.pk}" in page
    assert "0.00%" in page  # 二社区: nothing submitted
    assert client_for(world.clerk).get("/materials/ranking/").status_code == 403
    clock.set(dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC))
    c = client_for(world.hq)  # a new session in the new month
    r = c.post("/materials/cards/monthly/", {"month": "2026-11"}, follow=True)
    assert "新认定 2 张红黄牌" in r.content.decode()  # 一社区 fails at 50%, 二社区 is missing
    card = Card.objects.get(unit=world.c2)
    r = c.post(f"/materials/cards/{card.pk}/revoke/", {"reason": "已补交"}, follow=True)
    assert "已撤销" in r.content.decode()
    assert client_for(world.clerk).get("/materials/cards/").status_code == 200
    home = client_for(world.clerk).get("/").content.decode()
    assert "网报资料红黄牌" in home and "审核不合格" in home


def test_package_download(world, req):
    sub = complete(world, req.submissions.get(unit=world.c1))
    from materials import services

    services.score_submission(world.actor(world.inspector), sub, Decimal(8))
    r = client_for(world.hq).get("/materials/package/?month=2026-11")
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert b"".join(r.streaming_content)[:2] == b"PK"
    assert client_for(world.inspector).get("/materials/package/?month=2026-11").status_code == 403


def test_template_file_checked_and_served_within_scope(world):
    from materials import services

    spec = services.Spec(title="台账", points=Decimal(5), reviewer=world.inspector, document_types=["docx"])
    req = services.create_requirement(
        world.actor(world.hq), MONTH, spec, [world.c1], template=upload("模板.docx", docx_bytes())
    )
    assert req.template.name.startswith("private/materials/templates/") and req.template_name == "模板.docx"
    assert client_for(world.clerk).get(f"/materials/requirements/{req.pk}/template/").status_code == 200
    assert client_for(world.clerk2).get(f"/materials/requirements/{req.pk}/template/").status_code == 404
    with pytest.raises(services.ValidationError):
        services.create_requirement(
            world.actor(world.hq), MONTH, spec, [world.c1], template=upload("x.docx", b"MZ")
        )
    assert Requirement.objects.count() == 1


def test_list_filters_say_what_they_are_without_labels(world, req):
    # The filter bar shows menus only (on a phone): each says which filter it is.
    for path in ("/materials/submissions/", "/materials/cards/"):
        page = client_for(world.inspector).get(path)
        assert page.status_code == 200
        form = page.content.decode().split('<form class="filters"', 1)[1].split("</form>", 1)[0]
        assert "---------" not in form and "未知" not in form
        assert "全部单位" in form
    form = client_for(world.inspector).get("/materials/submissions/").content.decode()
    assert "逾期提交：不限" in form and "曾被退回：是" in form and 'aria-label="审核人"' in form
    # The menus' values are unchanged: a yes/no filter still reads true/false.
    assert client_for(world.inspector).get("/materials/submissions/", {"late": "true"}).status_code == 200
