"""Bulk import of enterprises as a plain module: parsing, validation, upsert, export.

The database tests use the test database through the ``db`` engine (no broker, no services).
Every test makes credit codes in its own administrative division, so tests never share rows.
"""

from __future__ import annotations

import base64
import io
import json
import random
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

import openpyxl
import pytest
from helpers import codes
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common import xlsx
from common.auth import Principal, Role
from common.errors import ValidationFailed
from services.enterprise import credit_code, importer, registry, spreadsheet
from services.enterprise.api.imports import decode_upload
from services.enterprise.geo import rectangle

HEADER = ["统一社会信用代码", "企业名称", "地址", "经度", "纬度", "行业代码", "规模", "孵化器",
          "是否在营", "是否有营业收入", "是否纳税", "联系人", "联系电话", "标签"]
#: test grids far away from the demo zone, so that other modules' grids never cover them
INCUBATOR = ("TINC01", "导入测试孵化器")
GEO_WEST = ("TGEO01", rectangle(100.0, 30.0, 100.1, 30.1))
GEO_EAST = ("TGEO02", rectangle(100.1, 30.0, 100.2, 30.1))
ADMIN = Principal(user_id="admin-import-test", role=Role.ADMIN)


# --------------------------------------------------------------------------- helpers


def ensure_grids(engine: Engine) -> None:
    """The departments and the three grids the import tests assign to (idempotent)."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO enterprise.departments (id, name, kind) VALUES "
            "('science_innovation', '科技创新部', 'management'), "
            "('economic_development', '经济发展部', 'management') ON CONFLICT DO NOTHING"))
        conn.execute(text(
            "INSERT INTO enterprise.grids (id, name, kind, owner_department_id) "
            "VALUES (:i, :n, 'incubator', 'science_innovation') ON CONFLICT DO NOTHING"),
            {"i": INCUBATOR[0], "n": INCUBATOR[1]})
        for grid_id, boundary in (GEO_WEST, GEO_EAST):
            conn.execute(text(
                "INSERT INTO enterprise.grids (id, name, kind, owner_department_id, boundary) "
                "VALUES (:i, :i, 'geographic', 'economic_development', CAST(:b AS jsonb)) "
                "ON CONFLICT DO NOTHING"),
                {"i": grid_id, "b": json.dumps(boundary)})


def make_xlsx(header: Sequence[Any], rows: Sequence[Sequence[Any]],
              formulas: bool = False) -> bytes:
    """An XLSX file as a user saves it; text starting with = is text unless ``formulas``."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    if not formulas:
        for line in sheet.iter_rows():
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sample_rows(count: int, division: str, seed: int = 1) -> list[list[Any]]:
    """Valid rows under :data:`HEADER`: a third in the incubator, a third in each grid."""
    rng = random.Random(seed)
    codes: set[str] = set()
    rows = []
    while len(rows) < count:
        code = credit_code.generate(rng, division)
        if code in codes:
            continue
        codes.add(code)
        i = len(rows)
        where = i % 3
        lon, lat = (None, None) if where == 0 else (
            round(rng.uniform(100.01, 100.09) + (0.1 if where == 2 else 0), 5),
            round(rng.uniform(30.01, 30.09), 5))
        rows.append([
            code, f"青岛导入测试{division}第{i}号科技有限公司", f"山东省青岛市高新区火炬路{i}号",
            lon, lat, rng.choice(["C39", "I65", "C3911", "M73"]),
            rng.choice(["微型", "小型", "中型", "大型"]),
            INCUBATOR[1] if where == 0 else None, "是", "是", "是",
            "张三", f"138{i:08d}", "高新技术企业、专精特新",
        ])
    return rows


def codes_of(rows: Sequence[Sequence[Any]]) -> list[str]:
    return [r[0] for r in rows if r[0]]


