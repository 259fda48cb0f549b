"""The chart of the ranking and the photos of the worst problems in a circular (Word and PDF)."""

import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document
from PIL import Image
from pypdf import PdfReader

from assessment import services
from assessment.tests.helpers import at, scheme
from cases import photos
from cases.models import Case, CasePhoto
from cases.tests.factories import CaseFactory
from org.audit import Actor

pytestmark = pytest.mark.django_db


def jpeg(colour=(200, 80, 40), size=(320, 240)) -> SimpleUploadedFile:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # the original keeps it; the public copy must not
    Image.new("RGB", size, colour).save(out, "JPEG", exif=exif)
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def overdue_case(unit, number: str, day: int, kind=CasePhoto.Kind.BEFORE) -> CasePhoto:
    """A case dispatched to ``unit`` with its part due 11-15 and never handled, with one photo."""
    case = CaseFactory(
        lead_unit=unit,
        number=number,
        address="人民路 1 号",
        status=Case.Status.DISPATCHED,
        reported_at=at(day),
        accepted_at=at(day),
        dispatched_at=at(day),
        handle_deadline=at(15),
    )
    with photos.atomic():
        return photos.store(case, photos.validate(jpeg()), kind)


def pictures(docx_bytes: bytes) -> list[bytes]:
    doc = Document(io.BytesIO(docx_bytes))
    return [shape._inline.graphic.graphicData.pic.blipFill.blip.embed for shape in doc.inline_shapes]


def test_circular_has_the_chart_and_the_worst_units_overdue_photos(world):
    units, hq = world
    # D is last (black list): two overdue cases with before-photos, a third with an after-photo
    # only; A (first, red list) has an overdue case with a photo that must not be shown.
    d1 = overdue_case(units["D"], "2026-000001", 10)
    d2 = overdue_case(units["D"], "2026-000002", 11)
    overdue_case(units["D"], "2026-000003", 12, kind=CasePhoto.Kind.AFTER)
    run = services.compute_run(Actor(hq), scheme(hq), dt.date(2026, 11, 5), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    red, black = services.red_black(run)
    assert [s.unit.name for s in black][0] == "D" and "A" in [s.unit.name for s in red]
    overdue_case(units["A"], "2026-000009", 10)  # after T: not in the run's figures nor photos

    shown = services.problem_photos(run, black)
    assert [p.caption for p in shown] == [
        "D：案件 2026-000002 " + d2.case.category.name + "，人民路 1 号，截至11月30日23:00超期未处置",
        "D：案件 2026-000001 " + d1.case.category.name + "，人民路 1 号，截至11月30日23:00超期未处置",
    ]
    with default_storage.open(d2.image.name, "rb") as fh:
        assert shown[0].data == fh.read()  # the public copy …
    assert b"PhoneMaker" not in shown[0].data  # … without the original's metadata

    circular = services.issue_circular(Actor(hq), run, "关于11月考评情况的通报", "现通报如下。")
    # Word: the chart and the two photos as inline pictures, each with its caption
    doc = Document(io.BytesIO(bytes(circular.document)))
    assert len(pictures(bytes(circular.document))) == 3
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "图 各单位总分" in text and "四、突出问题" in text
    assert shown[0].caption in text and shown[1].caption in text
    chart = doc.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    png = doc.part.related_parts[chart].blob
    assert png.startswith(b"\x89PNG")
    # PDF: the chart is drawn as vectors (its caption and the units' names are text), the photos
    # are images
    reader = PdfReader(io.BytesIO(bytes(circular.pdf)))
    pdf_text = "".join(page.extract_text() for page in reader.pages)
    assert "图 各单位总分" in pdf_text and "1. A" in pdf_text
    assert "四、突出问题" in pdf_text and "2026-000002" in pdf_text
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 2
    assert {image.image.size for image in images} == {(320, 240)}


def test_a_circular_without_overdue_photos_has_the_chart_only(world):
    _units, hq = world
    run = services.compute_run(Actor(hq), scheme(hq), dt.date(2026, 11, 5), at=at(30, 23))
    services.publish_run(Actor(hq), run)
    circular = services.issue_circular(Actor(hq), run, "关于11月考评情况的通报", "现通报如下。")
    assert len(pictures(bytes(circular.document))) == 1
    reader = PdfReader(io.BytesIO(bytes(circular.pdf)))
    assert not [image for page in reader.pages for image in page.images]
    assert "四、突出问题" not in "".join(page.extract_text() for page in reader.pages)
    assert services.circular_pdf(circular) == bytes(circular.pdf)
