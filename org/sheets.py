"""Reading and writing XLSX workbooks (表格): the one layer every import and export goes through.

Offices send workbooks typed by many hands in Excel and WPS: full-width characters, title rows
above the header, merged cells, codes typed as numbers, formulas, hidden rows. This module turns
such a file into plain, normalised text rows, or refuses it with errors that each name the sheet,
row, column and cause in Chinese. An import declares its sheets and columns (``SheetSpec``,
``Column``) and validates what ``read_sheet`` returns; it never touches openpyxl cells itself.

Reading, in order:

1. ``open_workbook``: the file is told apart before parsing (an encrypted file, an .xls, an .ods,
   not a workbook at all); the zip members' uncompressed sizes and each sheet's row count are
   checked against ``MAX_UNCOMPRESSED_BYTES`` / ``MAX_ROWS`` before any XML is parsed.
2. ``read_sheet``: the sheet is found by name after trimming and width folding; the header row is
   found by name among the first ``HEADER_SEARCH_ROWS`` rows (title rows above it skipped; spaces,
   ``*`` marks and "（…）" notes ignored; 序号 and unknown columns ignored); 合计 rows are skipped.
3. Every cell is converted honestly for its column's ``Kind`` (see ``_convert``): number formats
   such as 0000 are honoured for codes; a number that cannot be told apart from another code
   (5.1 for 5.10) is refused; date cells in text columns are refused; decimals are rounded to the
   column's precision when the difference is float noise; a formula without a cached value is
   refused ("在 Excel/WPS 中打开并保存，或粘贴为数值"); error cells are refused.
4. Merged ranges are filled down in columns that allow it (``Column.fill_down``) and named in the
   error elsewhere, so no cell is silently read as empty.
5. Text is normalised before validation (see ``normalise``): zero-width characters, BOM and
   control characters removed; codes, usernames and phones NFKC-folded (full-width → ASCII);
   names width-folded with one whitespace rule. Hidden rows, formulas and traditional characters
   become warnings the importer sees before confirming.

Writing: ``append_row`` / ``set_cell`` (openpyxl) and ``XLSXWRITER_OPTIONS`` (XlsxWriter) write
text cells as text, so a value starting with = + - @ never becomes a formula and re-imports
unchanged.

Uploads kept between the preview and the confirmation: ``stash`` / ``unstash`` (a signed token
naming a file in a private temporary directory).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from lxml import etree
from openpyxl import load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHEET_MAIN_NS

# -- limits --------------------------------------------------------------------------------------

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 10
WARNINGS_PER_KIND = 20  # warnings of one kind listed one by one in a sheet; the rest are counted


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# -- messages ------------------------------------------------------------------------------------

NOT_XLSX = "文件不是有效的 XLSX 工作簿，请在 Excel 或 WPS 中另存为 .xlsx 后重新上传"
ENCRYPTED = "文件设置了打开密码（已加密），无法读取：请在 Excel 或 WPS 中取消密码，另存为 .xlsx 后重新上传"
OLD_XLS = "这是旧版 Excel 97-2003 工作簿（.xls/.et），请在 Excel 或 WPS 中另存为 .xlsx 后重新上传"
ODS = "这是 OpenDocument 表格（.ods），请在 WPS、LibreOffice 或 Excel 中另存为 .xlsx 后重新上传"
FORMULA_NO_VALUE = "公式没有保存计算结果：请在 Excel/WPS 中打开并保存，或粘贴为数值后重新上传"
SET_AS_TEXT = "请把该列单元格格式设为「文本」后重新输入"


@dataclass
class RowError:
    """One problem, placed: sheet, row (0: the whole file or sheet) and column (letter and name)."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.row:  # about the whole file or sheet, not one row
            return self.message if self.sheet == "-" else f"{self.sheet}：{self.message}"
        return f"{self.sheet} 第{self.row}行 {self.column}列：{self.message}"


CREATED, CHANGED, UNCHANGED = "新增", "变更", "不变"