def stored(engine: Engine, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(
            text("SELECT * FROM enterprise.enterprises WHERE credit_code = ANY(:c)"),
            {"c": list(codes)})
        return {row.credit_code: row._asdict() for row in result}


def registered_events(engine: Engine, codes: Sequence[str]) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM enterprise.outbox WHERE event_type = 'enterprise_registered' "
            "AND payload->'data'->>'credit_code' = ANY(:c)"), {"c": list(codes)}).scalar_one()


def run_import(engine: Engine, content: bytes, fmt: str = "xlsx", dry_run: bool = False,
               **kwargs: Any) -> importer.ImportResult:
    table = spreadsheet.read_table(content, fmt)
    with Session(engine) as session:
        result = importer.import_table(session, table, "tester", dry_run, **kwargs)
        session.commit()
    return result


@pytest.fixture
def grids(db: Engine) -> Iterator[Engine]:
    ensure_grids(db)
    yield db


def wrong_check_digit(code: str) -> str:
    other = next(c for c in credit_code.CHARSET if c != code[-1])
    return code[:-1] + other


# --------------------------------------------------------------------------- pure parsing


def test_headers_in_chinese_or_english_with_full_width_and_marks():
    header = ["统一社会信用代码*", "企业 名称", "ADDRESS", "industry_code", "规模", "备注",
              "ｌｏｎ", "lat"]
    mapping = spreadsheet.map_headers(header)
    assert mapping == {0: "credit_code", 1: "name", 2: "address", 3: "industry_code",
                       4: "scale", 6: "lon", 7: "lat"}


def test_missing_and_doubled_columns_are_refused():
    with pytest.raises(ValidationFailed) as missing:
        spreadsheet.map_headers(["企业名称", "地址"])
    assert missing.value.code == "import.header_unusable"
    assert "统一社会信用代码 (credit_code)" in str(missing.value)
    assert codes(missing.value.errors["header"]) == ["import.columns_missing"]
    with pytest.raises(ValidationFailed) as doubled:
        spreadsheet.map_headers([*HEADER, "name"])
    assert "both mean name" in str(doubled.value)
    assert codes(doubled.value.errors["header"]) == ["import.column_twice"]


def test_values_users_type():
    assert [spreadsheet.parse_scale(v) for v in ("微型", "小型 ", "中型企业", "LARGE")] == [
        "micro", "small", "medium", "large"]
    with pytest.raises(ValueError, match="微型"):
        spreadsheet.parse_scale("巨型")
    assert [spreadsheet.parse_bool(v) for v in ("是", "否", "Y", "no", 1, 0.0, True)] == [
        True, False, True, False, True, False, True]
    with pytest.raises(ValueError, match="是 or 否"):
        spreadsheet.parse_bool("也许")
    assert spreadsheet.split_list("高新技术企业、专精特新，瞪羚; ") == [
        "高新技术企业", "专精特新", "瞪羚"]
    assert spreadsheet.clean_text(13812345678.0) == "13812345678"
    assert spreadsheet.clean_text("'=1+2") == "=1+2"
    assert spreadsheet.clean_text("'abc") == "'abc"


def test_rows_are_validated_with_row_numbers_fields_and_reasons():
    good = sample_rows(3, "110101")
    bad_code = [wrong_check_digit(good[0][0]), *good[0][1:]]
    no_name = [good[1][0], None, *good[1][2:]]
    bad_scale = [*good[2][:6], "巨型", *good[2][7:]]
    bad_phone = [*sample_rows(4, "110101")[3][:12], "call me", *good[2][13:]]
    table = spreadsheet.read_xlsx(make_xlsx(HEADER, [bad_code, no_name, bad_scale, bad_phone]))
    valid, errors, _ = importer.validate_rows(table)
    assert valid == []
    by_row = {e.row: (e.field, e.reason) for e in errors}
    assert by_row[2][0] == "credit_code" and "wrong check digit" in by_row[2][1]
    assert by_row[3] == ("name", "Missing data for required field.")
    assert by_row[4][0] == "scale" and "巨型" in by_row[4][1]
    assert by_row[5] == ("contact_phone", "not a phone number")
    assert len(errors) == 4


