"""The month's loop through the services: plan, draft, upload, submit, return, resubmit, score,
and every refusal changing nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from PIL import Image

from materials import services
from materials.models import MaterialFile, Requirement, Submission, SubmissionEvent
from org.errors import ActionRefused
from org.models import AuditLog

from .conftest import MONTH, complete, docx_bytes, jpeg_with_exif, photo, png_bytes, upload, xlsx_bytes


def test_default_due_date_is_the_last_working_day_of_the_month(db):
    assert services.default_due_date(dt.date(2026, 11, 1)) == dt.date(2026, 11, 30)  # a Monday
    assert services.default_due_date(dt.date(2026, 10, 1)) == dt.date(2026, 10, 30)  # 31st a Saturday
    # 28 February 2026 is a Saturday worked in exchange for the Spring Festival (调休).
    assert services.default_due_date(dt.date(2026, 2, 1)) == dt.date(2026, 2, 28)
    assert services.default_due_date(dt.date(2026, 5, 1)) == dt.date(2026, 5, 29)


def test_generate_takes_material_criteria_due_in_the_month(world):
    actor = world.actor(world.hq)
    made = services.generate_month(actor, dt.date(2026, 11, 1), [world.c1, world.c2], world.inspector)
    assert [r.criterion for r in made] == [world.monthly]  # the quarterly one waits for December
    req = made[0]
    assert (
        req.points == Decimal(6) and req.due_date == dt.date(2026, 11, 30) and req.reviewer == world.inspector
    )
    assert set(req.submissions.values_list("unit__code", flat=True)) == {"S1C1", "S2C1"}
    assert all(s.state == Submission.State.DRAFT for s in req.submissions.all())
    december = services.generate_month(actor, dt.date(2026, 12, 5), [world.c1], world.inspector)
    assert {r.criterion for r in december} == {world.monthly, world.quarterly}
    # Generating again adds nothing.
    assert services.generate_month(actor, dt.date(2026, 12, 1), [world.c1], world.inspector) == []


def test_copy_previous_month(world):
    old = world.requirement(month=dt.date(2026, 10, 1), document_types=["pdf"], min_photos=2)
    world.requirement(month=dt.date(2026, 10, 1), title="志愿服务台账", units=[world.c2])
    made = services.copy_previous_month(world.actor(world.hq), MONTH)
    assert len(made) == 2
    copy = next(r for r in made if r.title == old.title)
    assert copy.month == MONTH and copy.due_date == dt.date(2026, 11, 30)
    assert copy.document_types == "pdf" and copy.min_photos == 2 and copy.reviewer == world.inspector
    assert set(copy.submissions.values_list("unit_id", flat=True)) == {world.c1.pk, world.c2.pk}
    assert services.copy_previous_month(world.actor(world.hq), MONTH) == []
    with pytest.raises(ActionRefused):
        services.copy_previous_month(world.actor(world.hq), dt.date(2026, 9, 1))


def test_planning_refusals(world):
    with pytest.raises(PermissionDenied):
        services.create_requirement(
            world.actor(world.inspector),
            MONTH,
            services.Spec(title="x", points=Decimal(1), reviewer=world.inspector),
            [world.c1],
        )
    with pytest.raises(ValidationError):
        world.requirement(reviewer=world.clerk)  # a clerk cannot review
    with pytest.raises(ValidationError):
        world.requirement(points=Decimal("-1"))
    with pytest.raises(ValidationError):
        world.requirement(title="\x00  ")
    with pytest.raises(ValidationError):
        world.requirement(document_types=["exe"])
    with pytest.raises(ValidationError):
        services.create_requirement(
            world.actor(world.hq),
            MONTH,
            services.Spec(title="x", points=Decimal(1), reviewer=world.inspector, criterion=world.field),
            [world.c1],
        )
    assert not Requirement.objects.exists() and not Submission.objects.exists()


def test_update_requirement_units_and_points(world):
    req = world.requirement()
    sub1 = req.submissions.get(unit=world.c1)
    spec = services.Spec(title="新名称", points=Decimal(8), reviewer=world.inspector2, min_photos=1)
    services.update_requirement(world.actor(world.hq), req, spec, units=[world.c1, world.dept])
    req.refresh_from_db()
    assert req.title == "新名称" and req.reviewer == world.inspector2
    assert set(req.submissions.values_list("unit_id", flat=True)) == {world.c1.pk, world.dept.pk}
    services.save_draft(world.actor(world.clerk), sub1, "草稿")
    with pytest.raises(ActionRefused):
        services.update_requirement(world.actor(world.hq), req, spec, units=[world.dept])
    assert req.submissions.filter(unit=world.c1).exists()
    assert AuditLog.objects.filter(action="materials.requirement.update").count() == 1


def test_the_month_end_to_end(world):
    req = world.requirement(document_types=["docx", "pdf"])
    sub = req.submissions.get(unit=world.c1)
    clerk = world.actor(world.clerk)
    services.save_draft(clerk, sub, "本月学习 \x00两次")
    sub.refresh_from_db()
    assert sub.text == "本月学习 两次" and sub.state == Submission.State.DRAFT
    with pytest.raises(ValidationError, match="照片.*文档"):
        services.submit(clerk, sub)
    stored = services.add_files(clerk, sub, [photo(), upload("记录.docx", docx_bytes())])
    assert [f.kind for f in stored] == [MaterialFile.Kind.PHOTO, MaterialFile.Kind.DOCUMENT]
    assert all(f.file.name.startswith("private/materials/") for f in stored)
    assert services.missing(sub) == []
    services.submit(clerk, sub)
    sub.refresh_from_db()
    assert sub.state == Submission.State.SUBMITTED and sub.version == 1 and not sub.is_late

    reviewer = world.actor(world.inspector)
    services.return_submission(reviewer, sub, "照片不清晰", version=1)
    sub.refresh_from_db()
    assert sub.state == Submission.State.RETURNED and sub.return_count == 1
    services.add_files(clerk, sub, [photo("second.png", png_bytes("green"))])
    services.submit(clerk, sub)
    sub.refresh_from_db()
    assert sub.version == 2 and sub.state == Submission.State.SUBMITTED
    # A stale review of the first version is refused.
    with pytest.raises(ActionRefused):
        services.score_submission(reviewer, sub, 9, version=1)
    services.score_submission(reviewer, sub, "9.5", "规范", version=2)
    sub.refresh_from_db()
    assert sub.state == Submission.State.ACCEPTED and sub.score == Decimal("9.5")
    # A second review of the same version is refused and changes nothing.
    with pytest.raises(ActionRefused):
        services.score_submission(reviewer, sub, 3, version=2)
    with pytest.raises(ActionRefused):
        services.return_submission(reviewer, sub, "再退", version=2)
    sub.refresh_from_db()
    assert sub.score == Decimal("9.5") and sub.return_count == 1
    kinds = list(sub.events.values_list("kind", flat=True))
    assert kinds == [
        "assigned",
        "saved",
        "uploaded",
        "submitted",
        "returned",
        "uploaded",
        "submitted",
        "scored",
    ]
    event = sub.events.get(kind="returned")
    assert event.actor == world.inspector and event.ip == "10.0.0.1" and event.via == "web"


def test_late_submission_is_accepted_and_marked(world):
    req = world.requirement()
    Requirement.objects.filter(pk=req.pk).update(due_date=dt.date(2026, 1, 30))
    sub = req.submissions.get(unit=world.c1)
    complete(world, sub)
    sub.refresh_from_db()
    assert sub.state == Submission.State.SUBMITTED and sub.is_late


def test_clerk_refusals(world):
    req = world.requirement()
    sub = req.submissions.get(unit=world.c1)
    for user in (world.clerk2, world.street_clerk, world.handler, world.hq):
        with pytest.raises(PermissionDenied):
            services.save_draft(world.actor(user), sub, "x")
        with pytest.raises(PermissionDenied):
            services.add_files(world.actor(user), sub, [photo()])
    with pytest.raises(ValidationError):
        services.save_draft(world.actor(world.clerk), sub, "x" * 20001)
    complete(world, sub)
    with pytest.raises(ActionRefused):
        services.save_draft(world.actor(world.clerk), sub, "改")
    with pytest.raises(ActionRefused):
        services.add_files(world.actor(world.clerk), sub, [photo()])
    with pytest.raises(ActionRefused):
        services.remove_file(world.actor(world.clerk), sub.files.first())
    assert sub.files.count() == 1


def test_review_refusals(world):
    req = world.requirement()
    sub = req.submissions.get(unit=world.c1)
    with pytest.raises(ActionRefused):  # nothing submitted yet
        services.score_submission(world.actor(world.inspector), sub, 5)
    sub = complete(world, sub)
    for user in (world.hq, world.inspector2, world.clerk):
        with pytest.raises(PermissionDenied):
            services.score_submission(world.actor(user), sub, 5)
    for score in ("10.01", "-1", "abc", "5.555", "NaN"):
        with pytest.raises(ValidationError):
            services.score_submission(world.actor(world.inspector), sub, score)
    with pytest.raises(ValidationError):
        services.return_submission(world.actor(world.inspector), sub, "  ")
    sub.refresh_from_db()
    assert sub.state == Submission.State.SUBMITTED and sub.score is None and sub.return_count == 0
    assert not sub.events.filter(kind__in=["scored", "returned"]).exists()


def test_photo_stored_privately_without_exif(world):
    sub = world.requirement().submissions.get(unit=world.c1)
    [item] = services.add_files(world.actor(world.clerk), sub, [photo("p.jpg", jpeg_with_exif())])
    with default_storage.open(item.file.name) as handle:
        shown = Image.open(handle)
        assert not shown.getexif()
    with default_storage.open(item.original.name) as handle:
        assert Image.open(handle).getexif().get(0x010F) == "TestCamera"
    assert item.original.name.startswith("private/") and item.thumbnail.name.startswith("private/")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("fake.png", b"not an image at all", "不是有效的图片"),
        ("记录.pdf", b"MZ\x90\x00 an executable", "不是有效的"),
        ("记录.docx", b"PK\x03\x04 broken zip", "不是有效的"),
        ("记录.docx", b"%PDF-1.4 a pdf", "与扩展名不符"),
        ("表.xlsx", docx_bytes(), "与扩展名不符"),
        ("empty.pdf", b"", "空文件"),
    ],
)
def test_forged_and_wrong_files_are_refused(world, name, data, message):
    sub = world.requirement().submissions.get(unit=world.c1)
    good = photo()
    with pytest.raises(ValidationError, match=message):
        services.add_files(world.actor(world.clerk), sub, [good, upload(name, data)])
    assert not MaterialFile.objects.exists()
    assert not sub.events.filter(kind=SubmissionEvent.Kind.UPLOADED).exists()


def test_size_limits_and_allowed_types(world, settings):
    settings.MATERIALS_MAX_DOCUMENT_BYTES = 100
    sub = world.requirement(document_types=["pdf"]).submissions.get(unit=world.c1)
    with pytest.raises(ValidationError, match="超过"):
        services.add_files(world.actor(world.clerk), sub, [upload("a.pdf", b"%PDF-" + b"x" * 200)])
    settings.MATERIALS_MAX_DOCUMENT_BYTES = 10_000
    with pytest.raises(ValidationError, match="只接受"):
        services.add_files(world.actor(world.clerk), sub, [upload("t.xlsx", xlsx_bytes())])
    [ok] = services.add_files(world.actor(world.clerk), sub, [upload("a.pdf", b"%PDF-1.7 ok")])
    assert ok.content_type == "application/pdf"
    settings.MATERIALS_MAX_FILES = 1
    with pytest.raises(ValidationError, match="最多"):
        services.add_files(world.actor(world.clerk), sub, [photo()])


def test_remove_file_frees_storage(world, django_capture_on_commit_callbacks):
    sub = world.requirement().submissions.get(unit=world.c1)
    [item] = services.add_files(world.actor(world.clerk), sub, [photo()])
    names = [item.file.name, item.original.name, item.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_file(world.actor(world.clerk), item)
    assert not sub.files.exists()
    assert not any(default_storage.exists(n) for n in names)


def test_allowed_actions(world):
    sub = world.requirement().submissions.get(unit=world.c1)
    assert services.allowed_actions(world.clerk, sub) == ["edit", "submit"]
    assert services.allowed_actions(world.inspector, sub) == []
    complete(world, sub)
    sub.refresh_from_db()
    assert services.allowed_actions(world.clerk, sub) == []
    assert services.allowed_actions(world.inspector, sub) == ["review"]
    assert services.allowed_actions(world.hq, sub) == []


def test_visibility(world):
    req = world.requirement()
    c1 = req.submissions.get(unit=world.c1)
    assert list(services.visible_submissions(world.clerk)) == [c1]
    assert set(services.visible_submissions(world.street_clerk)) == {c1}  # its territory
    assert services.visible_submissions(world.inspector).count() == 2
    assert services.visible_submissions(world.hq).count() == 2
