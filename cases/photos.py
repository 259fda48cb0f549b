"""Case photos: validated by content, the original kept privately, a stripped copy and a thumbnail.

An upload is accepted when Pillow decodes it as JPEG, PNG or WebP and it is no larger than
``UPLOAD_MAX_IMAGE_BYTES``; the file name and the declared content type are not trusted. The
original (with its EXIF and GPS metadata, the evidence) is stored under ``private/``, under a
random name of its own, and is never served by URL. Pages show a copy re-encoded from the pixels alone (no metadata, rotated upright)
and a thumbnail. Everything goes through Django's default storage, so an object store works too.

Files are not part of the database transaction: a step that stores photos runs in
``photos.atomic()`` instead of ``transaction.atomic()``, which deletes the files stored inside it
when the block rolls back (an exception leaves it, or the transaction was marked for rollback).
Nested ``photos.atomic()`` blocks hand their files to the enclosing one, so a caller that wraps a
step in its own transaction (appeals) uses ``photos.atomic()`` for that outer block too.
"""

import contextlib
import contextvars
import dataclasses
import datetime as dt
import hashlib
import io
import logging
import secrets
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import Case, CaseEvent, CasePhoto

logger = logging.getLogger(__name__)

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 40_000_000
TOO_MANY_PIXELS = f"图片像素过多（最多 {MAX_PIXELS // 10_000} 万像素）"
# At most this many photos in one step (a report, a handling), and at most
# ``UPLOAD_MAX_STEP_BYTES`` in all, whichever channel they come through.
MAX_PHOTOS_PER_STEP = 9
DISPLAY_SIZE = 1600
THUMBNAIL_SIZE = 320


# Names stored inside the innermost running ``atomic()`` block (None outside any).
_stored: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "cases_photos_stored", default=None
)


@contextlib.contextmanager
def atomic() -> Iterator[None]:
    """``transaction.atomic()`` that deletes the photo files stored inside it if it rolls back."""
    names: list[str] = []
    token = _stored.set(names)
    committed = False
    try:
        with transaction.atomic():
            yield
            committed = not transaction.get_connection().needs_rollback
    finally:
        _stored.reset(token)
        if committed:
            outer = _stored.get()
            if outer is not None:
                outer.extend(names)  # the enclosing block may still roll back
        else:
            for name in names:
                default_storage.delete(name)


def save(name: str, data: bytes) -> str:
    """Store ``data`` under ``name`` (the storage may pick a free name); inside ``atomic()`` the
    file is deleted again if the block rolls back."""
    saved = default_storage.save(name, ContentFile(data))
    names = _stored.get()
    if names is not None:
        names.append(saved)
    return saved


def max_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_IMAGE_BYTES", 10 * 1024 * 1024))


def max_step_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_STEP_BYTES", 30 * 1024 * 1024))


@dataclass(frozen=True)
class ValidPhoto:
    """An upload that passed validation: its bytes and Pillow format name."""

    data: bytes
    format: str


