"""common.xlsx: what a person opening the downloaded workbook finds in each cell."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from common import xlsx


def read_back(content: bytes) -> list[list[object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_text_that_would_run_as_a_formula_is_kept_as_text():
    rows = read_back(xlsx.write_xlsx(["诉求"], [["=1+2"], ["+86 532"], ["-5"], ["@SUM(A1)"],
                                                ["普通文字"]], "清单"))
    assert [row[0] for row in rows[1:]] == ["'=1+2", "'+86 532", "'-5", "'@SUM(A1)", "普通文字"]


def test_control_characters_are_replaced_and_line_breaks_kept():
    rows = read_back(xlsx.write_xlsx(["说明"], [["企业\x1c反映\x00问题"], ["第一行\n第二行\t完"]],
                                     "清单"))
    assert rows[1][0] == "企业\ufffd反映\ufffd问题"
    assert rows[2][0] == "第一行\n第二行\t完"


def test_kinds_of_cells_times_and_empty_ones():
    at = datetime(2026, 12, 4, 10, 30)
    rows = read_back(xlsx.write_xlsx(
        ["编号", "时间", "日期", "数", "比例", "是否", "空", "空文字", "末"],
        [["GS-1", at, date(2026, 12, 4), 3, Decimal("0.8333"), True, None, "", "完"]], "清单"))
    assert rows[0][0] == "编号"
    assert rows[1] == ["GS-1", at, datetime(2026, 12, 4), 3, 0.8333, True, None, None, "完"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.write_xlsx(["时间"], [[at]], "清单")))
    sheet = book.active
    assert sheet["A2"].number_format == xlsx.TIME_FORMAT
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"


def test_an_empty_list_shows_its_header_and_a_repeated_name_is_numbered():
    content = xlsx.workbook([
        xlsx.Sheet("清单", ["网格", "部门", "网格"], []),
        xlsx.Sheet("办理过程", ["编号", "内容"], iter([["GS-1"], ["GS-2", "受理"]]))])
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["清单", "办理过程"]
    assert [list(r) for r in book["清单"].iter_rows(values_only=True)] == [
        ["网格", "部门", "网格（2）"]]
    assert [list(r) for r in book["办理过程"].iter_rows(values_only=True)] == [
        ["编号", "内容"], ["GS-1", None], ["GS-2", "受理"]]


def test_a_failure_while_reading_rows_reaches_the_caller():
    """What produces a sheet's rows (an export reading its pages) may fail midway: the
    writer gives up with that error, so a job records it as failed."""

    def rows():
        yield ["GS-1"]
        raise LookupError("第二页读不到")

    with pytest.raises(LookupError, match="第二页读不到"):
        xlsx.workbook([xlsx.Sheet("清单", ["编号"], rows())])


def test_columns_are_wide_enough_for_their_header_or_as_wide_as_asked():
    content = xlsx.workbook([
        xlsx.Sheet("清单", ["编号", "不满意待处理"], [["GS-1", "否"]]),
        xlsx.Sheet("办理过程", ["编号", "内容"], [["GS-1", "受理"]], widths=[16, 60])])
    book = openpyxl.load_workbook(io.BytesIO(content))
    listed = book["清单"].column_dimensions
    assert round(listed["A"].width) == xlsx.MIN_WIDTH + 1  # (Excel adds its padding)
    assert round(listed["B"].width) == 2 * 6 + 2 + 1
    steps = book["办理过程"].column_dimensions
    assert (round(steps["A"].width), round(steps["B"].width)) == (17, 61)
