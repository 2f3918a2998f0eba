"""What the console's pages needed from the API (issue 17), through the gateway: the triage
queue sorted by the 10:00 deadline, the department inbox's buckets (即将到期, 已升级) with each
task's demand number and title, the coordinators' list of extension requests (延期申请) and
who sees it, the ledger lists filtered by grid, and enterprises found by credit code."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from helpers import bearer, demand_body
from sqlalchemy import text

from common.auth import Role
from gateway.console import CONTENT_SECURITY_POLICY
from services.enterprise import credit_code

WEB = Path(__file__).resolve().parents[2] / "web"
RNG = random.Random(17)
DEPT_A, DEPT_B = "tc_dept_a", "tc_dept_b"
CATEGORY = "tc_category"
GRID = "TCON1"
BOX = (120.60, 36.60, 120.62, 36.62)


@pytest.fixture(scope="module")
def zone(db, infrastructure) -> dict[str, str]:
    lo_lon, lo_lat, hi_lon, hi_lat = BOX
    ring = [[lo_lon, lo_lat], [hi_lon, lo_lat], [hi_lon, hi_lat], [lo_lon, hi_lat],
            [lo_lon, lo_lat]]
    with db.begin() as conn:
        for dept, name in ((DEPT_A, "甲部门(测试C)"), (DEPT_B, "乙部门(测试C)")):
            conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                              "VALUES (:i, :n, 'management') ON CONFLICT DO NOTHING"),
                         {"i": dept, "n": name})
        conn.execute(text("INSERT INTO enterprise.categories (code, name, department_id) "
                          "VALUES (:c, '测试C类别', :d) ON CONFLICT DO NOTHING"),
                     {"c": CATEGORY, "d": DEPT_A})
        conn.execute(text(
            "INSERT INTO enterprise.grids (id, name, kind, owner_department_id, boundary) "
            "VALUES (:i, '测试C片区', 'geographic', :d, CAST(:b AS jsonb)) "
            "ON CONFLICT DO NOTHING"),
            {"i": GRID, "d": DEPT_A, "b": json.dumps({"type": "Polygon", "coordinates": [ring]})})
    return {"grid": GRID}


@pytest.fixture
def enterprise(client: httpx.Client, token, zone) -> dict:
    body = {"credit_code": credit_code.generate(RNG), "name": "青岛测试C科技有限公司",
            "address": "高新区测试C路1号", "industry_code": "C39", "scale": "small",
            "lon": 120.61, "lat": 36.61}
    created = client.post("/api/v1/enterprises", json=body, headers=bearer(token(Role.ADMIN)))
    assert created.status_code == 201, created.text
    return created.json()


def staff(token, role: Role, department: str | None = None) -> dict[str, str]:
    return bearer(token(role, department_id=department) if department else token(role))


def triaged_task(client, token, enterprise, department: str = DEPT_A) -> dict:
    coordinator = staff(token, Role.COORDINATOR)
    demand = client.post("/api/v1/demands", headers=coordinator, json=demand_body(
        channel="service_window", enterprise_id=enterprise["id"], title="测试C：厂房用电"))
    assert demand.status_code == 201, demand.text
    result = client.post(f"/api/v1/demands/{demand.json()['id']}/triage", headers=coordinator,
                         json={"category": CATEGORY, "proposed_opinion": "请办理",
                               "departments": [{"department_id": department}]})
    assert result.status_code == 200, result.text
    return result.json()["tasks"][0]


def test_the_triage_queue_comes_sorted_by_the_triage_deadline(client, token, enterprise):
    coordinator = staff(token, Role.COORDINATOR)
    for _ in range(2):
        assert client.post("/api/v1/demands", headers=coordinator, json=demand_body(
            channel="service_window", enterprise_id=enterprise["id"])).status_code == 201
    queue = client.get("/api/v1/demands", headers=coordinator, params={
        "status": "received", "sort": "triage_due_at", "per_page": 200}).json()["items"]
    deadlines = [(d["triage_due_at"], d["received_at"]) for d in queue]
    assert deadlines == sorted(deadlines) and len(deadlines) >= 2
    newest = client.get("/api/v1/demands", headers=coordinator, params={"per_page": 5}).json()
    received = [d["received_at"] for d in newest["items"]]
    assert received == sorted(received, reverse=True)  # the default: newest first
    wrong = client.get("/api/v1/demands", headers=coordinator, params={"sort": "title"})
    assert wrong.status_code == 422 and "sort" in wrong.json()["errors"]


def test_tasks_show_their_demand_and_filter_by_due_soon_and_escalated(client, token, db,
                                                                       enterprise):
    task = triaged_task(client, token, enterprise)
    liaison = staff(token, Role.LIAISON, DEPT_A)
    listed = client.get("/api/v1/tasks", headers=liaison, params={"status": "assigned"}).json()
    mine = next(t for t in listed["items"] if t["id"] == task["id"])
    assert mine["demand_title"] == "测试C：厂房用电"
    assert mine["demand_number"].startswith("SQ")
    one = client.get(f"/api/v1/tasks/{task['id']}", headers=liaison).json()
    assert one["demand_number"] == mine["demand_number"]
    accepted = client.post(f"/api/v1/tasks/{task['id']}/accept", headers=liaison)
    assert accepted.status_code == 200, accepted.text

    def ids(**query) -> set[str]:
        page = client.get("/api/v1/tasks", headers=liaison, params={**query, "per_page": 200})
        assert page.status_code == 200, page.text
        return {t["id"] for t in page.json()["items"]}

    def set_task(**values) -> None:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        with db.begin() as conn:
            conn.execute(text(f"UPDATE ticketing.tasks SET {sets} WHERE id = :id"),
                         {**values, "id": task["id"]})

    now = datetime.now(UTC)
    set_task(due_at=now + timedelta(hours=5))
    assert task["id"] in ids(due_soon="true") and task["id"] not in ids(due_soon="false")
    set_task(due_at=now + timedelta(days=5))
    assert task["id"] not in ids(due_soon="true")
    set_task(due_at=now - timedelta(hours=1))  # past: 已逾期, not 即将到期
    assert task["id"] not in ids(due_soon="true") and task["id"] in ids(overdue="true")
    assert task["id"] not in ids(escalated="true") and task["id"] in ids(escalated="false")
    set_task(escalation_level=1)
    assert task["id"] in ids(escalated="true")
    other = client.get("/api/v1/tasks", headers=staff(token, Role.LIAISON, DEPT_B),
                       params={"escalated": "true", "per_page": 200}).json()
    assert task["id"] not in {t["id"] for t in other["items"]}
    set_task(due_at=now + timedelta(days=5), escalation_level=0)


def test_extension_requests_are_listed_for_coordinators_and_the_department(client, token,
                                                                          enterprise):
    task = triaged_task(client, token, enterprise)
    liaison = staff(token, Role.LIAISON, DEPT_A)
    assert client.post(f"/api/v1/tasks/{task['id']}/accept", headers=liaison).status_code == 200
    asked = client.post(f"/api/v1/tasks/{task['id']}/extensions", headers=liaison,
                        json={"workdays": 3, "reason": "需要等待外部审批"})
    assert asked.status_code == 201, asked.text

    def listed(headers, **query) -> dict[str, dict]:
        page = client.get("/api/v1/extensions", headers=headers,
                          params={"per_page": 200, **query})
        assert page.status_code == 200, page.text
        return {e["id"]: e for e in page.json()["items"]}

    pending = listed(staff(token, Role.COORDINATOR), status="pending")
    item = pending[asked.json()["id"]]
    assert item["department_id"] == DEPT_A and item["task_id"] == task["id"]
    assert item["demand_title"] == "测试C：厂房用电" and item["demand_number"].startswith("SQ")
    assert item["due_at"] is not None and item["workdays"] == 3
    assert asked.json()["id"] in listed(liaison)
    assert asked.json()["id"] in listed(staff(token, Role.LEADER))
    assert asked.json()["id"] not in listed(staff(token, Role.LIAISON, DEPT_B))
    assert asked.json()["id"] not in listed(staff(token, Role.COORDINATOR), status="approved")
    decided = client.post(f"/api/v1/extensions/{asked.json()['id']}/decision",
                          headers=staff(token, Role.COORDINATOR), json={"approve": False})
    assert decided.status_code == 200, decided.text
    assert asked.json()["id"] in listed(staff(token, Role.COORDINATOR), status="rejected")
    for role in (Role.GRID_WORKER, Role.ENTERPRISE):
        claims = {"enterprise_id": enterprise["id"]} if role == Role.ENTERPRISE else {}
        assert client.get("/api/v1/extensions",
                          headers=bearer(token(role, **claims))).status_code == 403
    wrong = client.get("/api/v1/extensions", headers=liaison, params={"status": "maybe"})
    assert wrong.status_code == 422 and "status" in wrong.json()["errors"]


def test_the_ledger_lists_filter_by_grid(client, token, enterprise):
    task = triaged_task(client, token, enterprise)
    coordinator = staff(token, Role.COORDINATOR)
    for view in ("problems", "tasks"):
        def ids(grid: str, view: str = view) -> set[str]:
            page = client.get(f"/api/v1/ledger/{view}", headers=coordinator,
                              params={"grid_id": grid, "per_page": 200})
            assert page.status_code == 200, page.text
            return {item["id"] for item in page.json()["items"]}
        wanted = task["demand_id"] if view == "problems" else task["id"]
        assert wanted in ids(GRID)
        assert wanted not in ids("GEO01")


def test_enterprises_are_found_by_name_or_the_start_of_their_credit_code(client, token,
                                                                         enterprise):
    admin = staff(token, Role.ADMIN)

    def found(q: str) -> set[str]:
        page = client.get("/api/v1/enterprises", headers=admin, params={"q": q, "per_page": 200})
        assert page.status_code == 200, page.text
        return {e["id"] for e in page.json()["items"]}

    code = enterprise["credit_code"]
    assert enterprise["id"] in found(code)
    assert enterprise["id"] in found(code[:12].lower())
    assert enterprise["id"] in found("测试C科技")
    assert enterprise["id"] not in found(code[2:14])  # the start of the code, not any part


def test_the_gateway_serves_the_built_console(client):
    if not (WEB / "dist" / "index.html").exists():
        pytest.fail("the console is not built: run `make web` (make test does)")
    page = client.get("/g/enterprises/anything")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert '<div id="app"></div>' in page.text
    assert "<script>" not in page.text  # no inline script
    script = next(part.split('"')[0] for part in page.text.split('src="')[1:]
                  if part.startswith("/assets/"))
    asset = client.get(script, headers={"Accept-Encoding": "gzip"})
    assert asset.status_code == 200
    assert asset.headers["cache-control"].endswith("immutable")
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.get("/openapi.json").json()["openapi"].startswith("3.")