def validate(upload) -> ValidPhoto:
    """Check one upload by its content; ValidationError when it is not an acceptable photo."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes():
        raise ValidationError(f"照片不能超过 {max_bytes() // (1024 * 1024)} MB")
    upload.seek(0)
    data = upload.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise ValidationError(f"照片不能超过 {max_bytes() // (1024 * 1024)} MB")
    if not data:
        raise ValidationError("照片是空文件")
    try:
        # Pillow refuses a picture over twice its own pixel limit while reading the header (a
        # decompression bomb); ours is lower and checked before any pixel is decoded.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
        with probe:
            image_format = probe.format or ""
            if image_format not in FORMATS:
                raise ValidationError("照片只能是 JPEG、PNG 或 WebP 格式")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(TOO_MANY_PIXELS)
            probe.verify()
    except Image.DecompressionBombError as exc:
        raise ValidationError(TOO_MANY_PIXELS) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError("文件不是有效的图片") from exc
    return ValidPhoto(data, image_format)


def validate_all(uploads) -> list[ValidPhoto]:
    """Validate every upload before anything is stored, so a bad one stores nothing; a step takes
    at most ``MAX_PHOTOS_PER_STEP`` photos and ``max_step_bytes()`` in all."""
    uploads = list(uploads)
    if len(uploads) > MAX_PHOTOS_PER_STEP:
        raise ValidationError(f"每次最多上传 {MAX_PHOTOS_PER_STEP} 张照片")
    total = sum(getattr(upload, "size", 0) or 0 for upload in uploads)
    if total > max_step_bytes():
        raise ValidationError(f"照片合计不能超过 {max_step_bytes() // (1024 * 1024)} MB")
    return [validate(upload) for upload in uploads]


def _encode(image: Image.Image, longest: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((longest, longest))
    if copy.mode not in ("RGB", "L"):
        copy = copy.convert("RGB")
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: nothing is carried over
    return out.getvalue()


@dataclass(frozen=True)
class Copies:
    """What pages show of a photo: the upright copy without metadata and its thumbnail (JPEG)."""

    display: bytes
    thumbnail: bytes
    width: int
    height: int


def copies(photo: ValidPhoto) -> Copies:
    """The stripped display copy and thumbnail of a validated photo, re-encoded from the pixels."""
    with Image.open(io.BytesIO(photo.data)) as opened:
        upright = ImageOps.exif_transpose(opened)
        width, height = upright.size
        return Copies(_encode(upright, DISPLAY_SIZE), _encode(upright, THUMBNAIL_SIZE), width, height)


@dataclass(frozen=True)
class StoredFiles:
    """The three files of a stored photo and what the photo row records about it."""

    original: str
    image: str
    thumbnail: str
    sha256: str
    size: int
    width: int
    height: int

    def fields(self) -> dict[str, str | int]:
        """The photo row's file fields (every app's photo row has these names)."""
        return dataclasses.asdict(self)


def store_files(photo: ValidPhoto, folder: str) -> StoredFiles:
    """Save the original (under ``private/<folder>/``), the stripped copy and the thumbnail of a
    validated photo. Other apps' photos (inspections, volunteer orders) use it with their own
    folder and row (``StoredFiles.fields()`` fills the row's file fields).

    Call it inside ``photos.atomic()`` so the files go if the step rolls back."""
    data = photo.data
    made = copies(photo)
    month = f"{timezone.localdate():%Y/%m}"
    stem = f"{month}/{uuid.uuid4().hex}"
    # The original gets its own random name: knowing a public copy's name tells nothing about it.
    original = save(f"private/{folder}/{month}/{secrets.token_urlsafe(24)}.{FORMATS[photo.format]}", data)
    return StoredFiles(
        original=original,
        image=save(f"{folder}/photos/{stem}.jpg", made.display),
        thumbnail=save(f"{folder}/thumbs/{stem}.jpg", made.thumbnail),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        width=made.width,
        height=made.height,
    )


def store(
    case: Case, photo: ValidPhoto, kind: str, *, event: CaseEvent | None = None, user=None
) -> CasePhoto:
    """Save the files of a validated photo (``store_files``) and its case photo row.

    Call it inside ``photos.atomic()`` so the files go if the step rolls back."""
    files = store_files(photo, "cases")
    return CasePhoto.objects.create(case=case, event=event, kind=kind, uploaded_by=user, **files.fields())


def _referenced(names: list[str]) -> set[str]:
    """Those of ``names`` that a file field of any model stores (a photo row of any app)."""
    found: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                found.update(
                    model._default_manager.filter(**{f"{field.name}__in": names}).values_list(
                        field.name, flat=True
                    )
                )
    return found


def sweep_orphans(
    *,
    older_than: dt.timedelta = dt.timedelta(hours=1),
    folders: tuple[str, ...] = ("cases", "inspections", "volunteers"),
    months: int = 2,
) -> list[str]:
    """Delete the photo files that no row names, older than ``older_than``; return their names.

    ``atomic()`` removes the files of a step that rolls back, but a process killed mid-step (a
    worker's SIGKILL, a power cut) leaves the files it had stored with no row (the fault drill,
    bench/faults.py, produces them). This sweep, run nightly by the worker (``chuangwen/schedule``),
    removes them. It looks at the month folders of this month and the ``months - 1`` before (where
    such leftovers appear) and spares younger files, which may belong to a step still running."""
    today = timezone.localdate()
    stamps = []
    year, month = today.year, today.month
    for _ in range(months):
        stamps.append(f"{year:04d}/{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    cutoff = timezone.now() - older_than
    removed: list[str] = []
    for folder in folders:
        for stamp in stamps:
            for base in (f"{folder}/photos/{stamp}", f"{folder}/thumbs/{stamp}", f"private/{folder}/{stamp}"):
                if not default_storage.exists(base):
                    continue
                names = [f"{base}/{name}" for name in default_storage.listdir(base)[1]]
                for start in range(0, len(names), 500):
                    batch = names[start : start + 500]
                    kept = _referenced(batch)
                    for name in batch:
                        if name not in kept and default_storage.get_modified_time(name) < cutoff:
                            default_storage.delete(name)
                            removed.append(name)
    if removed:
        logger.warning("removed %d photo files that no row names (a step killed mid-way)", len(removed))
    return removed