@dataclass
class ImportResult:
    """What an import found and did. ``changes``: per sheet, how many rows would be (or were)
    created (新增), changed (变更) and left alone (不变)."""

    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    changes: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return "，".join(f"{k} {v} 条" for k, v in self.counts.items())

    @property
    def change_rows(self) -> list[tuple[str, int, int, int]]:
        """(sheet, created, changed, unchanged) for the preview table."""
        return [
            (name, t.get(CREATED, 0), t.get(CHANGED, 0), t.get(UNCHANGED, 0))
            for name, t in self.changes.items()
        ]

    def file_error(self, message: str) -> None:
        self.errors.append(RowError("-", 0, "-", message))


# -- text normalisation -------------------------------------------------------------------------

# Zero-width characters, BOM, soft hyphen, and C0/C1 control characters other than tab and line
# breaks are removed from every cell (PostgreSQL refuses NUL; the rest are invisible).
_INVISIBLE = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)]
    + [0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063]
    + [0x2064, 0xFEFF, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E],
    None,
)
# In names, full-width letters, digits and the ideographic space become ASCII; Chinese
# punctuation such as （）：， stays as typed.
_WIDTH = {
    **{code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)},
    **{code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)},
    **{code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)},
    0x3000: 0x20,
}
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_INLINE_SPACES = re.compile(r"[^\S\n]+")


def strip_invisible(text: str) -> str:
    return text.translate(_INVISIBLE)


def normalise_name(text: str) -> str:
    """A name: NFC, invisible characters removed, full-width letters and digits made ASCII, every
    run of whitespace (line breaks, tabs, NBSP and full-width spaces included) one space, and no
    space at all between two Chinese characters ("张  三" is "张三")."""
    text = unicodedata.normalize("NFC", strip_invisible(text)).translate(_WIDTH)
    text = _SPACES.sub(" ", text).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


