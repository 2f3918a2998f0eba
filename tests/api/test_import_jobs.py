"""The import as a job (导入任务): ``POST /api/v1/enterprises/imports`` → 202 + Location →
``GET /api/v1/imports/{id}``, imported in batches by the enterprise service's import runner,
through the gateway and the services as processes."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from helpers import bearer, eventually
from sqlalchemy import text
from test_importer import HEADER, ensure_grids, make_xlsx, sample_rows, stored

from common.auth import Role
from services.enterprise import import_jobs
from services.enterprise.spreadsheet import XLSX_MIME

START = "/api/v1/enterprises/imports"
SYNC = "/api/v1/enterprises/import"


@pytest.fixture
def grids(db):
    ensure_grids(db)
    return db


def coordinator(token, user_id: str | None = None) -> str:
    return token(Role.COORDINATOR, department_id="economic_development",
                 user_id=user_id or f"coordinator-{uuid.uuid4().hex[:8]}")


def start(client, tok: str, content: bytes, **params: Any):
    return client.post(START, content=content, params=params,
                       headers=bearer(tok) | {"Content-Type": XLSX_MIME})


def finished(client, tok: str, url: str, timeout: float = 120) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        job = client.get(url, headers=bearer(tok)).json()
        return job if job["status"] in ("done", "failed") else None
    job = eventually(done, timeout=timeout, interval=0.2)
    assert job, client.get(url, headers=bearer(tok)).text
    return job


def big_xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("企业")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_job_imports_the_file_in_batches_with_its_row_errors(client, token, grids):
    rows = sample_rows(1200, "130201")
    rows[5][5] = "Z99"  # sheet row 7: no such industry
    rows[700][0] = rows[3][0]  # sheet row 702: the code of row 5 again
    tok = coordinator(token)
    answer = start(client, tok, make_xlsx(HEADER, rows))
    assert answer.status_code == 202, answer.text
    url = answer.headers["Location"]
    assert url == f"/api/v1/imports/{answer.json()['id']}"
    assert answer.json()["status"] in ("pending", "running")
    assert answer.json()["dry_run"] is False
    job = finished(client, tok, url)
    assert job["status"] == "done", job
    assert {k: job[k] for k in ("rows_total", "rows_done", "progress", "created", "updated",
                                "unchanged", "rejected", "errors_total")} == {
        "rows_total": 1200, "rows_done": 1200, "progress": 100, "created": 1198,
        "updated": 0, "unchanged": 0, "rejected": 2, "errors_total": 2}
    assert [(e["row"], e["field"]) for e in job["errors"]] == [
        (7, "行业代码"), (702, "统一社会信用代码")], job
    assert job["errors"][1]["code"] == "import.duplicate_credit_code"
    assert job["error"] is None and job["finished_at"] and job["attempts"] == 1
    assert len(stored(grids, [r[0] for r in rows])) == 1198
    # the same file again: nothing changes, as with the synchronous import
    again = finished(client, tok, start(client, tok, make_xlsx(HEADER, rows)).headers["Location"])
    assert (again["created"], again["unchanged"], again["rejected"]) == (0, 1198, 2)


def test_a_dry_run_writes_nothing(client, token, grids):
    rows = sample_rows(30, "130202")
    tok = token(Role.ADMIN, user_id=f"admin-{uuid.uuid4().hex[:8]}")
    answer = start(client, tok, make_xlsx(HEADER, rows), dry_run="true")
    assert answer.status_code == 202, answer.text
    job = finished(client, tok, answer.headers["Location"])
    assert (job["status"], job["dry_run"], job["created"], job["rejected"]) == (
        "done", True, 30, 0)
    assert stored(grids, [r[0] for r in rows]) == {}
    with grids.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM enterprise.outbox WHERE event_type = 'enterprise_registered' "
            "AND payload->'data'->>'credit_code' = ANY(:c)"),
            {"c": [r[0] for r in rows]}).scalar_one() == 0


def test_an_unusable_file_fails_the_job_or_is_refused(client, token, grids):
    tok = coordinator(token)
    no_names = make_xlsx(["统一社会信用代码", "地址"], [["91370212MA3C1234X5", "某地"]])
    job = finished(client, tok, start(client, tok, no_names).headers["Location"])
    assert job["status"] == "failed" and job["error"]["code"] == "import.header_unusable", job
    assert "企业名称" in job["error"]["reason"]
    refused = start(client, tok, b"not a workbook")
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "import.not_xlsx"


def test_only_the_starter_reads_a_job(client, token, grids):
    owner = f"coordinator-{uuid.uuid4().hex[:8]}"
    tok = coordinator(token, owner)
    url = start(client, tok, make_xlsx(HEADER, sample_rows(3, "130203"))).headers["Location"]
    assert client.get(url, headers=bearer(tok)).status_code == 200
    for other in (coordinator(token), token(Role.ADMIN, user_id="admin-other")):
        answer = client.get(url, headers=bearer(other))
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "import.not_found"
    for role, claims in ((Role.LEADER, {}), (Role.ENTERPRISE, {"enterprise_id": "e-1"}),
                         (Role.GRID_WORKER, {"grid_ids": ("TGEO01",)})):
        assert client.get(url, headers=bearer(token(role, **claims))).status_code == 403
        refused = start(client, token(role, **claims), make_xlsx(HEADER, []))
        assert refused.status_code == 403, (role, refused.text)
    assert client.get(url).status_code == 401
    assert client.get(f"/api/v1/imports/{uuid.uuid4()}", headers=bearer(tok)).status_code == 404
    assert client.get("/api/v1/imports/not-an-id", headers=bearer(tok)).status_code == 404


def test_other_calls_answer_while_a_large_import_runs(client, token, grids):
    rows = sample_rows(16_000, "130204")
    content = big_xlsx(rows)
    assert len(content) > 1_048_576  # over the gateway's body limit of other routes
    tok = coordinator(token)
    answer = start(client, tok, content, dry_run="true")
    assert answer.status_code == 202, answer.text
    url = answer.headers["Location"]

    def importing() -> bool:
        job = client.get(url, headers=bearer(tok)).json()
        return job["status"] == "running" and job["rows_total"] is not None
    assert eventually(importing, timeout=120, interval=0.2), client.get(
        url, headers=bearer(tok)).text
    admin = bearer(token(Role.ADMIN))
    listed = client.get("/api/v1/enterprises", params={"per_page": 1}, headers=admin)
    assert listed.status_code == 200, listed.text
    one = client.get(f"/api/v1/enterprises/{listed.json()['items'][0]['id']}", headers=admin)
    assert one.status_code == 200, one.text
    during = client.get(url, headers=bearer(tok)).json()
    assert during["status"] == "running" and during["rows_done"] < during["rows_total"], during
    job = finished(client, tok, url, timeout=600)
    assert (job["status"], job["rows_done"], job["created"]) == ("done", 16_000, 16_000), job


def _stale_job(db, owner: str, content: bytes, **values: Any) -> str:
    job_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    row = {"id": job_id, "owner": owner, "dry_run": False, "format": "xlsx",
           "content": content, "status": "running", "rows_done": 0, "created": 0,
           "updated": 0, "unchanged": 0, "rejected": 0, "runner": "killed-runner",
           "attempts": 1, "created_at": now,
           "heartbeat_at": now - import_jobs.STALE_AFTER - timedelta(seconds=30)} | values
    with db.begin() as conn:
        conn.execute(text(
            f"INSERT INTO enterprise.import_jobs ({', '.join(row)}) "
            f"VALUES ({', '.join(':' + k for k in row)})"), row)
    return job_id


def test_a_job_whose_runner_died_resumes_where_its_last_batch_ended(client, token, grids):
    """The service killed mid-import: its job is left running, its heartbeat stops; a runner
    claims it again and imports the rest, never the committed batches twice."""
    rows = sample_rows(1000, "130205")
    content = make_xlsx(HEADER, rows)
    owner = f"coordinator-{uuid.uuid4().hex[:8]}"
    tok = coordinator(token, owner)
    first = client.post(SYNC, content=make_xlsx(HEADER, rows[:500]),
                        headers=bearer(tok) | {"Content-Type": XLSX_MIME})
    assert first.status_code == 200 and first.json()["created"] == 500, first.text
    job_id = _stale_job(grids, owner, content, rows_total=1000, rows_done=500, created=500)
    job = finished(client, tok, f"/api/v1/imports/{job_id}")
    assert {k: job[k] for k in ("status", "rows_done", "created", "unchanged", "attempts")} == {
        "status": "done", "rows_done": 1000, "created": 1000, "unchanged": 0, "attempts": 2}
    assert len(stored(grids, [r[0] for r in rows])) == 1000
    # one interrupted too often is failed, never left running
    gone = _stale_job(grids, owner, content, attempts=import_jobs.MAX_ATTEMPTS)
    job = finished(client, tok, f"/api/v1/imports/{gone}")
    assert job["status"] == "failed" and job["error"]["code"] == "import.interrupted", job
