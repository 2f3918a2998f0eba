"""Safe reading and writing of enterprise spreadsheets (XLSX and CSV), and their columns.

Reading defends against hostile files before and while parsing them:

- a file over :data:`MAX_BYTES` is refused unread;
- an XLSX is a zip: its central directory is checked first (number of members, total
  uncompressed size :data:`MAX_UNCOMPRESSED`, compression ratio :data:`MAX_RATIO` of every
  member), so a zip bomb is refused before anything is inflated. The sizes are trustworthy
  bounds: :mod:`zipfile` never inflates a member past its declared size (and fails its CRC);
- openpyxl parses through defusedxml (no entity expansion, no external entities), in
  ``read_only`` mode (streamed) with ``data_only`` (cached values, formulas never evaluated);
- at most :data:`MAX_ROWS` data rows and :data:`MAX_COLUMNS` columns are read.

Every refusal is a :class:`~common.errors.ValidationFailed` (HTTP 422) naming the reason.

Writing (:func:`write_xlsx`) neutralises formula injection: a text cell starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return gets a leading apostrophe, so a spreadsheet
program shows it as text instead of running it. Reading undoes exactly that (:func:`clean_text`)
so that an exported file imports back unchanged.

The columns (:data:`COLUMNS`) are the Chinese headers users type (统一社会信用代码, 企业名称, ...)
or the API's English field names; :func:`map_headers` matches them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import openpyxl

from common import xlsx
from common.errors import InvalidValue, ValidationFailed, field_error
from common.i18n import phrase

__all__ = [
    "COLUMNS",
    "CSV_MIME",
    "MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_RATIO",
    "MAX_ROWS",
    "MAX_UNCOMPRESSED",
    "XLSX_MIME",
    "Column",
    "Table",
    "check_zip",
    "clean_text",
    "map_headers",
    "parse_bool",
    "parse_scale",
    "read_csv",
    "read_table",
    "read_xlsx",
    "split_list",
    "write_xlsx",
]

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"

MAX_BYTES = 10 * 1024 * 1024  # the uploaded file
MAX_ROWS = 50_000  # data rows, header excluded
MAX_COLUMNS = 100
MAX_UNCOMPRESSED = 128 * 1024 * 1024  # all zip members together, inflated
MAX_RATIO = 100  # inflated / compressed size of one zip member (openpyxl's own files: ~11)
MAX_ZIP_MEMBERS = 500
_RATIO_FLOOR = 64 * 1024  # members smaller than this inflated are never a bomb
#: rows read between two yields to the process's other green threads (openpyxl takes about
#: 1-4 ms a row on a loaded machine: 2,000 rows held the service's other calls for seconds)
ROWS_PER_YIELD = 200

#: a text starting with one of these is run as a formula by spreadsheet programs

# openpyxl must parse through defusedxml; refuse to run without it
if not openpyxl.DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
    raise ImportError("defusedxml is required to read XLSX files safely")


@dataclass(frozen=True)
class Table:
    """A sheet as read: the header (row 1) and the data rows with their 1-based numbers.

    Rows whose cells are all empty are left out; every row has ``len(header)`` cells.
    """

    header: list[str]
    rows: list[tuple[int, list[Any]]]


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """One importable column: the field it fills, the header written on export, aliases."""

    field: str
    label: str
    aliases: tuple[str, ...] = ()


#: the import/export columns, in export order; ``contact_name``/``contact_phone`` make one
#: contact, list columns are split on 、,，;；| and new lines
COLUMNS: tuple[Column, ...] = (
    Column("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码", "统一代码")),
    Column("name", "企业名称", ("名称", "企业名", "公司名称")),
    Column("address", "地址", ("企业地址", "经营地址", "注册地址", "详细地址")),
    Column("lon", "经度", ("longitude", "lng")),
    Column("lat", "纬度", ("latitude",)),
    Column("industry_code", "行业代码", ("行业", "行业分类", "行业分类代码", "industry")),
    Column("scale", "规模", ("企业规模",)),
    Column("incubator_id", "孵化器", ("孵化器编号", "所在孵化器", "incubator")),
    Column("operating", "是否在营", ("在营",)),
    Column("has_revenue", "是否有营业收入", ("是否有营收", "有营业收入")),
    Column("pays_tax", "是否纳税", ("纳税",)),
    Column("contact_name", "联系人", ("联系人姓名", "contact")),
    Column("contact_phone", "联系电话", ("电话", "手机", "联系方式", "phone")),
    Column("tags", "标签", ()),
    Column("strengths", "优势资源", ()),
    Column("upstream", "上游", ("上游企业",)),
    Column("downstream", "下游", ("下游企业",)),
)
REQUIRED_FIELDS = ("credit_code", "name", "address", "industry_code", "scale")
LIST_FIELDS = frozenset({"tags", "strengths", "upstream", "downstream"})
BOOL_FIELDS = frozenset({"operating", "has_revenue", "pays_tax"})


def _header_key(text: str) -> str:
    """How a header is compared: NFKC, no spaces, no ``*`` marks, lower case."""
    key = unicodedata.normalize("NFKC", text)
    key = re.sub(r"[\s*]", "", key)
    return key.lower()


_ALIASES: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.field, _column.label, *_column.aliases):
        _ALIASES[_header_key(_name)] = _column.field
LABELS: dict[str, str] = {c.field: c.label for c in COLUMNS}


def map_headers(header: Sequence[str]) -> dict[int, str]:
    """Column index -> field for every recognised header; unknown headers are ignored.

    Raises ValidationFailed when a required column is missing or a field appears twice.
    """
    mapping: dict[int, str] = {}
    seen: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    for index, text in enumerate(header):
        field = _ALIASES.get(_header_key(text)) if text else None
        if field is None:
            continue
        if field in seen:
            problems.append(field_error("import.column_twice",
                                        "columns {first} and {second} both mean {field}",
                                        first=repr(seen[field]), second=repr(text),
                                        field=field))
            continue
        seen[field] = text
        mapping[index] = field
    missing = [f"{LABELS[f]} ({f})" for f in REQUIRED_FIELDS if f not in seen]
    if missing:
        problems.append(field_error("import.columns_missing", "missing columns: {columns}",
                                    columns=missing))
    if problems:
        raise ValidationFailed("the header row (row 1) is not usable: {problems}",
                               {"header": problems}, code="import.header_unusable",
                               params={"problems": [phrase(p["message"], p["params"])
                                                    for p in problems]})
    return mapping


_SCALES = {
    "微型": "micro", "微": "micro", "微型企业": "micro", "micro": "micro",
    "小型": "small", "小": "small", "小型企业": "small", "small": "small",
    "中型": "medium", "中": "medium", "中型企业": "medium", "medium": "medium",
    "大型": "large", "大": "large", "大型企业": "large", "large": "large",
}
SCALE_LABELS = {"micro": "微型", "small": "小型", "medium": "中型", "large": "大型"}

_TRUE = frozenset({"是", "有", "y", "yes", "true", "t", "1", "√", "✓", "在营"})
_FALSE = frozenset({"否", "无", "没有", "n", "no", "false", "f", "0", "×", "✗"})


def parse_scale(value: str) -> str:
    """微型/小型/中型/大型 (or micro/small/medium/large) -> the English value."""
    key = _header_key(value)
    if key not in _SCALES:
        raise InvalidValue("import.unknown_scale",
                           "unknown scale {value}: use 微型, 小型, 中型 or 大型 (micro, small, "
                           "medium, large)", value=repr(value))
    return _SCALES[key]


def parse_bool(value: Any) -> bool:
    """是/否, 有/无, Y/N, true/false, 1/0 and spreadsheet booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    key = _header_key(str(value))
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise InvalidValue("import.not_yes_or_no", "{value} is not yes or no: use 是 or 否",
                       value=repr(value))