def test_formulas_are_not_evaluated():
    row = sample_rows(1, "110105")[0]
    row[1] = '=HYPERLINK("http://evil.example","x")'
    table = spreadsheet.read_xlsx(make_xlsx(HEADER, [row], formulas=True))
    _, errors, _ = importer.validate_rows(table)
    assert [(e.row, e.field) for e in errors] == [(2, "name")]  # no cached value: blank


def test_full_width_input_is_normalised():
    row = sample_rows(1, "110102")[0]
    full_width = [
        "".join(chr(ord(c) + 0xFEE0) if c.isalnum() and c.isascii() else c for c in row[0]),
        "　青岛全角测试科技有限公司　", row[2], "１００.０５", "３０.０５", "ｃ３９", "小型",
    ]
    table = spreadsheet.read_xlsx(make_xlsx(HEADER[:7], [full_width]))
    valid, errors, _ = importer.validate_rows(table)
    assert errors == []
    (_, data), = valid
    assert data["credit_code"] == row[0]
    assert data["name"] == "青岛全角测试科技有限公司"
    assert data["industry_code"] == "C39"
    assert (data["lon"], data["lat"]) == (100.05, 30.05)
    assert set(data) == {"credit_code", "name", "address", "lon", "lat", "industry_code",
                         "scale"}  # blank columns are not filled with defaults


def test_zip_bomb_is_refused_before_inflating():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<sheetData>" + b" " * (64 << 20))
    content = buffer.getvalue()
    assert len(content) < 200_000  # tiny on the wire, 64 MiB inflated
    with pytest.raises(ValidationFailed, match="zip bomb") as refused:
        spreadsheet.read_table(content, "xlsx")
    assert "file" in refused.value.errors


