"""Pages and API: HQ computes, publishes and issues; a unit sees its own results and the circular."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document

from assessment import services
from assessment.models import Circular, Run, Scheme
from assessment.tests.helpers import at, handled_case, task
from org.audit import Actor
from org.models import Role, Unit
from org.tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    a, b, c = (UnitFactory(name=n, code=f"V{n}") for n in "ABC")
    task(a, 10, 9)
    task(b, 10, 9)
    task(c, 10)
    hq = member(UnitFactory(kind=Unit.Kind.HQ, code="HQ"), Role.HQ_ADMIN, username="hq")
    return hq, a, b, c


def post_scheme(client, **weights):
    data = {
        "name": "部门月考评",
        "period_kind": "month",
        "unit_kinds": [Unit.Kind.DEPARTMENT],
        "no_data": "reweight",
        "list_size": "1",
        **{f"w_{k}": v for k, v in weights.items()},
    }
    return client.post(reverse("assessment:scheme_new"), data)


def test_hq_pages_from_scheme_to_circular(client, setup):
    hq, a, b, c = setup
    client.force_login(hq)
    response = post_scheme(client, tasks=60, cases=30)
    assert "权重之和须为 100" in response.content.decode() and not Scheme.objects.exists()
    assert post_scheme(client, tasks=100).status_code == 302
    scheme = Scheme.objects.get()
    response = client.post(
        reverse("assessment:compute", args=[scheme.pk]), {"day": "2026-11-03", "at": "2026-11-30T23:00"}
    )
    run = Run.objects.get()
    assert response.url == reverse("assessment:run", args=[run.pk])
    page = client.get(response.url).content.decode()
    assert "发布并冻结" in page and "第1名 A（100.00）" in page and "第3名 C（0.00）" in page

    client.post(reverse("assessment:publish", args=[run.pk]))
    client.post(
        reverse("assessment:issue", args=[run.pk]), {"title": "关于11月考评的通报", "body": "现通报如下。"}
    )
    circular = Circular.objects.get()
    download = client.get(reverse("assessment:download", args=[circular.pk]))
    text = "\n".join(p.text for p in Document(io.BytesIO(download.content)).paragraphs)
    assert circular.number in text and "关于11月考评的通报" in text


def test_unit_sees_own_published_results_only(client, setup):
    hq, a, b, c = setup
    scheme = services.save_scheme(
        Actor(hq), services.SchemeSpec("月考评", "month", [Unit.Kind.DEPARTMENT], {"tasks": 100})
    )
    run = services.compute_run(Actor(hq), scheme, dt.date(2026, 11, 1), at=at(30, 23))
    clerk = member(c, Role.HANDLER)
    client.force_login(clerk)
    assert client.get(reverse("assessment:run", args=[run.pk])).status_code == 404  # draft
    services.publish_run(Actor(hq), run)
    page = client.get(reverse("assessment:mine")).content.decode()
    assert "2026年11月" in page and "0.00" in page
    assert client.get(reverse("assessment:schemes")).status_code == 403
    circular = services.issue_circular(Actor(hq), run, "通报", "正文")
    assert client.get(reverse("assessment:download", args=[circular.pk])).status_code == 200
    client.force_login(member(UnitFactory(code="OTHER", kind=Unit.Kind.COMMUNITY_COMMITTEE), Role.HANDLER))
    assert client.get(reverse("assessment:download", args=[circular.pk])).status_code == 403


def test_api_compute_publish_ranking(client, setup):
    hq, a, b, c = setup
    spec = services.SchemeSpec("月考评", "month", [Unit.Kind.DEPARTMENT], {"tasks": 100}, list_size=1)
    scheme = services.save_scheme(Actor(hq), spec)
    client.force_login(hq)
    url = "/api/v1/assessment/runs"
    response = client.post(
        url,
        {"scheme": scheme.pk, "day": "2026-11-03", "at": "2026-11-30T23:00:00+08:00"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    ranking = client.get(f"{url}/{run_id}/ranking").json()
    assert [(r["unit"], r["rank"]) for r in ranking["ranking"]] == [("A", 1), ("B", 1), ("C", 3)]
    assert [r["unit"] for r in ranking["red"]] == ["A", "B"] and [r["unit"] for r in ranking["black"]] == [
        "C"
    ]
    detail = client.get(f"{url}/{run_id}").json()
    assert detail["scores"][2]["figures"][0]["source"]["due"]
    assert client.post(f"{url}/{run_id}/publish").status_code == 200
    again = client.post(f"{url}/{run_id}/publish")
    assert again.status_code == 409 and again.json()["detail"] == "该期考评已经发布"
    recompute = client.post(url, {"scheme": scheme.pk, "day": "2026-11-20"}, content_type="application/json")
    assert recompute.status_code == 409
    assert client.get(url).json()["items"][0]["status"] == "published"
    client.force_login(member(c, Role.HANDLER))
    assert client.post(f"{url}/{run_id}/publish").status_code == 403


def test_accountability_page(client, setup):
    hq, a, b, c = setup
    scheme = services.save_scheme(
        Actor(hq), services.SchemeSpec("月考评", "month", [Unit.Kind.DEPARTMENT], {"tasks": 100})
    )
    run = services.compute_run(Actor(hq), scheme, dt.date(2026, 11, 1), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    circular = services.issue_circular(Actor(hq), run, "通报", "正文")
    client.force_login(hq)
    data = {
        "unit": c.pk,
        "kind": "talk",
        "reason": "销号率末位",
        "statement": "限期整改",
        "follow_up_on": "2099-01-31",
    }
    client.post(reverse("assessment:accountability", args=[circular.pk]), data)
    assert "限期整改" in client.get(reverse("assessment:run", args=[run.pk])).content.decode()
    client.force_login(member(c, Role.HANDLER))
    page = client.get(reverse("assessment:mine")).content.decode()
    assert "销号率末位" in page and circular.number in page


def test_case_figure_opens_its_cases(client, setup):
    hq, a, b, c = setup
    case = handled_case(a, 11)
    scheme = services.save_scheme(
        Actor(hq), services.SchemeSpec("月考评", "month", [Unit.Kind.DEPARTMENT], {"cases": 100})
    )
    run = services.compute_run(Actor(hq), scheme, dt.date(2026, 11, 1), at=at(30, 23))
    client.force_login(hq)
    page = client.get(reverse("assessment:run", args=[run.pk])).content.decode()
    link = re.search(r'href="(/cases/\?[^"]+)">\(1/1\)', page).group(1).replace("&amp;", "&")
    assert f"unit={a.pk}" in link and "metric=handle_rate" in link
    assert case.number in client.get(link).content.decode()


def test_api_bonus_correction_circular_and_history(client, setup):
    hq, a, b, c = setup
    hq2 = member(UnitFactory(kind=Unit.Kind.HQ, code="HQ2"), Role.HQ_ADMIN, username="hq2")
    spec = services.SchemeSpec(
        "月考评", "month", [Unit.Kind.DEPARTMENT], {"tasks": 80, "bonus": 20}, list_size=1
    )
    scheme = services.save_scheme(Actor(hq), spec)
    api = "/api/v1/assessment"
    client.force_login(hq)
    form = {"scheme": scheme.pk, "day": "2026-11-03", "unit": c.pk, "points": "10", "reason": "主动创新"}
    refused = client.post(f"{api}/bonuses", form)
    assert refused.status_code == 400 and "佐证" in refused.json()["detail"]
    evidence = io.BytesIO(b"%PDF-1.4\n%%EOF\n")
    evidence.name = "evidence.pdf"
    entered = client.post(f"{api}/bonuses", {**form, "evidence": evidence})
    assert entered.status_code == 201, entered.content
    bonus_id = entered.json()["id"]
    own = client.post(f"{api}/bonuses/{bonus_id}/approve", {}, content_type="application/json")
    assert own.status_code == 403 and "不能审核自己录入" in own.json()["detail"]
    client.force_login(hq2)
    assert (
        client.post(f"{api}/bonuses/{bonus_id}/approve", {}, content_type="application/json").status_code
        == 200
    )
    twice = client.post(f"{api}/bonuses/{bonus_id}/approve", {}, content_type="application/json")
    assert twice.status_code == 409 and "已审核" in twice.json()["detail"]
    assert client.get(f"{api}/bonuses?status=approved").json()["items"][0]["points"] == "10.00"

    run = services.compute_run(Actor(hq), scheme, dt.date(2026, 11, 3))
    services.publish_run(Actor(hq), run)
    # A, B: 80·100 + 20·50 → 90; C: 80·0 + 20·60 → 12.
    ranking = client.get(f"{api}/runs/{run.pk}/ranking").json()["ranking"]
    assert [(r["unit"], r["total"], r["rank"]) for r in ranking] == [
        ("A", "90.00", 1),
        ("B", "90.00", 1),
        ("C", "12.00", 3),
    ]
    corrected = client.post(
        f"{api}/runs/{run.pk}/correct", {"reason": "补录佐证后复核"}, content_type="application/json"
    )
    assert corrected.status_code == 201 and corrected.json()["version"] == 2
    assert corrected.json()["previous_id"] == run.pk and corrected.json()["reason"] == "补录佐证后复核"
    again = client.post(f"{api}/runs/{run.pk}/correct", {"reason": "再次"}, content_type="application/json")
    assert again.status_code == 409
    assert [v["version"] for v in client.get(f"{api}/runs/{run.pk}/versions").json()] == [1, 2]

    draft = client.post(f"{api}/runs/{run.pk}/circular")
    assert draft.status_code == 201 and draft.json()["status"] == "draft" and draft.json()["pdf_url"] is None
    cid = draft.json()["id"]
    edited = client.patch(
        f"{api}/circulars/{cid}",
        {"title": "改后的标题", "body": "改后的正文"},
        content_type="application/json",
    )
    assert edited.json()["title"] == "改后的标题"
    issued = client.post(
        f"{api}/runs/{run.pk}/circular/issue",
        {"title": "改后的标题", "body": "改后的正文"},
        content_type="application/json",
    )
    assert issued.status_code == 201 and re.fullmatch(r"巴州创文办〔\d{4}〕1号", issued.json()["number"])
    frozen = client.patch(
        f"{api}/circulars/{cid}", {"title": "再改", "body": "x"}, content_type="application/json"
    )
    assert frozen.status_code == 409 and "已印发" in frozen.json()["detail"]

    client.force_login(member(c, Role.HANDLER))
    assert [x["id"] for x in client.get(f"{api}/circulars").json()["items"]] == [cid]
    pdf = client.get(issued.json()["pdf_url"])
    assert (
        pdf.status_code == 200
        and pdf["Content-Type"] == "application/pdf"
        and pdf.content.startswith(b"%PDF-")
    )
    assert client.get(issued.json()["docx_url"]).status_code == 200
    history = client.get(f"{api}/units/{c.pk}/history").json()
    assert [(h["label"], h["rank"], h["movement"]) for h in history] == [("2026年11月", 3, "")]
    assert client.get(f"{api}/units/{a.pk}/history").status_code == 403
    assert client.post(f"{api}/bonuses", {**form, "evidence_text": "x"}).status_code == 403


def test_pages_bonus_correction_circular_editor(client, setup):
    hq, a, b, c = setup
    hq2 = member(UnitFactory(kind=Unit.Kind.HQ, code="HQ2"), Role.HQ_ADMIN, username="hq2")
    spec = services.SchemeSpec(
        "月考评", "month", [Unit.Kind.DEPARTMENT], {"tasks": 80, "bonus": 20}, list_size=1
    )
    scheme = services.save_scheme(Actor(hq), spec)
    client.force_login(hq)
    data = {
        "scheme": scheme.pk,
        "day": "2026-11-03",
        "unit": b.pk,
        "points": "-5",
        "reason": "问题反弹",
        "evidence_text": "督查记录",
    }
    assert client.post(reverse("assessment:bonuses"), data).status_code == 302
    page = client.get(reverse("assessment:bonuses")).content.decode()
    assert "问题反弹" in page and "待另一名管理员审核" in page
    client.force_login(hq2)
    client.post(reverse("assessment:bonus_approve", args=[services.Bonus.objects.get().pk]))
    assert services.Bonus.objects.get().status == "approved"

    run = services.compute_run(Actor(hq), scheme, dt.date(2026, 11, 3))
    services.publish_run(Actor(hq), run)
    client.post(
        reverse("assessment:issue", args=[run.pk]), {"title": "草稿标题", "body": "草稿正文", "save": "1"}
    )
    circular = Circular.objects.get()
    assert (circular.status, circular.title) == ("draft", "草稿标题")
    page = client.get(reverse("assessment:run", args=[run.pk])).content.decode()
    assert "草稿标题" in page and "保存草稿" in page and "生成更正版" in page
    client.post(reverse("assessment:issue", args=[run.pk]), {"title": "正式标题", "body": "正式正文"})
    circular.refresh_from_db()
    assert circular.is_issued and circular.title == "正式标题"
    response = client.post(reverse("assessment:correct", args=[run.pk]), {"reason": "复核更正"})
    correction = Run.objects.get(version=2)
    assert response.url == reverse("assessment:run", args=[correction.pk])
    services.publish_run(Actor(hq), correction)
    page = client.get(reverse("assessment:run", args=[correction.pk])).content.decode()
    assert "更正版" in page and "复核更正" in page and "第1版" in page
    old = client.get(reverse("assessment:run", args=[run.pk])).content.decode()
    assert "本期已更正" in old and "PDF" in old
    client.force_login(member(b, Role.HANDLER))
    mine = client.get(reverse("assessment:mine")).content.decode()
    assert "更正版" in mine and circular.number not in mine  # the latest version has no circular yet
    assert client.get(reverse("assessment:history", args=[b.pk])).status_code == 200
    listing = client.get(reverse("assessment:circulars")).content.decode()
    assert circular.number in listing
    pdf = client.get(reverse("assessment:download_pdf", args=[circular.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_drafts_and_evidence_are_not_served_to_the_wrong_people(client, setup):
    hq, a, b, c = setup
    spec = services.SchemeSpec(
        "月考评", "month", [Unit.Kind.DEPARTMENT], {"tasks": 80, "bonus": 20}, list_size=1
    )
    scheme = services.save_scheme(Actor(hq), spec)
    run = services.compute_run(Actor(hq), scheme, dt.date(2026, 11, 3), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    draft = services.draft_circular(Actor(hq), run)
    entry = services.enter_bonus(
        Actor(hq),
        services.BonusSpec(scheme.pk, dt.date(2026, 11, 3), a.pk, 2, "事由"),
        SimpleUploadedFile("e.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    text_only = services.enter_bonus(
        Actor(hq), services.BonusSpec(scheme.pk, dt.date(2026, 11, 3), a.pk, 2, "事由", "文字佐证")
    )
    client.force_login(member(a, Role.HANDLER))
    assert client.get(reverse("assessment:download_pdf", args=[draft.pk])).status_code == 404
    assert client.get(f"/api/v1/assessment/circulars/{draft.pk}/pdf").status_code == 404
    assert client.get(reverse("assessment:bonus_evidence", args=[entry.pk])).status_code == 403
    client.force_login(hq)
    assert client.get(reverse("assessment:download", args=[draft.pk])).status_code == 404
    evidence = client.get(reverse("assessment:bonus_evidence", args=[entry.pk]))
    assert evidence.status_code == 200 and b"".join(evidence.streaming_content).startswith(b"%PDF-")
    assert client.get(reverse("assessment:bonus_evidence", args=[text_only.pk])).status_code == 404
