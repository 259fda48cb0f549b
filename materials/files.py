"""Checking and storing the files of a submission 资料文件.

Photos go through ``cases.photos`` (validated by content, EXIF stripped from the copy that is
shown); documents are accepted as DOCX, XLSX or PDF judged by their content: a PDF starts with
``%PDF-``, a DOCX or XLSX is a ZIP archive holding ``[Content_Types].xml`` and the part that makes
it a Word document or a workbook. The name's extension is not trusted; one that names another
type than the content is refused as forged. Everything is stored under ``private/materials/`` and
served only through the views that check the submission's scope.
"""

import hashlib
import io
import re
import uuid
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import photos

from .models import DOCUMENT_TYPES, MaterialFile, Submission

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The part that makes an Office Open XML package a Word document or a workbook.
OOXML_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
IMAGE_SUFFIXES = ("jpg", "jpeg", "png", "webp")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def max_document_bytes() -> int:
    return int(getattr(settings, "MATERIALS_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024))


def max_files() -> int:
    return int(getattr(settings, "MATERIALS_MAX_FILES", 30))


def clean_name(name: str | None, suffix: str) -> str:
    """A display name without path parts or control characters, ending in the content's suffix."""
    base = CONTROL.sub("", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip() or "file"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem[: 190 - len(suffix)]}.{suffix}"


def _suffix(name: str | None) -> str:
    name = (name or "").lower()
    return name.rsplit(".", 1)[-1] if "." in name else ""


@dataclass(frozen=True)
class ValidDocument:
    data: bytes
    kind: str  # a key of DOCUMENT_TYPES


@dataclass(frozen=True)
class Checked:
    """One upload that passed: a photo or a document, with the name it was sent under."""

    name: str
    photo: photos.ValidPhoto | None = None
    document: ValidDocument | None = None


def _document_kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    return next((kind for kind, part in OOXML_PARTS.items() if part in names), None)


def validate_document(upload) -> ValidDocument:
    limit = max_document_bytes()
    label = upload.name or "文件"
    if upload.size is not None and upload.size > limit:
        raise ValidationError(f"「{label}」超过 {limit // (1024 * 1024)} MB")
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"「{label}」超过 {limit // (1024 * 1024)} MB")
    if not data:
        raise ValidationError(f"「{label}」是空文件")
    kind = _document_kind(data)
    if kind is None:
        raise ValidationError(f"「{label}」不是有效的 Word（DOCX）、Excel（XLSX）或 PDF 文档")
    declared = _suffix(upload.name)
    if declared in DOCUMENT_TYPES and declared != kind:
        raise ValidationError(f"「{label}」的内容是 {kind.upper()}，与扩展名不符")
    return ValidDocument(data, kind)


def check_upload(upload) -> Checked:
    """Judge one upload by its content: a photo when its name says image, else a document."""
    if _suffix(upload.name) in IMAGE_SUFFIXES or (upload.content_type or "").startswith("image/"):
        try:
            return Checked(upload.name or "", photo=photos.validate(upload))
        except ValidationError as exc:
            raise ValidationError(f"「{upload.name}」：{'；'.join(exc.messages)}") from exc
    return Checked(upload.name or "", document=validate_document(upload))


def store(submission: Submission, checked: Checked, user) -> MaterialFile:
    """Store one checked upload and its row; call inside ``cases.photos.atomic()`` so the files go
    if the step rolls back."""
    stem = f"{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}"
    version = submission.version + 1
    if checked.photo is not None:
        made = photos.copies(checked.photo)
        original = photos.save(
            f"private/materials/originals/{stem}.{photos.FORMATS[checked.photo.format]}", checked.photo.data
        )
        return MaterialFile.objects.create(
            submission=submission,
            kind=MaterialFile.Kind.PHOTO,
            name=clean_name(checked.name, "jpg"),
            content_type="image/jpeg",
            file=photos.save(f"private/materials/photos/{stem}.jpg", made.display),
            original=original,
            thumbnail=photos.save(f"private/materials/thumbs/{stem}.jpg", made.thumbnail),
            size=len(made.display),
            sha256=hashlib.sha256(checked.photo.data).hexdigest(),
            added_in_version=version,
            uploaded_by=user,
        )
    document = checked.document
    assert document is not None  # a Checked holds a photo or a document
    return MaterialFile.objects.create(
        submission=submission,
        kind=MaterialFile.Kind.DOCUMENT,
        name=clean_name(checked.name, document.kind),
        content_type=CONTENT_TYPES[document.kind],
        file=photos.save(f"private/materials/documents/{stem}.{document.kind}", document.data),
        size=len(document.data),
        sha256=hashlib.sha256(document.data).hexdigest(),
        added_in_version=version,
        uploaded_by=user,
    )