def test_workbooks_inflating_past_the_total_limit_are_refused(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_UNCOMPRESSED", 1000)
    with pytest.raises(ValidationFailed, match="inflate to"):
        spreadsheet.read_xlsx(make_xlsx(HEADER, sample_rows(20, "110103")))


def test_xml_entity_expansion_is_refused():
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
              b"</sheetData></worksheet>")
    original = zipfile.ZipFile(io.BytesIO(make_xlsx(HEADER, [])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            data = original.read(info.filename)
            archive.writestr(info.filename,
                             laughs if info.filename == "xl/worksheets/sheet1.xml" else data)
    with pytest.raises(ValidationFailed, match="cannot be read"):
        spreadsheet.read_xlsx(buffer.getvalue())


def test_files_that_are_not_workbooks_or_too_big_are_refused(monkeypatch):
    with pytest.raises(ValidationFailed, match="not an XLSX"):
        spreadsheet.read_xlsx(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValidationFailed, match="not an XLSX"):
        spreadsheet.read_xlsx("统一社会信用代码,企业名称\n".encode())
    with pytest.raises(ValidationFailed, match="empty"):
        spreadsheet.read_csv(b"")
    monkeypatch.setattr(spreadsheet, "MAX_BYTES", 100)
    with pytest.raises(ValidationFailed, match="at most 100"):
        spreadsheet.read_csv(b"x" * 101)
    with pytest.raises(ValidationFailed, match="at most"):
        decode_upload("A" * 200)
    with pytest.raises(ValidationFailed, match="base64"):
        decode_upload("not base64!")


def test_row_and_column_limits(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 5)
    rows = sample_rows(6, "110104")
    with pytest.raises(ValidationFailed, match="more than 5 data rows"):
        spreadsheet.read_xlsx(make_xlsx(HEADER, rows))
    assert len(spreadsheet.read_xlsx(make_xlsx(HEADER, rows[:5])).rows) == 5
    wide = ",".join(f"c{i}" for i in range(spreadsheet.MAX_COLUMNS + 5))
    with pytest.raises(ValidationFailed, match="columns"):
        spreadsheet.read_csv(wide.encode())
    with pytest.raises(ValidationFailed, match="right of the last header column"):
        spreadsheet.read_csv("统一社会信用代码,企业名称\n1,2,3\n".encode())


def test_csv_encodings_and_empty_rows_are_skipped():
    content = "统一社会信用代码,企业名称\r\n91370212MA3C1234X1,青岛测试\r\n,\r\n\r\nA,B\r\n"
    for encoded in (content.encode("utf-8"), b"\xef\xbb\xbf" + content.encode("utf-8"),
                    content.encode("gb18030"), content.encode("utf-16")):
        table = spreadsheet.read_csv(encoded)
        assert table.header == ["统一社会信用代码", "企业名称"]
        assert table.rows == [(2, ["91370212MA3C1234X1", "青岛测试"]), (5, ["A", "B"])]
    tabbed = spreadsheet.read_csv("统一社会信用代码\t企业名称\nx\ty\n".encode())
    assert tabbed.rows == [(2, ["x", "y"])]


def test_export_cells_are_neutralised():
    assert [xlsx.neutralise(v) for v in ("=1+1", "+86", "-x", "@SUM", "\tx", "\rx",
                                                 "ok", 5, None)] == [
        "'=1+1", "'+86", "'-x", "'@SUM", "'\tx", "'\rx", "ok", 5, None]
    content = spreadsheet.write_xlsx(["名称"], [["=HYPERLINK(\"http://evil\",\"x\")"], [-1.5]])
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet["A2"].value == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert sheet["A2"].data_type == "s"
    assert sheet["A3"].value == -1.5
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


# --------------------------------------------------------------------------- database


def test_1200_rows_with_3_bad_ones_then_again_changes_nothing(grids):
    rows = sample_rows(1200, "120101")
    rows[9][0] = wrong_check_digit(rows[9][0])  # sheet row 11
    rows[499][6] = "巨型"  # sheet row 501
    rows[999][1] = None  # sheet row 1001
    content = make_xlsx(HEADER, rows)
    good = [r[0] for i, r in enumerate(rows) if i not in (9, 499, 999)]

    first = run_import(grids, content)
    assert (first.rows, first.created, first.updated, first.unchanged, first.rejected) == (
        1200, 1197, 0, 0, 3)
    assert [(e.row, e.field) for e in first.errors] == [
        (11, "统一社会信用代码"), (501, "规模"), (1001, "企业名称")]
    assert "wrong check digit" in first.errors[0].reason
    assert "巨型" in first.errors[1].reason
    assert first.errors[2].reason == "Missing data for required field."
    saved = stored(grids, codes_of(rows))
    assert set(saved) == set(good)
    assert registered_events(grids, good) == 1197

    incubated, west, east = (saved[rows[i][0]] for i in (0, 1, 2))
    assert (incubated["grid_id"], incubated["grid_source"], incubated["incubator_id"]) == (
        "TINC01", "incubator", "TINC01")
    assert (west["grid_id"], west["grid_source"]) == ("TGEO01", "location")
    assert (east["grid_id"], east["grid_source"]) == ("TGEO02", "location")
    assert west["in_scope"] is True
    assert west["contacts"] == [{"name": "张三", "title": "", "phone": "13800000001",
                                 "email": None}]
    assert west["tags"] == ["高新技术企业", "专精特新"]
    assert west["scale"] in ("micro", "small", "medium", "large")

    again = run_import(grids, content)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 1197, 3)
    assert [(e.row, e.field) for e in again.errors] == [
        (11, "统一社会信用代码"), (501, "规模"), (1001, "企业名称")]
    after = stored(grids, codes_of(rows))
    assert after == saved  # not even updated_at or version moved
    assert registered_events(grids, good) == 1197


def test_changed_rows_update_and_blank_cells_keep_values(grids, db):
    rows = sample_rows(4, "120102")
    run_import(grids, make_xlsx(HEADER, rows))
    before = stored(db, codes_of(rows))
    moved = list(rows[1])
    moved[3], moved[4] = 100.15, 30.05  # west -> east grid
    moved[13] = "瞪羚企业"
    no_tax = list(rows[2])
    no_tax[10] = "否"
    blanks = [rows[3][0], rows[3][1], rows[3][2], None, None, rows[3][5], rows[3][6],
              None, None, None, None, None, None, None]
    new_phone = list(rows[0])
    new_phone[12] = "13999999999"
    result = run_import(grids, make_xlsx(HEADER, [new_phone, moved, no_tax, blanks]))
    assert (result.created, result.updated, result.unchanged) == (0, 3, 1)
    after = stored(db, codes_of(rows))
    first, second, third, fourth = (after[r[0]] for r in rows)
    assert first["contacts"][0]["phone"] == "13999999999" and len(first["contacts"]) == 1
    assert (second["grid_id"], second["version"]) == ("TGEO02", 2)
    assert second["updated_at"] > before[rows[1][0]]["updated_at"]
    assert (third["pays_tax"], third["in_scope"]) == (False, False)
    assert fourth == before[rows[3][0]]
    with db.connect() as conn:
        reasons = conn.execute(text(
            "SELECT reason FROM enterprise.scope_changes WHERE enterprise_id = :i ORDER BY id"),
            {"i": str(third["id"])}).scalars().all()
        kinds = conn.execute(text(
            "SELECT event_type FROM enterprise.outbox WHERE payload->'data'->>'enterprise_id' "
            "= :i ORDER BY id"), {"i": str(second["id"])}).scalars().all()
    assert reasons == ["started_operating", "no_tax"]  # on entry, then by this import
    assert kinds == ["enterprise_registered", "profile_updated", "grid_changed"]
    assert second["tags"] == ["瞪羚企业"]


def test_dry_run_counts_but_writes_nothing(grids, db):
    rows = sample_rows(30, "120103")
    content = make_xlsx(HEADER, rows)
    with db.connect() as conn:
        outbox_before = conn.execute(text("SELECT count(*) FROM enterprise.outbox")).scalar_one()
    dry = run_import(grids, content, dry_run=True)
    assert (dry.dry_run, dry.created, dry.rejected) == (True, 30, 0)
    assert stored(db, codes_of(rows)) == {}
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM enterprise.outbox")).scalar_one() == (
            outbox_before)
    real = run_import(grids, content)
    assert (real.dry_run, real.created) == (False, 30)
    changed = [list(r) for r in rows]
    changed[0][2] = "新地址 1 号"
    dry_again = run_import(grids, make_xlsx(HEADER, changed), dry_run=True)
    assert (dry_again.created, dry_again.updated, dry_again.unchanged) == (0, 1, 29)
    assert stored(db, [rows[0][0]])[rows[0][0]]["address"] == rows[0][2]


