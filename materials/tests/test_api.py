"""The API: a month end to end (assign → draft → submit → return → resubmit → score → cards →
ranking → ZIP) and the refusals as 4xx {"detail": ...} bodies that change nothing."""

import datetime as dt
import io
import zipfile

from django.test import Client

from materials.models import Card, Requirement, Submission

from .conftest import docx_bytes, photo, png_bytes, upload


def api(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_month_end_to_end(world, clock):
    hq, clerk, reviewer = api(world.hq), api(world.clerk), api(world.inspector)
    r = hq.post(
        "/api/v1/materials/requirements/generate",
        {"month": "2026-11", "unit_ids": [world.c1.pk, world.c2.pk], "reviewer_id": world.inspector.pk},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    [req] = r.json()
    assert req["due_date"] == "2026-11-30" and req["unit_ids"] == sorted([world.c1.pk, world.c2.pk])

    mine = clerk.get("/api/v1/materials/submissions?month=2026-11").json()["items"]
    assert len(mine) == 1 and mine[0]["actions"] == ["edit", "submit"] and mine[0]["days_left"] == 20
    sid = mine[0]["id"]
    r = clerk.put(
        f"/api/v1/materials/submissions/{sid}/text", {"text": "学习记录"}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["missing"] == ["照片（还差 1 张）"]
    r = clerk.post(f"/api/v1/materials/submissions/{sid}/files", {"files": [photo()]})
    assert r.status_code == 201 and r.json()[0]["kind"] == "photo"
    assert clerk.get(r.json()[0]["url"]).status_code == 200
    r = clerk.post(f"/api/v1/materials/submissions/{sid}/submit")
    assert r.status_code == 200 and r.json()["state"] == "submitted" and r.json()["version"] == 1

    queue = reviewer.get("/api/v1/materials/review-queue").json()
    assert [s["id"] for s in queue] == [sid]
    r = reviewer.post(
        f"/api/v1/materials/submissions/{sid}/return",
        {"reason": "缺少签到表", "version": 1},
        content_type="application/json",
    )
    assert r.json()["state"] == "returned" and r.json()["return_count"] == 1
    clerk.post(f"/api/v1/materials/submissions/{sid}/files", {"files": [photo("b.png", png_bytes("green"))]})
    assert clerk.post(f"/api/v1/materials/submissions/{sid}/submit").json()["version"] == 2
    r = reviewer.post(
        f"/api/v1/materials/submissions/{sid}/score",
        {"score": "5.5", "version": 2},
        content_type="application/json",
    )
    assert r.json()["state"] == "accepted" and r.json()["score"] == "5.50"
    assert [e["kind"] for e in r.json()["events"]][-1] == "scored"
    assert r.json()["events"][-1]["via"] == "api"

    clock.set(dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC))
    hq = api(world.hq)
    r = hq.post("/api/v1/materials/cards/monthly", {"month": "2026-11"}, content_type="application/json")
    assert r.status_code == 201
    assert {(c["unit_id"], c["color"]) for c in r.json()} == {(world.c2.pk, "yellow")}  # 二社区: missing
    rows = hq.get("/api/v1/materials/ranking?month=2026-11").json()
    assert [(row["name"], row["rank"], row["percent"]) for row in rows] == [
        ("一社区居委会", 1, "91.67"),
        ("二社区居委会", 2, "0.00"),
    ]
    r = hq.get("/api/v1/materials/package?month=2026-11")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as archive:
        assert len([n for n in archive.namelist() if n.startswith("A01 ")]) == 3  # text and two photos


def test_refusals_change_nothing(world, settings):
    req = world.requirement(document_types=["pdf"])
    mine = req.submissions.get(unit=world.c1)
    other = req.submissions.get(unit=world.c2)
    clerk = api(world.clerk)
    # Another unit's submission: not even visible.
    r = clerk.put(
        f"/api/v1/materials/submissions/{other.pk}/text", {"text": "x"}, content_type="application/json"
    )
    assert r.status_code == 404 and "detail" in r.json()
    # The street's clerk sees the community but may not act for it.
    r = api(world.street_clerk).post(f"/api/v1/materials/submissions/{mine.pk}/files", {"files": [photo()]})
    assert r.status_code == 403 and r.json()["detail"]
    # Forged content, wrong type, too large.
    r = clerk.post(
        f"/api/v1/materials/submissions/{mine.pk}/files", {"files": [upload("a.pdf", b"GIF89a fake")]}
    )
    assert r.status_code == 400 and "不是有效的" in r.json()["detail"]
    r = clerk.post(
        f"/api/v1/materials/submissions/{mine.pk}/files", {"files": [upload("a.docx", docx_bytes())]}
    )
    assert r.status_code == 400 and "只接受" in r.json()["detail"]
    settings.MATERIALS_MAX_DOCUMENT_BYTES = 10
    r = clerk.post(
        f"/api/v1/materials/submissions/{mine.pk}/files", {"files": [upload("a.pdf", b"%PDF-" + b"1" * 20)]}
    )
    assert r.status_code == 400 and "超过" in r.json()["detail"]
    # Incomplete submit.
    r = clerk.post(f"/api/v1/materials/submissions/{mine.pk}/submit")
    assert r.status_code == 400 and "还缺" in r.json()["detail"]
    mine.refresh_from_db()
    assert mine.files.count() == 0 and mine.state == Submission.State.DRAFT
    # Review before submission, by a non-reviewer, over the points, twice.
    settings.MATERIALS_MAX_DOCUMENT_BYTES = 10_000
    clerk.put(
        f"/api/v1/materials/submissions/{mine.pk}/text", {"text": "说明"}, content_type="application/json"
    )
    clerk.post(
        f"/api/v1/materials/submissions/{mine.pk}/files", {"files": [photo(), upload("a.pdf", b"%PDF-1.4")]}
    )
    reviewer = api(world.inspector)
    body = {"score": "5", "version": 1}
    r = reviewer.post(f"/api/v1/materials/submissions/{mine.pk}/score", body, content_type="application/json")
    assert r.status_code == 409
    assert clerk.post(f"/api/v1/materials/submissions/{mine.pk}/submit").status_code == 200
    r = api(world.hq).post(
        f"/api/v1/materials/submissions/{mine.pk}/score", body, content_type="application/json"
    )
    assert r.status_code == 403
    r = reviewer.post(
        f"/api/v1/materials/submissions/{mine.pk}/score",
        {"score": "10.5", "version": 1},
        content_type="application/json",
    )
    assert r.status_code == 400
    assert (
        reviewer.post(
            f"/api/v1/materials/submissions/{mine.pk}/score", body, content_type="application/json"
        ).status_code
        == 200
    )
    r = reviewer.post(
        f"/api/v1/materials/submissions/{mine.pk}/score",
        {"score": "9", "version": 1},
        content_type="application/json",
    )
    assert r.status_code == 409 and r.json()["detail"]
    mine.refresh_from_db()
    assert mine.score == 5
    # HQ-only steps.
    r = clerk.post(
        "/api/v1/materials/requirements/copy-previous", {"month": "2026-12"}, content_type="application/json"
    )
    assert r.status_code == 403
    r = api(world.inspector).post(
        "/api/v1/materials/cards",
        {"unit_id": world.c1.pk, "month": "2026-11", "color": "yellow", "reason": "x"},
        content_type="application/json",
    )
    assert r.status_code == 403 and not Card.objects.exists()
    assert clerk.get("/api/v1/materials/package?month=2026-11").status_code == 403
    assert clerk.get("/api/v1/materials/ranking").status_code == 403
    assert clerk.get("/api/v1/materials/submissions?month=2026/11").status_code == 400
    assert Requirement.objects.count() == 1


def test_cards_by_hand_and_revoke(world):
    hq = api(world.hq)
    r = hq.post(
        "/api/v1/materials/cards",
        {"unit_id": world.c1.pk, "month": "2026-10", "color": "red", "reason": "台账弄虚作假"},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["rules"] == ["manual"]
    cid = r.json()["id"]
    assert api(world.clerk).get("/api/v1/materials/cards").json()["items"][0]["id"] == cid
    assert api(world.clerk2).get("/api/v1/materials/cards").json()["items"] == []
    r = hq.post(
        f"/api/v1/materials/cards/{cid}/revoke", {"reason": "复核撤销"}, content_type="application/json"
    )
    assert r.json()["revoke_reason"] == "复核撤销" and r.json()["revoked_at"]
    r = hq.post(f"/api/v1/materials/cards/{cid}/revoke", {"reason": "再次"}, content_type="application/json")
    assert r.status_code == 409
