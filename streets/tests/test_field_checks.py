"""Field verification 现场核查 on the collector's phone: the 待核查 list, the verification card
with before and after photos side by side, pass or fail through the page and the API; another
collector gets a 403, a case outside the person's scope a 404, a second check a 409."""

from django.urls import reverse

from cases.models import Case, CaseEvent, FieldCheck
from cases.services import accept_case, dispatch_case, handle_part, report_case

from .conftest import actor, jpeg

HERE = {"lat": "31.845000", "lng": "106.730000"}


def handled_case(w, where=None):
    w.road.field_verification = True
    w.road.save()
    lat, lng = where or w.in_grid
    case = report_case(
        actor(w.chief), category=w.road, description="井盖松动", lat=lat, lng=lng, photos_uploaded=[jpeg()]
    )
    case = accept_case(actor(w.dispatcher), case)
    case = dispatch_case(actor(w.dispatcher), case, w.dept)
    return handle_part(actor(w.handler), case, [jpeg()], "已更换井盖")


def test_field_check_through_the_pages(client, world, st, clock):
    case = handled_case(world)
    client.force_login(world.collector)
    today = client.get(reverse("streets:today")).content.decode()
    assert "现场核查 1 件" in today
    listing = client.get(reverse("streets:checks")).content.decode()
    assert case.number in listing and "去现场核查" in listing
    card = client.get(reverse("streets:check", args=[case.pk])).content.decode()
    assert 'class="before-after"' in card and "处置前" in card and "处置后" in card
    assert card.count("<img") == 2 and "核查通过" in card
    # Without a photo: refused, nothing written.
    r = client.post(reverse("streets:check", args=[case.pk]), {"passed": "1", **HERE}, follow=True)
    assert "请上传现场核查照片" in r.content.decode()
    assert FieldCheck.objects.get().status == "pending"
    r = client.post(reverse("streets:check", args=[case.pk]), {"passed": "1", **HERE, "photos": jpeg()})
    assert r.status_code == 302 and r.url == reverse("streets:checks")
    assert FieldCheck.objects.get().status == "passed"
    # The dispatcher's card shows the pass and closes.
    client.force_login(world.dispatcher)
    queue = client.get(reverse("cases:verify_queue")).content.decode()
    assert "现场核查通过，结案" in queue and "核查通过" in queue
    client.post(reverse("cases:act", args=[case.pk, "verify"]))
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED


def test_other_collector_gets_403_and_outsider_404_on_the_page(client, world, st, clock):
    case = handled_case(world)
    client.force_login(world.chief)  # sees the case (reported it) but the check is not theirs
    card = client.get(reverse("streets:check", args=[case.pk])).content.decode()
    assert "待 " in card and "核查不通过" not in card
    r = client.post(reverse("streets:check", args=[case.pk]), {"passed": "1", **HERE, "photos": jpeg()})
    assert r.status_code == 403
    client.force_login(world.collector2)  # another community: the case is outside their scope
    assert client.get(reverse("streets:check", args=[case.pk])).status_code == 404
    assert FieldCheck.objects.get().status == "pending"


def test_field_check_through_the_api(client, world, st, clock):
    case = handled_case(world)
    client.force_login(world.collector)
    tasks = client.get("/api/v1/streets/checks?status=pending").json()["items"]
    assert [(t["case_number"], t["status"]) for t in tasks] == [(case.number, "pending")]
    detail = client.get(f"/api/v1/cases/cases/{case.pk}").json()
    assert detail["allowed_actions"] == ["field_check"]
    assert detail["field_checks"][0]["verifier_id"] == world.collector.pk
    url = f"/api/v1/cases/cases/{case.pk}/field-check"
    r = client.post(url, {"passed": "false", **HERE, "photos": jpeg()})
    assert r.status_code == 400 and "请填写" in r.json()["detail"]
    r = client.post(url, {"passed": "false", "note": "井盖仍松动", **HERE, "photos": jpeg()})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["field_checks"][0]["status"] == "failed" and body["verified_at"] is not None
    assert client.post(url, {"passed": "true", **HERE, "photos": jpeg()}).status_code == 409
    client.force_login(world.chief)
    assert client.post(url, {"passed": "true", **HERE, "photos": jpeg()}).status_code == 403
    client.force_login(world.collector2)
    assert client.post(url, {"passed": "true", **HERE, "photos": jpeg()}).status_code == 404
    client.force_login(world.dispatcher)
    assert client.get(f"/api/v1/cases/cases/{case.pk}").json()["allowed_actions"] == ["rework"]
    r = client.post(f"/api/v1/cases/cases/{case.pk}/verify", {"note": ""}, content_type="application/json")
    assert r.status_code == 409
    assert case.events.filter(action=CaseEvent.Action.FIELD_CHECK).count() == 1