_LIST_SEPARATORS = re.compile(r"[、,，;；|\n]")


def split_list(value: str) -> list[str]:
    """``高新技术企业、专精特新`` -> two items; blanks dropped."""
    return [item.strip() for item in _LIST_SEPARATORS.split(value) if item.strip()]


def clean_text(value: Any) -> str:
    """A cell as trimmed text; undoes :func:`neutralise`; integral numbers without ``.0``."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in xlsx.FORMULA_PREFIXES:
        text = text[1:]
    return text


# --------------------------------------------------------------------------- reading


def read_table(content: bytes, fmt: str) -> Table:
    """Read an uploaded ``xlsx`` or ``csv`` file; ValidationFailed names what is wrong."""
    if fmt == "xlsx":
        return read_xlsx(content)
    if fmt == "csv":
        return read_csv(content)
    raise _refuse(field_error("import.unknown_format", "unknown format {format}: xlsx or csv",
                              format=repr(fmt)), "format")


def _refuse(reason: dict[str, Any], field: str = "file") -> ValidationFailed:
    """The 422 of an unreadable file: ``reason`` (a :func:`field_error`) is the detail too."""
    return ValidationFailed(reason["message"], {field: [reason]}, code=reason["code"],
                            params=reason.get("params"))


def _too_many_rows() -> dict[str, Any]:
    return field_error("import.too_many_rows",
                       "the sheet has more than {max} data rows; split the file", max=MAX_ROWS)


def _check_size(content: bytes) -> None:
    if not content:
        raise _refuse(field_error("import.file_empty", "the file is empty"))
    if len(content) > MAX_BYTES:
        raise _refuse(field_error("import.file_too_large",
                                  "the file has {size} bytes; at most {max} are accepted",
                                  size=len(content), max=MAX_BYTES))


def check_zip(content: bytes) -> None:
    """Refuse a zip that is not an XLSX or would inflate too much, without inflating it."""
    _check_size(content)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _refuse(field_error("import.not_xlsx",
                                  "the file is not an XLSX workbook (not a zip archive); save "
                                  "it as .xlsx or send CSV")) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise _refuse(field_error("import.too_many_parts",
                                      "the workbook has {count} parts; at most {max}",
                                      count=len(members), max=MAX_ZIP_MEMBERS))
        total = 0
        for info in members:
            if info.flag_bits & 0x1:
                raise _refuse(field_error("import.encrypted", "the workbook is encrypted; "
                                          "save it without a password"))
            total += info.file_size
            if info.file_size > _RATIO_FLOOR and (
                info.compress_size == 0 or info.file_size / info.compress_size > MAX_RATIO
            ):
                raise _refuse(field_error(
                    "import.zip_bomb", "{part} would inflate {compressed} bytes to {size} "
                    "(more than {ratio}:1): refused as a zip bomb", part=info.filename,
                    compressed=info.compress_size, size=info.file_size, ratio=MAX_RATIO))
        if total > MAX_UNCOMPRESSED:
            raise _refuse(field_error("import.zip_bomb",
                                      "the workbook would inflate to {size} bytes; at most "
                                      "{max}: refused as a zip bomb", size=total,
                                      max=MAX_UNCOMPRESSED))
        if "xl/workbook.xml" not in {m.filename for m in members}:
            raise _refuse(field_error("import.not_xlsx", "the zip archive is not an XLSX "
                                      "workbook (no xl/workbook.xml)"))


def _bounded(rows: Iterable[Sequence[Any]]) -> Table:
    """Header + non-empty rows, with the row and column limits enforced while reading."""
    header: list[str] | None = None
    width = 0
    data: list[tuple[int, list[Any]]] = []
    for number, raw in enumerate(rows, start=1):
        if number % ROWS_PER_YIELD == 0:
            time.sleep(0)  # let other green threads run while a big file is read
        if number > 2 * MAX_ROWS:  # even empty rows cost time: a row at 1048576 is hostile
            raise _refuse(_too_many_rows())
        cells = [None if c == "" else c for c in raw]
        while cells and cells[-1] is None:
            cells.pop()
        if number == 1:
            if len(cells) > MAX_COLUMNS:
                raise _refuse(field_error("import.too_many_columns",
                                          "the sheet has more than {max} columns",
                                          max=MAX_COLUMNS))
            header = ["" if c is None else clean_text(c) for c in cells]
            width = len(header)
            if not any(header):
                raise _refuse(field_error("import.header_empty", "row 1 must be the header "
                                          "(统一社会信用代码, 企业名称, ...); it is empty"),
                              "header")
            continue
        if not cells:
            continue
        if number > MAX_ROWS + 1:
            raise _refuse(_too_many_rows())
        if len(cells) > width:
            if len(cells) > MAX_COLUMNS:
                raise _refuse(field_error("import.too_many_columns",
                                          "row {row} has more than {max} columns", row=number,
                                          max=MAX_COLUMNS))
            if any(c is not None for c in cells[width:]):
                raise _refuse(field_error("import.values_outside_header",
                                          "row {row} has values right of the last header "
                                          "column", row=number), "header")
        data.append((number, cells[:width] + [None] * (width - len(cells))))
    if header is None:
        raise _refuse(field_error("import.sheet_empty",
                                  "the sheet is empty: row 1 must be the header"))
    return Table(header, data)


def read_xlsx(content: bytes) -> Table:
    """The first worksheet of an XLSX file (cached values, formulas not evaluated)."""
    check_zip(content)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not know
            workbook = openpyxl.load_workbook(
                io.BytesIO(content), read_only=True, data_only=True, keep_links=False
            )
            try:
                if not workbook.worksheets:
                    raise _refuse(field_error("import.sheet_empty",
                                              "the workbook has no worksheet"))
                sheet = workbook.worksheets[0]
                return _bounded(_xlsx_rows(sheet))
            finally:
                workbook.close()
    except ValidationFailed:
        raise
    except Exception as exc:  # openpyxl raises many types on malformed files
        raise _refuse(field_error("import.unreadable", "the XLSX workbook cannot be read: "
                                  "{reason}", reason=type(exc).__name__)) from exc


def _xlsx_rows(sheet: Any) -> Iterator[Sequence[Any]]:
    # cells right of MAX_COLUMNS + 1 are never materialised; one more shows the excess
    yield from sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)


def _decode(content: bytes) -> str:
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _refuse(field_error("import.encoding",
                                  "the CSV file is neither UTF-8 nor GB18030 (GBK) text")) from exc


def read_csv(content: bytes) -> Table:
    """A CSV file in UTF-8 (with or without BOM) or GB18030/GBK; comma or tab separated."""
    _check_size(content)
    try:
        text = _decode(content)
    except UnicodeDecodeError as exc:
        raise _refuse(field_error("import.encoding",
                                  "the CSV file is not valid UTF-8/UTF-16 text")) from exc
    if "\x00" in text:
        raise _refuse(field_error("import.encoding",
                                  "the CSV file contains NUL characters: is it really text?"))
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[list[str]]:
        for row in reader:
            if len(row) > MAX_COLUMNS + 1:
                # keep one extra cell so that the limit is still noticed downstream
                row = row[: MAX_COLUMNS + 1] + ["x"]
            yield row

    try:
        return _bounded(rows())
    except csv.Error as exc:
        raise _refuse(field_error("import.unreadable",
                                  "the CSV file cannot be read at line {line}: {reason}",
                                  line=reader.line_num, reason=str(exc))) from exc


# --------------------------------------------------------------------------- writing


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]],
               title: str = "企业") -> bytes:
    """An XLSX workbook with one sheet; every text cell is stored as text, neutralised."""
    return xlsx.write_xlsx(header, rows, title)