def test_duplicate_codes_and_unknown_incubators_are_row_errors(grids, db):
    rows = sample_rows(3, "120104")
    duplicate = list(rows[0])
    duplicate[1] = "另一家重复代码公司"
    unknown = list(rows[2])
    unknown[7] = "不存在的孵化器"
    result = run_import(grids, make_xlsx(HEADER, [rows[0], rows[1], duplicate, unknown]))
    assert (result.created, result.rejected) == (2, 2)
    assert [(e.row, e.field) for e in result.errors] == [(4, "统一社会信用代码"), (5, "孵化器")]
    assert "row 2" in result.errors[0].reason
    assert "不存在的孵化器" in result.errors[1].reason
    assert stored(db, [rows[0][0]])[rows[0][0]]["name"] == rows[0][1]


def test_gb18030_csv_with_chinese_headers_imports(grids, db):
    rows = sample_rows(5, "120105")
    lines = [",".join(HEADER)]
    for row in rows:
        lines.append(",".join("" if v is None else str(v) for v in row))
    content = "\r\n".join(lines).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    result = run_import(grids, content, fmt="csv")
    assert (result.created, result.rejected) == (5, 0), result.errors
    saved = stored(db, codes_of(rows))
    assert saved[rows[0][0]]["name"] == rows[0][1]
    assert saved[rows[0][0]]["grid_id"] == "TINC01"


