"""Workbooks made the way office staff make them, generated for the import tests (no binary files).

``openpyxl_book`` writes cells with number formats, formulas (openpyxl stores no cached value, as
some tools do), merged ranges, hidden rows, protected sheets and title rows; ``xlsxwriter_book``
writes formulas with a cached result (XlsxWriter caches 0 unless told the value) and, in
``constant_memory`` mode, inline strings as LibreOffice and WPS often do. ``ole_file`` and
``ods_file`` make the start of an encrypted workbook, an .xls and an .ods: enough for the reader
to tell them apart, which is all it does with them.
"""

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import xlsxwriter
from openpyxl import Workbook


@dataclass
class Cell:
    """A cell with more than a value: a number format, or a formula (with an optional cached value,
    which only ``xlsxwriter_book`` can store)."""

    value: Any = None
    number_format: str | None = None
    formula: str | None = None
    error: bool = False  # write ``value`` as an error cell such as #REF!


@dataclass
class Sheet:
    rows: list[list[Any]]
    merges: list[str] = field(default_factory=list)
    hidden_rows: list[int] = field(default_factory=list)
    protected: bool = False


def openpyxl_book(sheets: dict[str, Sheet | list[list[Any]]]) -> io.BytesIO:
    book = Workbook()
    book.remove(book.active)
    for title, content in sheets.items():
        sheet = content if isinstance(content, Sheet) else Sheet(content)
        ws = book.create_sheet(title)
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(r, c)
                if isinstance(value, Cell):
                    if value.formula is not None:
                        cell.value = value.formula  # openpyxl writes no cached value
                    else:
                        cell.value = value.value
                        if isinstance(value.value, str) and not value.error:
                            cell.data_type = "s"
                    if value.error:
                        cell.data_type = "e"
                    if value.number_format:
                        cell.number_format = value.number_format
                elif value is not None:
                    cell.value = value
                    if isinstance(value, str):
                        cell.data_type = "s"  # as typed, even when it starts with "="
        for ref in sheet.merges:
            ws.merge_cells(ref)
        for number in sheet.hidden_rows:
            ws.row_dimensions[number].hidden = True
        if sheet.protected:
            ws.protection.sheet = True
            ws.protection.password = "1234"
    return _saved(book)


def xlsxwriter_book(sheets: dict[str, list[list[Any]]], *, constant_memory: bool = False) -> io.BytesIO:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "constant_memory": constant_memory, "strings_to_numbers": False}
    )
    formats: dict[str, Any] = {}
    for title, rows in sheets.items():
        ws = book.add_worksheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, Cell):
                    fmt = None
                    if value.number_format:
                        fmt = formats.setdefault(
                            value.number_format, book.add_format({"num_format": value.number_format})
                        )
                    if value.formula is not None:
                        if value.value is None:
                            ws.write_formula(r, c, value.formula, fmt)  # cached result: 0
                        else:
                            ws.write_formula(r, c, value.formula, fmt, value.value)
                    else:
                        ws.write(r, c, value.value, fmt)
                elif isinstance(value, str):
                    ws.write_string(r, c, value)
                elif value is not None:
                    ws.write(r, c, value)
    book.close()
    out.seek(0)
    return out


def _saved(book: Workbook) -> io.BytesIO:
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole_file(*streams: str) -> io.BytesIO:
    """The start of an OLE compound file naming ``streams`` in its directory (UTF-16 names):
    ("EncryptionInfo", "EncryptedPackage") is a password-protected .xlsx, ("Workbook",) an .xls."""
    directory = b"".join(name.encode("utf-16-le").ljust(64, b"\0") + b"\0" * 64 for name in streams)
    return io.BytesIO(OLE_MAGIC + b"\0" * 504 + directory + b"\0" * 512)


def ods_file() -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    out.seek(0)
    return out


def with_member(file: io.BytesIO, name: str, content: bytes) -> io.BytesIO:
    """``file`` (a zip) with the member ``name`` replaced or added."""
    source = zipfile.ZipFile(file)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
        target.writestr(name, content)
    out.seek(0)
    return out


def fullwidth(text: str) -> str:
    """ASCII letters and digits as their full-width forms (what a Chinese input method types)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)
