"""Bulk import and export through the gateway and the enterprise service, as processes."""

from __future__ import annotations

import io

import openpyxl
import pytest
from helpers import bearer
from test_importer import HEADER, ensure_grids, make_xlsx, sample_rows, stored

from common.auth import Role
from services.enterprise.importer import EXPORT_HEADER
from services.enterprise.spreadsheet import XLSX_MIME

IMPORT = "/api/v1/enterprises/import"
EXPORT = "/api/v1/enterprises/export.xlsx"


@pytest.fixture
def grids(db):
    ensure_grids(db)
    return db


def post_file(client, tok: str, content: bytes, content_type: str = XLSX_MIME, **params):
    return client.post(IMPORT, content=content, params=params,
                       headers=bearer(tok) | {"Content-Type": content_type})


def test_coordinator_imports_and_again_changes_nothing(client, token, grids):
    rows = sample_rows(40, "130101")
    rows[5][5] = "Z99"  # sheet row 7: no such industry
    content = make_xlsx(HEADER, rows)
    tok = token(Role.COORDINATOR, department_id="economic_development")
    first = post_file(client, tok, content)
    assert first.status_code == 200, first.text
    body = first.json()
    assert {k: body[k] for k in ("dry_run", "rows", "created", "updated", "unchanged",
                                 "rejected")} == {
        "dry_run": False, "rows": 40, "created": 39, "updated": 0, "unchanged": 0,
        "rejected": 1}
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(7, "行业代码")]
    assert len(stored(grids, [r[0] for r in rows])) == 39
    again = post_file(client, token(Role.ADMIN), content, format="xlsx")
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 39)


def test_only_coordinators_and_admins_may_import(client, token, grids):
    content = make_xlsx(HEADER, sample_rows(2, "130102"))
    for role, claims in ((Role.ENTERPRISE, {"enterprise_id": "e-1"}),
                         (Role.GRID_WORKER, {"grid_ids": ("TGEO01",)}),
                         (Role.LEADER, {})):
        response = post_file(client, token(role, **claims), content)
        assert response.status_code == 403, (role, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert post_file(client, "not-a-token", content).status_code == 401
    assert stored(grids, [r[0] for r in sample_rows(2, "130102")]) == {}


def test_dry_run_reports_without_writing(client, token, grids):
    rows = sample_rows(10, "130103")
    tok = token(Role.ADMIN)
    response = post_file(client, tok, make_xlsx(HEADER, rows), dry_run="true")
    assert response.status_code == 200, response.text
    assert (response.json()["dry_run"], response.json()["created"]) == (True, 10)
    assert stored(grids, [r[0] for r in rows]) == {}


def test_csv_upload_and_bad_uploads(client, token, grids):
    tok = token(Role.ADMIN)
    rows = sample_rows(3, "130104")
    csv_text = "\n".join([",".join(HEADER)] + [
        ",".join("" if v is None else str(v) for v in row) for row in rows])
    gbk = post_file(client, tok, csv_text.encode("gb18030"), "text/csv; charset=gb18030")
    assert gbk.status_code == 200, gbk.text
    assert gbk.json()["created"] == 3
    mismatch = post_file(client, tok, b"x", "text/csv", format="xlsx")
    assert mismatch.status_code == 415
    assert post_file(client, tok, b"{}", "application/json").status_code == 415
    empty = post_file(client, tok, b"")
    assert empty.status_code == 422 and "file" in empty.json()["errors"]
    broken = post_file(client, tok, b"PK\x03\x04 broken")
    assert broken.status_code == 422
    assert "file" in broken.json()["errors"]
    no_header = post_file(client, tok, "企业名称\n青岛\n".encode(), "text/csv")
    assert no_header.status_code == 422
    assert "统一社会信用代码" in no_header.json()["detail"]
    assert post_file(client, tok, b"x", format="pdf").status_code == 422
    too_big = post_file(client, tok, b"x" * (1024 * 1024 + 1))
    assert too_big.status_code == 413


def test_export_is_an_xlsx_file_scoped_to_the_caller(client, token, grids):
    rows = sample_rows(6, "130105")
    rows[1][1] = "=1+2 导入测试130105公司"
    assert post_file(client, token(Role.ADMIN), make_xlsx(HEADER, rows)).json()["created"] == 6
    response = client.get(EXPORT, params={"q": "导入测试130105"},
                          headers=bearer(token(Role.LIAISON, department_id="finance")))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_MIME
    assert response.headers["content-disposition"].startswith('attachment; filename="enterprises-')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == list(EXPORT_HEADER)
    exported = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(exported) == {r[0] for r in rows}
    assert exported[rows[1][0]][1] == "'" + rows[1][1]

    worker = token(Role.GRID_WORKER, grid_ids=("TGEO01",))
    mine = client.get(EXPORT, params={"q": "导入测试130105", "in_scope": "true"},
                      headers=bearer(worker))
    assert mine.status_code == 200, mine.text
    codes = [r[0] for r in openpyxl.load_workbook(io.BytesIO(mine.content)).worksheets[0]
             .iter_rows(min_row=2, values_only=True)]
    assert sorted(codes) == sorted([rows[1][0], rows[4][0]])  # the TGEO01 rows

    denied = client.get(EXPORT, headers=bearer(token(Role.ENTERPRISE, enterprise_id="e-1")))
    assert denied.status_code == 403
    invalid = client.get(EXPORT, params={"scale": "huge"}, headers=bearer(worker))
    assert invalid.status_code == 422
    assert "scale" in invalid.json()["errors"]


def test_the_template_is_the_header_the_import_reads(client, token, grids):
    template = "/api/v1/enterprises/import/template.xlsx"
    response = client.get(template, headers=bearer(token(Role.COORDINATOR,
                                                         department_id="economic_development")))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_MIME
    assert "attachment" in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    assert header[:5] == ["统一社会信用代码", "企业名称", "地址", "经度", "纬度"]
    assert sheet.max_row == 1
    assert header[:len(HEADER)] == HEADER  # the columns the import reads, in its order
    for role, claims in ((Role.ENTERPRISE, {"enterprise_id": "e-1"}),
                         (Role.GRID_WORKER, {"grid_ids": ("TGEO01",)})):
        assert client.get(template, headers=bearer(token(role, **claims))).status_code == 403
    assert client.get(template).status_code == 401