def test_a_custom_grid_assigner_is_used(grids, db):
    rows = sample_rows(2, "120106")

    def assign(session: Session, data: Any) -> tuple[str | None, str]:
        if data["name"].endswith("第1号科技有限公司"):
            raise importer.RowRejected("address", "outside the zone")
        return "TGEO02", "location"

    result = run_import(grids, make_xlsx(HEADER, rows), assign_grid=assign)
    assert [(e.row, e.field, e.reason) for e in result.errors] == [(3, "地址", "outside the zone")]
    assert stored(db, [rows[0][0]])[rows[0][0]]["grid_id"] == "TGEO02"


def test_the_registrys_grid_assignment_fits_the_hook(grids, db):
    rows = sample_rows(3, "120110")
    with Session(db) as session:
        index = registry.grid_index(session)
        table = spreadsheet.read_xlsx(make_xlsx(HEADER, rows))
        result = importer.import_table(
            session, table, "tester", False,
            assign_grid=lambda s, data: registry.assign_grid(s, data, index))
        session.commit()
    assert (result.created, result.rejected) == (3, 0), result.errors
    saved = stored(db, codes_of(rows))
    assert [saved[r[0]]["grid_id"] for r in rows] == ["TINC01", "TGEO01", "TGEO02"]


def test_upsert_takes_schema_output_directly(grids, db):
    code = credit_code.generate(random.Random(7), "120107")
    row = {"credit_code": code, "name": "直接调用测试有限公司", "address": "火炬路 1 号",
           "industry_code": "C39", "scale": "small", "operating": False}
    with Session(db) as session:
        result = importer.upsert_enterprises(session, [row], "tester", dry_run=False)
        session.commit()
    assert (result.created, result.rows) == (1, 1)
    saved = stored(db, [code])[code]
    assert (saved["in_scope"], saved["grid_source"], saved["has_revenue"]) == (
        False, "unassigned", True)


def test_export_neutralises_formulas_and_imports_back_unchanged(grids, db):
    rows = sample_rows(3, "120108")
    rows[0][1] = "=HYPERLINK(\"http://evil.example\",\"点我\")导入测试120108"
    rows[1][1] = "@SUM(1+1)*cmd|' /C calc'!A0 导入测试120108"
    assert run_import(grids, make_xlsx(HEADER, rows)).created == 3
    with Session(db) as session:
        content = importer.export_xlsx(session, ADMIN, {"q": "导入测试120108"})
        narrowed = importer.export_xlsx(session, ADMIN, {"q": "HYPERLINK"})
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == list(importer.EXPORT_HEADER)
    by_code = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert by_code[rows[0][0]][1] == "'" + rows[0][1]
    assert by_code[rows[1][0]][1] == "'" + rows[1][1]
    assert by_code[rows[2][0]][1] == rows[2][1]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    assert [r[0] for r in openpyxl.load_workbook(io.BytesIO(narrowed)).worksheets[0]
            .iter_rows(min_row=2, values_only=True)] == [rows[0][0]]
    again = run_import(grids, content)
    assert again.rejected == 0 and again.created == 0 and again.updated == 0, again.errors


def test_grid_staff_export_only_their_grids(grids, db):
    rows = sample_rows(6, "120109")
    run_import(grids, make_xlsx(HEADER, rows))
    worker = Principal(user_id="w", role=Role.GRID_WORKER, grid_ids=("TGEO02",))
    with Session(db) as session:
        content = importer.export_xlsx(session, worker, {})
        nobody = Principal(user_id="e", role=Role.GRID_WORKER, grid_ids=())
        empty = importer.export_xlsx(session, nobody, {})
    codes = {r[0] for r in openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
             .iter_rows(min_row=2, values_only=True)}
    assert {rows[2][0], rows[5][0]} <= codes
    assert {row["grid_id"] for row in stored(db, list(codes)).values()} == {"TGEO02"}
    assert openpyxl.load_workbook(io.BytesIO(empty)).worksheets[0].max_row == 1


def test_decode_upload_round_trip():
    assert decode_upload(base64.b64encode(b"abc").decode()) == b"abc"
