"""The upward report package 上报资料包: one ZIP per month for the upper-level online reporting
platform. A folder per index item (``A01 理论学习``, or ``其他资料`` for hand-added requirements)
and per unit within it holds each accepted submission's files and its text (``文字说明.txt``);
``清单.xlsx`` lists every file in the archive with its criterion, unit, title and score.

Memory stays flat: the archive is written to a temporary file on disk, each stored file copied in
chunks (stored, not deflated again: photos, PDFs and Office files are compressed already), the manifest written by XlsxWriter in constant-memory mode; the view streams the finished
file. Every manifest cell is text where the value is text (never a formula).
"""

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone

from .models import MaterialFile, Submission

MANIFEST = "清单.xlsx"
TEXT_NAME = "文字说明.txt"
COLUMNS = [
    "文件路径",
    "测评内容",
    "测评标准编码",
    "测评标准",
    "单位编码",
    "单位",
    "资料名称",
    "文件类型",
    "得分",
    "分值",
]
UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
CHUNK = 1024 * 1024


def _safe(name: str) -> str:
    return UNSAFE.sub("_", name).strip(" .") or "_"


def accepted(month) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(requirement__month=month, state=Submission.State.ACCEPTED)
        .select_related("requirement__criterion__item", "unit")
        .prefetch_related("files")
        .order_by(
            "requirement__criterion__item__project__position",
            "requirement__criterion__item__position",
            "unit__code",
            "requirement_id",
        )
    )


def folder(sub: Submission) -> str:
    criterion = sub.requirement.criterion
    top = f"{criterion.item.code} {criterion.item.name}" if criterion else "其他资料"
    return f"{_safe(top)[:80]}/{_safe(f'{sub.unit.code} {sub.unit.name}')[:80]}/{_safe(sub.requirement.title)[:60]}"


def entries(month) -> Iterator[tuple[str, Submission, MaterialFile | None]]:
    """(path in the archive, submission, file or None for the text) for every accepted item."""
    for sub in accepted(month).iterator(chunk_size=200):
        base = folder(sub)
        used: set[str] = set()
        if sub.text.strip():
            used.add(TEXT_NAME)
            yield f"{base}/{TEXT_NAME}", sub, None
        for item in sub.files.all():
            name = _safe(item.name)
            stem, dot, suffix = name.rpartition(".")
            n = 1
            while name in used:
                n += 1
                name = f"{stem}-{n}{dot}{suffix}"
            used.add(name)
            yield f"{base}/{name}", sub, item


def _row(path: str, sub: Submission, item: MaterialFile | None) -> list:
    criterion = sub.requirement.criterion
    return [
        path,
        f"{criterion.item.code} {criterion.item.name}" if criterion else "其他资料",
        criterion.code if criterion else "",
        criterion.text if criterion else "",
        sub.unit.code,
        sub.unit.name,
        sub.requirement.title,
        item.get_kind_display() if item else "文字说明",
        sub.score,
        sub.requirement.points,
    ]


def build(month, out: IO[bytes]) -> int:
    """Write the month's package into ``out``; returns the number of material files and texts."""
    count = 0
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest_path = f"{scratch}/manifest.xlsx"
        book = xlsxwriter.Workbook(
            manifest_path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        sheet = book.add_worksheet("清单")
        for col, title in enumerate(COLUMNS):
            sheet.write_string(0, col, title)
        for path, sub, item in entries(month):
            if item is None:
                archive.writestr(path, sub.text.encode("utf-8"))
            else:
                # Photos, PDFs and Office files are compressed already: stored as they are, which
                # is several times faster than deflating them again for no gain.
                entry = zipfile.ZipInfo(path, date_time=timezone.localtime(item.uploaded_at).timetuple()[:6])
                entry.compress_type = zipfile.ZIP_STORED
                with item.file.open("rb") as source, archive.open(entry, "w") as target:
                    shutil.copyfileobj(source, target, CHUNK)
            count += 1
            for col, value in enumerate(_row(path, sub, item)):
                if isinstance(value, str):
                    sheet.write_string(count, col, value)
                elif value is not None:
                    sheet.write_number(count, col, float(value))
        book.close()
        archive.write(manifest_path, MANIFEST)
    return count


def build_tempfile(month) -> tuple[IO[bytes], int]:
    """The package in an anonymous temporary file (gone when closed), rewound for streaming."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (the streaming response closes it)
    try:
        count = build(month, handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle, count
