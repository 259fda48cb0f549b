"""Pages and API: HQ computes, publishes and issues; a unit sees its own results and the circular."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from docx import Document

from assessment import services
from assessment.models import Circular, Run, Scheme
from assessment.tests.test_services import at, handled_case, task
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