def normalise_text(text: str) -> str:
    """Free text: like a name, but line breaks are kept (each line trimmed, blank lines dropped)."""
    text = unicodedata.normalize("NFC", strip_invisible(text.replace("\r\n", "\n").replace("\r", "\n")))
    lines = (_INLINE_SPACES.sub(" ", line.translate(_WIDTH)).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalise_code(text: str) -> str:
    """A code or username: NFKC (full-width → ASCII), invisible characters removed, trimmed."""
    return unicodedata.normalize("NFKC", strip_invisible(text)).strip()


_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalise_phone(text: str) -> str:
    """A phone number: NFKC; a mobile number typed with spaces, hyphens or a +86/0086 prefix
    becomes its 11 digits; a landline typed with a separator after the area code gets one hyphen
    (0827 5261234 → 0827-5261234); anything else is left as typed, for the validator to judge."""
    text = normalise_code(text)
    digits = _PHONE_SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    if re.fullmatch(r"1\d{10}", digits):
        return digits
    landline = re.fullmatch(r"[(（]?(0\d{2,3})[)）]?[\s\-]*(\d{7,8})", text)
    if landline and landline[0] != landline[1] + landline[2]:
        return f"{landline[1]}-{landline[2]}"
    return text


def header_key(text: str) -> str:
    """A header cell as compared with a column name: NFKC, no spaces, no * marks, no "（…）" notes."""
    text = normalise_code(text)
    text = re.sub(r"\([^)]*\)|（[^）]*）|【[^】]*】|\[[^\]]*\]", "", text)
    return re.sub(r"[\s*:：]", "", text)


def sheet_key(text: str) -> str:
    return re.sub(r"\s", "", normalise_code(text))


def traditional_characters(text: str) -> str:
    """The characters of ``text`` that are likely traditional (繁体): Chinese characters outside
    GB 2312 that Big5 has. Also flags some rare simplified characters, so callers only warn."""
    found = []
    for char in text:
        if "\u4e00" <= char <= "\u9fff" and char not in found:
            try:
                char.encode("gb2312")
            except UnicodeEncodeError:
                try:
                    char.encode("big5")
                except UnicodeEncodeError:
                    continue
                found.append(char)
    return "".join(found)


# -- columns and sheets -------------------------------------------------------------------------


class Kind(StrEnum):
    CODE = "code"  # codes and usernames: NFKC; numbers only as integers or by a 0000/0.00 format
    NAME = "name"  # one-line text (names, labels, choices): see normalise_name
    TEXT = "text"  # multi-line text: see normalise_text
    PHONE = "phone"  # see normalise_phone
    DECIMAL = "decimal"  # a number rounded to ``Column.decimals`` places, written plainly


TEXT_KINDS = (Kind.CODE, Kind.NAME, Kind.TEXT, Kind.PHONE)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.NAME
    fill_down: bool = False  # a vertical merged range gives its value to every row it covers
    max_length: int | None = None
    decimals: int = 2
    warn_traditional: bool = False


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class Row:
    number: int
    values: dict[str, str]
    hidden: bool = False


SKIPPED_FIRST_CELLS = {"合计", "总计", "小计", "总分"}  # a sums row under the data, skipped


class Sheet:
    """One sheet as read: its rows, where each column was found, and the helpers that place an
    error or a warning on a row and column."""

    def __init__(self, spec: SheetSpec, result: ImportResult):
        self.spec, self.result = spec, result
        self.name = spec.name
        self.rows: list[Row] = []
        self.positions: dict[str, int] = {}  # column name → 1-based position in the file
        self._warned: dict[str, int] = {}
        self._overflow: dict[str, RowError] = {}

    def label(self, column: str) -> str:
        position = self.positions.get(column)
        if position is None and column in self.spec.names:
            position = self.spec.names.index(column) + 1
        letter = get_column_letter(position) if position else "-"
        return f"{letter}（{column}）" if column in self.spec.names else "-"

    def error(self, row: int, column: str, message: str) -> None:
        self.result.errors.append(RowError(self.name, row, self.label(column), message))

    def warn(self, row: int, column: str, message: str, kind: str = "") -> None:
        """A warning; after ``WARNINGS_PER_KIND`` of one ``kind`` in this sheet, one more line
        counts the rest ("另有 N 处同类提示，如第R行：…")."""
        kind = kind or message
        seen = self._warned[kind] = self._warned.get(kind, 0) + 1
        if seen <= WARNINGS_PER_KIND:
            self.result.warnings.append(RowError(self.name, row, self.label(column), message))
            return
        if kind not in self._overflow:
            self._overflow[kind] = RowError(self.name, 0, "-", "")
            self.result.warnings.append(self._overflow[kind])
        self._overflow[kind].message = f"另有 {seen - WARNINGS_PER_KIND} 处同类提示，如第{row}行：{message}"

    def required(self, row: Row, *columns: str) -> bool:
        missing = [c for c in columns if not row.values[c]]
        for column in missing:
            self.error(row.number, column, "不能为空")
        return not missing

    def max_lengths(self, row: Row, lengths: dict[str, int | None] | None = None) -> None:
        limits = lengths or {c.name: c.max_length for c in self.spec.columns}
        for column, limit in limits.items():
            if limit is not None and len(row.values[column]) > limit:
                self.error(
                    row.number, column, f"不能超过 {limit} 个字符（现有 {len(row.values[column])} 个）"
                )


# -- opening a workbook -------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def _sniff(data: bytes) -> str | None:
    """The refusal for a file that is not an XLSX workbook, or None when it is a zip to open."""
    if data.startswith(_OLE_MAGIC):
        # An OLE compound file: an encrypted OOXML workbook keeps EncryptionInfo/EncryptedPackage
        # streams; an .xls (or WPS .et) a Workbook or Book stream.
        if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
            return ENCRYPTED
        return OLD_XLS
    if not data.startswith(b"PK"):
        return NOT_XLSX
    return None


@dataclass
class Book:
    """An opened workbook: the openpyxl read-only workbook and its sheets by normalised name."""

    workbook: Any
    sheets: dict[str, Any]
    sizes: dict[str, int]  # zip member → uncompressed bytes

    def close(self) -> None:
        self.workbook.close()


def _read_bytes(file) -> bytes | None:
    if hasattr(file, "seek"):
        file.seek(0)
    if hasattr(file, "chunks"):  # an uploaded file
        if file.size is not None and file.size > MAX_FILE_BYTES:
            return None
        return b"".join(file.chunks())
    data = file.read(MAX_FILE_BYTES + 1)
    return None if len(data) > MAX_FILE_BYTES else data


def open_workbook(file, result: ImportResult) -> Book | None:
    """Open ``file`` for reading, or None with a file-level error in ``result``."""
    data = _read_bytes(file)
    if data is None:
        result.file_error(f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB，请拆分后分批导入")
        return None
    refusal = _sniff(data)
    if refusal:
        result.file_error(refusal)
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        result.file_error(NOT_XLSX)
        return None
    names = {m.filename for m in members}
    total = sum(m.file_size for m in members)
    if total > _limit("SHEETS_MAX_UNCOMPRESSED_BYTES", MAX_UNCOMPRESSED_BYTES):
        result.file_error(
            f"文件解压后达 {total // 1024 // 1024} MB，超过上限 "
            f"{_limit('SHEETS_MAX_UNCOMPRESSED_BYTES', MAX_UNCOMPRESSED_BYTES) // 1024 // 1024} MB："
            "请删除多余的内容（图片、空白行列、格式）或拆分后分批导入"
        )
        return None
    if "mimetype" in names:
        with archive.open("mimetype") as mimetype:
            if b"opendocument" in mimetype.read(100):
                result.file_error(ODS)
                return None
    if "xl/workbook.xml" not in names:
        result.file_error(NOT_XLSX)
        return None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # zipfile, lxml and openpyxl raise many kinds on malformed parts
        result.file_error(NOT_XLSX)
        return None
    sheets: dict[str, Any] = {}
    for ws in workbook.worksheets:
        sheets.setdefault(sheet_key(ws.title), ws)
    return Book(workbook, sheets, {m.filename: m.file_size for m in members})


# -- reading a sheet ----------------------------------------------------------------------------


_NS = f"{{{SHEET_MAIN_NS}}}"
_ROW, _CELL, _VALUE, _FORMULA, _INLINE, _TEXT, _PHONETIC, _MERGE = (
    _NS + tag for tag in ("row", "c", "v", "f", "is", "t", "rPh", "mergeCell")
)


class _SheetXml:
    """One pass over a sheet's XML with lxml (entities not resolved, no network): the rows as
    cell dicts {column, value, data_type, style_id, formula}, which rows are hidden, and the
    merged ranges. Values are the cached ones; ``formula`` tells a formula cell (with or without a
    cached value). Faster than openpyxl's read-only cells, and it keeps what they drop: formulas
    next to their cached values, hidden rows, merged ranges."""

    def __init__(self, source, shared_strings, workbook):
        self.source, self.strings = source, shared_strings
        self.epoch = workbook.epoch
        self.date_formats, self.timedelta_formats = workbook._date_formats, workbook._timedelta_formats
        self.hidden: set[int] = set()
        self.merges: list[str] = []

    def rows(self):
        number = 0
        for _event, element in etree.iterparse(
            self.source, events=("end",), tag=(_ROW, _MERGE), resolve_entities=False, no_network=True
        ):
            if element.tag == _MERGE:
                self.merges.append(element.get("ref", ""))
                continue
            number = int(element.get("r") or number + 1)
            if element.get("hidden") in ("1", "true"):
                self.hidden.add(number)
            cells = self._cells(element)
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
            yield number, cells

    def _cells(self, row) -> list[dict]:
        cells, column = [], 0
        for c in row.iterchildren(_CELL):
            ref = c.get("r")
            column = column_index_from_string(ref.rstrip("0123456789")) if ref else column + 1
            data_type, style_id = c.get("t", "n"), int(c.get("s") or 0)
            formula, text, inline = False, None, None
            for child in c:
                if child.tag == _VALUE:
                    text = child.text
                elif child.tag == _FORMULA:
                    formula = True
                elif child.tag == _INLINE:
                    inline = child
            value: Any = None
            if data_type == "inlineStr":
                data_type = "s"
                if inline is not None:
                    value = "".join(
                        t.text or "" for t in inline.iter(_TEXT) if t.getparent().tag != _PHONETIC
                    )
            elif text is not None:
                value, data_type = self._value(text, data_type, style_id)
            cells.append(
                {
                    "column": column,
                    "value": value,
                    "data_type": data_type,
                    "style_id": style_id,
                    "formula": formula,
                }
            )
        return cells

    def _value(self, text: str, data_type: str, style_id: int) -> tuple[Any, str]:
        if data_type == "s":
            return self.strings[int(text)], "s"
        if data_type == "str":
            return text, "s"
        if data_type == "b":
            return text in ("1", "true"), "b"
        if data_type == "e":
            return text, "e"
        if data_type == "d":
            return from_ISO8601(text), "d"
        number = float(text) if any(c in text for c in ".eE") else int(text)
        if style_id in self.date_formats:
            try:
                return from_excel(number, self.epoch, timedelta=style_id in self.timedelta_formats), "d"
            except (OverflowError, ValueError):
                return "#日期超出范围", "e"
        return number, "n"


def _number_format(workbook, style_id: int) -> str:
    try:
        fmt_id = workbook._cell_styles[style_id].numFmtId
    except (IndexError, AttributeError):
        return "General"
    if fmt_id < 164:
        return BUILTIN_FORMATS.get(fmt_id, "General")
    try:
        return workbook._number_formats[fmt_id - 164]
    except IndexError:
        return "General"


def _plain(value: Decimal) -> str:
    """A decimal written plainly: 10 not 1E+1, 2.5 not 2.50."""
    text = f"{value.normalize():f}"
    return text


def _format_number(value: int | float, fmt: str) -> str | None:
    """A number shown the way its format shows it, for the formats codes use: 0000 (zero padded)
    and 0.00 (fixed decimals); None for any other format."""
    fmt = fmt.split(";")[0].replace('"', "").replace("\\", "")
    if re.fullmatch(r"0+", fmt):
        return f"{int(round(value)):0{len(fmt)}d}" if float(value).is_integer() else None
    fixed = re.fullmatch(r"0+\.(0+)", fmt)
    if fixed:
        return f"{value:.{len(fixed[1])}f}"
    return None


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return _plain(Decimal(repr(value)))
    return str(value)


class _CellError(Exception):
    pass


def _convert(cell: dict, column: Column, fmt: str) -> str:
    """The text of ``cell`` for ``column``; raises _CellError with the cause."""
    value, data_type = cell["value"], cell["data_type"]
    if cell.get("formula"):
        if value is None:
            raise _CellError(FORMULA_NO_VALUE)
        if column.kind in TEXT_KINDS and data_type != "s" and not isinstance(value, str):
            # XlsxWriter and some tools cache 0 for every formula: a number in a text column.
            raise _CellError(f"公式的结果是数字 {_cell_text(value)}，此列应为文字。{FORMULA_NO_VALUE}")
    if value is None:
        return ""
    if data_type == "e":
        raise _CellError(f"单元格是错误值 {value}，请改正后重新上传")
    if data_type == "b" or isinstance(value, bool):
        raise _CellError(f"单元格是逻辑值 {'TRUE' if value else 'FALSE'}，此列应为文字")
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        moment = value.strftime("%Y-%m-%d") if isinstance(value, dt.datetime | dt.date) else str(value)
        raise _CellError(f"单元格是日期或时间（{moment}），此列应为文字：{SET_AS_TEXT}")
    if isinstance(value, int | float):
        if column.kind == Kind.DECIMAL:
            return _decimal_text(Decimal(repr(value)), column)
        if abs(value) >= 1e15:
            raise _CellError(f"数字 {_cell_text(value)} 超过 15 位，Excel 已丢失精度：{SET_AS_TEXT}")
        shown = _format_number(value, fmt)
        if shown is not None:
            return shown
        if column.kind in (Kind.CODE, Kind.PHONE) and not float(value).is_integer():
            raise _CellError(
                f"编码是数字单元格（{_cell_text(value)}），无法区分 5.1 与 5.10 这类编码：{SET_AS_TEXT}"
            )
        return _cell_text(value)
    text = str(value)
    if column.kind == Kind.DECIMAL:
        try:
            number = Decimal(normalise_code(text).replace(",", ""))
        except InvalidOperation:
            raise _CellError(f"{column.name}应为数字：{normalise_name(text)}") from None
        if not number.is_finite():
            raise _CellError(f"{column.name}应为数字：{normalise_name(text)}")
        return _decimal_text(number, column)
    return text


def _decimal_text(number: Decimal, column: Column) -> str:
    """Rounded to the column's places when the rest is float noise (6.000000000000001 → 6);
    otherwise refused, since rounding would change what was typed."""
    places = Decimal(1).scaleb(-column.decimals)
    rounded = number.quantize(places, rounding=ROUND_HALF_UP) if abs(number) < 10**15 else number
    if abs(number - rounded) > Decimal("1e-9"):
        raise _CellError(f"最多 {column.decimals} 位小数：{_plain(number)}")
    return _plain(rounded)


def _normalise(text: str, column: Column) -> str:
    if column.kind == Kind.CODE:
        return normalise_code(text)
    if column.kind == Kind.PHONE:
        return normalise_phone(text)
    if column.kind == Kind.TEXT:
        return normalise_text(text)
    if column.kind == Kind.DECIMAL:
        return text
    return normalise_name(text)


def _find_header(rows: list[tuple[int, list[dict]]], spec: SheetSpec) -> tuple[int, dict[str, int] | str]:
    """(header row number, column name → position), or (the likeliest row, why it is no header)."""
    wanted = {header_key(c.name): c.name for c in spec.columns}
    best: tuple[int, int, set[str]] = (0, 0, set())
    for number, cells in rows[:HEADER_SEARCH_ROWS]:
        positions: dict[str, int] = {}
        duplicates = []
        for cell in cells:
            if cell["value"] is None:
                continue
            key = header_key(_cell_text(cell["value"]))
            if key in wanted:
                if wanted[key] in positions:
                    duplicates.append(wanted[key])
                positions.setdefault(wanted[key], cell["column"])
        if len(positions) > best[1]:
            best = (number, len(positions), set(positions))
        if len(positions) == len(wanted):
            if duplicates:
                return number, f"表头中「{'」「'.join(duplicates)}」出现了不止一次，请只保留一列"
            return number, positions
    if not best[1]:
        return 0, f"前 {HEADER_SEARCH_ROWS} 行中没有找到表头（应包含：{'、'.join(spec.names)}）"
    missing = [c for c in spec.names if c not in best[2]]
    return best[0], f"表头缺少列：{'、'.join(missing)}（表头应包含：{'、'.join(spec.names)}）"


def read_sheet(book: Book, spec: SheetSpec, result: ImportResult) -> Sheet | None:
    """The rows of ``spec``'s sheet as normalised text, or None with the errors in ``result``."""
    sheet = Sheet(spec, result)
    ws = book.sheets.get(sheet_key(spec.name))
    if ws is None:
        result.errors.append(RowError(spec.name, 0, "-", f"缺少工作表「{spec.name}」"))
        return None
    max_rows = _limit("SHEETS_MAX_ROWS", MAX_ROWS)
    # Refused before parsing when the sheet's <dimension> declares too many rows and its XML is
    # big enough to hold them (a row takes 20 bytes at least; a dimension inflated by a merge
    # or a formatted column, with few real rows, is counted while reading instead).
    declared = ws.max_row
    xml_bytes = book.sizes.get(ws._worksheet_path.lstrip("/"), 0)
    if declared is not None and declared > max_rows + HEADER_SEARCH_ROWS and xml_bytes >= max_rows * 20:
        result.errors.append(RowError(spec.name, 0, "-", _too_many_rows(declared, max_rows)))
        return None
    workbook = book.workbook
    raw: list[tuple[int, list[dict]]] = []
    with ws._get_source() as source:
        parser = _SheetXml(source, ws._shared_strings, workbook)
        try:
            for number, cells in parser.rows():
                if cells:
                    raw.append((number, cells))
                if len(raw) > max_rows + HEADER_SEARCH_ROWS:
                    result.errors.append(RowError(spec.name, 0, "-", _too_many_rows(len(raw), max_rows)))
                    return None
        except Exception:  # malformed sheet XML
            result.errors.append(RowError(spec.name, 0, "-", NOT_XLSX))
            return None
        hidden, merges = parser.hidden, parser.merges

    header_row, positions = _find_header(raw, spec)
    if isinstance(positions, str):
        result.errors.append(RowError(spec.name, header_row, "-", positions))
        return None
    sheet.positions = positions
    by_position = {position: spec.columns[spec.names.index(name)] for name, position in positions.items()}

    # Merged ranges below the header: fill down where the column allows, otherwise remember the
    # range so the covered cells are refused by name rather than read as empty.
    filled: dict[int, dict[int, dict]] = {}  # row → column → the merged range's first cell
    covered: dict[tuple[int, int], str] = {}
    data_rows = {number: cells for number, cells in raw if number > header_row}
    last_row = raw[-1][0] if raw else 0
    for ref in merges:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except (ValueError, TypeError):
            continue
        if None in (min_col, min_row, max_col, max_row) or max_row <= header_row:
            continue
        top = {c["column"]: c for c in data_rows.get(min_row, [])}
        for col in sorted(c for c in by_position if min_col <= c <= max_col):
            column = by_position[col]
            source_cell = top.get(min_col)
            for r in range(max(min_row, header_row + 1), min(max_row, last_row) + 1):
                if (r, col) == (min_row, min_col):
                    continue
                if column.fill_down and min_col == max_col and source_cell is not None:
                    filled.setdefault(r, {})[col] = source_cell
                else:
                    covered[(r, col)] = ref

    formula_rows: dict[str, list[int]] = {}
    formats: dict[int, str] = {}
    for number, cells in raw:
        if number <= header_row:
            continue
        by_col = {c["column"]: c for c in cells}
        own = any(
            c["value"] not in (None, "") or c.get("formula") for c in cells if c["column"] in by_position
        )
        by_col.update(filled.get(number, {}))
        values: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        for name, position in positions.items():
            column = by_position[position]
            cell = by_col.get(position)
            if cell is None:
                values[name] = ""
                continue
            style_id = cell["style_id"]
            fmt = formats.get(style_id)
            if fmt is None:
                fmt = formats[style_id] = _number_format(workbook, style_id)
            try:
                text = _convert(cell, column, fmt)
            except _CellError as exc:
                problems.append((name, str(exc)))
                values[name] = ""
                continue
            values[name] = _normalise(text, column)
            if cell.get("formula") and values[name]:
                formula_rows.setdefault(name, []).append(number)
        if not own or (not any(values.values()) and not problems):
            continue
        first = next((values[n] for n in spec.names if values.get(n)), "")
        if _first_cell_text(cells) in SKIPPED_FIRST_CELLS or first in SKIPPED_FIRST_CELLS:
            continue
        for name, position in positions.items():
            merge = covered.get((number, position))
            if merge and not values[name]:
                problems.append(
                    (
                        name,
                        f"位于合并单元格 {merge} 中，只有第一格有值：请取消合并，并在每一行填写",
                    )
                )
        for name, message in problems:
            sheet.error(number, name, message)
        row = Row(number, values, hidden=number in hidden)
        sheet.rows.append(row)
        if row.hidden:
            sheet.warn(number, "", "隐藏行，也会导入：如不应导入，请删除该行", kind="hidden")
        for column in spec.columns:
            if column.warn_traditional and (chars := traditional_characters(values[column.name])):
                sheet.warn(
                    number,
                    column.name,
                    f"「{values[column.name]}」含繁体字或生僻字「{'、'.join(chars)}」，请确认是否应为简体",
                    kind=f"traditional:{column.name}",
                )
    for name, numbers in formula_rows.items():
        listed = "、".join(str(n) for n in numbers[:10]) + ("等" if len(numbers) > 10 else "")
        sheet.warn(
            numbers[0],
            name,
            f"{len(numbers)} 个单元格是公式，按其计算结果导入（第{listed}行）",
            kind=f"formula:{name}",
        )
    return sheet


def _first_cell_text(cells: list[dict]) -> str:
    for cell in cells:
        value = cell["value"]
        if value not in (None, ""):
            return header_key(value) if isinstance(value, str) and len(value) < 12 else ""
    return ""


def _too_many_rows(rows: int, limit: int) -> str:
    return f"工作表有 {rows} 行以上，超过单次导入上限 {limit} 行：请拆分后分批导入"


def read_workbook(file, specs: Sequence[SheetSpec], result: ImportResult) -> dict[str, Sheet] | None:
    """Open ``file`` and read every sheet of ``specs``; None when any error was found."""
    book = open_workbook(file, result)
    if book is None:
        return None
    try:
        sheets = {spec.name: read_sheet(book, spec, result) for spec in specs}
    finally:
        book.close()
    if result.errors:
        return None
    return {name: sheet for name, sheet in sheets.items() if sheet is not None}


# -- writing ------------------------------------------------------------------------------------

# XlsxWriter options for every export: strings are written as strings, never turned into
# formulas, links or numbers.
XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def set_cell(ws, row: int, column: int, value: Any):
    """Write ``value`` into an openpyxl worksheet cell; text stays text (never a formula)."""
    cell = ws.cell(row, column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def text_cells(ws, values: Iterable[Any]) -> list:
    """Cells for ``ws.append`` in a write-only workbook; text stays text (never a formula)."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


def append_row(ws, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet (write-only or not); text stays text."""
    ws.append(text_cells(ws, values))


# -- keeping an upload between preview and confirmation ------------------------------------------

STASH_SALT = "org.sheets.stash"
STASH_MAX_AGE = 3600


def _stash_dir() -> Path:
    directory = Path(
        getattr(settings, "SHEETS_STASH_DIR", "") or Path(tempfile.gettempdir()) / "chuangwen-imports"
    )
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def stash(file, user_id: int, **extra: Any) -> str:
    """Keep an uploaded file for an hour; a signed token (bound to ``user_id``) names it."""
    data = _read_bytes(file) or b""
    name = uuid.uuid4().hex
    (_stash_dir() / name).write_bytes(data)
    for old in _stash_dir().iterdir():  # files of previews never confirmed
        try:
            if old.stat().st_mtime < dt.datetime.now().timestamp() - STASH_MAX_AGE:
                old.unlink()
        except OSError:
            pass
    payload = {"f": name, "h": hashlib.sha256(data).hexdigest(), "u": user_id, **extra}
    return signing.dumps(payload, salt=STASH_SALT)


def unstash(token: str, user_id: int) -> tuple[io.BytesIO, dict[str, Any]] | None:
    """The stashed file and the token's extra values, or None (forged, expired, another person's
    or gone). The file is removed: a token imports once."""
    try:
        payload = signing.loads(token, salt=STASH_SALT, max_age=STASH_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("u") != user_id or not re.fullmatch(r"[0-9a-f]{32}", str(payload.get("f"))):
        return None
    path = _stash_dir() / payload["f"]
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != payload.get("h"):
        return None
    path.unlink(missing_ok=True)
    extra = {k: v for k, v in payload.items() if k not in ("f", "h", "u")}
    return io.BytesIO(data), extra
