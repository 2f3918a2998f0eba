"""Writing spreadsheets users download: one sheet, text stored as text, every text that a
spreadsheet would run as a formula neutralised (CSV/XLSX injection), and control characters
that XLSX cannot hold replaced."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

#: what makes Excel, WPS or LibreOffice treat a cell as a formula
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula gets a leading apostrophe; control
    characters a worksheet cannot hold (stored text may have them) become U+FFFD."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if value.startswith(FORMULA_PREFIXES):
            return "'" + value
    return value


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str,
               convert: Callable[[Any], Any] = lambda v: v) -> bytes:
    """An XLSX workbook with one sheet; ``convert`` turns each value into a cell value first."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    bold = Font(bold=True)

    def cell(value: Any, font: Font | None = None) -> WriteOnlyCell:
        item = WriteOnlyCell(sheet, value=neutralise(convert(value)))
        if isinstance(item.value, str):
            item.data_type = "s"  # never "f": text is never a formula
        elif isinstance(item.value, datetime):
            item.number_format = "yyyy-mm-dd hh:mm"
        if font is not None:
            item.font = font
        return item

    sheet.freeze_panes = "A2"
    sheet.append([cell(h, bold) for h in header])
    for row in rows:
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
