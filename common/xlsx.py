"""Writing spreadsheets users download: text stored as text, every text that a spreadsheet
would run as a formula neutralised (CSV/XLSX injection), control characters that XLSX cannot
hold replaced, times as ``yyyy-mm-dd hh:mm``, the header bold and frozen.

:func:`workbook` writes its sheets one after the other, each from an iterable of rows that is
consumed as it is written (rust_xlsxwriter's constant-memory mode through
``rustpy-xlsxwriter``): a list of 50,000 rows is never held as cells, and the code producing
the rows (reading pages of a list, reporting progress) runs as the sheet needs them.

Why a compiled writer: the ledger's workbook of 10,000 demands with a whole lifecycle's
ledger is about 950,000 cells. XlsxWriter, pure Python, spent about 3 µs a cell on them in
its own ``constant_memory`` mode (about 3 s of a 7.7-8.0 s export); the same cells cost the
compiled writer about a tenth of that (docs/performance.md). openpyxl still reads the
workbooks people upload (:mod:`services.enterprise.spreadsheet`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import rustpy_xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

#: what makes Excel, WPS or LibreOffice treat a cell as a formula
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "yyyy-mm-dd hh:mm"

#: the narrowest column a sheet gets without a width of its own, in characters
MIN_WIDTH = 10


class Sheet(NamedTuple):
    """One sheet: its title, its header, its rows (consumed as the sheet is written), and
    its columns' widths in characters (by default, each wide enough for its header)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[float] | None = None


def header_width(name: str) -> float:
    """A column wide enough for its header: a Chinese character is two characters wide."""
    return max(MIN_WIDTH, sum(2 if ord(c) > 0x2E7F else 1 for c in name) + 2)


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula gets a leading apostrophe; control
    characters a worksheet cannot hold (stored text may have them) become U+FFFD."""
    if isinstance(value, str):
        if not value.isprintable():  # (printable text has no control character: most cells)
            value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if value.startswith(FORMULA_PREFIXES):
            return "'" + value
    return value


def cell(value: Any) -> Any:
    """What a cell holds: text neutralised (an empty text an empty cell), a time without
    its offset (a workbook has no time zones), a decimal as a number, a date as a time at
    midnight, anything else as its text."""
    if isinstance(value, str):
        return neutralise(value) if value else None
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, Decimal):
        return float(value)
    return neutralise(str(value))


def _distinct(header: Sequence[str]) -> tuple[str, ...]:
    """The header with a repeated name numbered (网格, 网格（2）): the writer keys the
    cells of a row by their column's name."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}（{seen[name]}）")
    return tuple(out)


def _records(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """The rows as the writer takes them: dicts by header, the first with every column (the
    writer takes the header from it), one empty row when there are none (an empty list
    still shows its header)."""
    keys = _distinct(header)
    width = len(keys)
    first = True
    for row in rows:
        # most cells are plain text: passed as they are, without a call
        values = [v if type(v) is str and v and v.isprintable()
                  and not v.startswith(FORMULA_PREFIXES) else cell(v) for v in row]
        if first and len(values) < width:
            values += [None] * (width - len(values))
        first = False
        yield dict(zip(keys, values, strict=False))  # (a short row: its last cells empty)
    if first:
        yield dict.fromkeys(keys)


def workbook(sheets: Iterable[Sheet]) -> bytes:
    """An XLSX workbook of these sheets, written in order, each header bold and frozen."""
    buffer = io.BytesIO()
    sheets = list(sheets)
    rustpy_xlsxwriter.write_worksheets(
        [(sheet.title, _records(sheet.header, sheet.rows)) for sheet in sheets], buffer,
        freeze_panes={"general": {"row": 1, "col": 0}}, bold_headers=True,
        datetime_format=TIME_FORMAT,
        column_widths={sheet.title: list(sheet.widths or [header_width(h) for h in sheet.header])
                       for sheet in sheets})
    return buffer.getvalue()


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str,
               convert: Callable[[Any], Any] = lambda v: v) -> bytes:
    """An XLSX workbook with one sheet; ``convert`` turns each value into a cell value first."""
    return workbook([Sheet(title, header, ([convert(v) for v in row] for row in rows))])
