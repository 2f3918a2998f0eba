"""Rating, the enterprise's timeline and the ledger (台账) through the gateway."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from helpers import bearer
from sqlalchemy import text
from sqlalchemy.engine import Engine

from common.auth import Role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STAFF_IDS = ("coord-secret-7", "liaison-secret-7", "worker-secret-7")
INTERNAL = "内部备注：企业法人难沟通"
PUBLIC = "已联系人才公寓运营方"


@dataclass
class Case:
    demand_id: str
    task_id: str
    enterprise_id: str
    department_id: str
    category: str
    grid_id: str


@pytest.fixture
def awaiting(db: Engine) -> Callable[..., Case]:
    """A demand awaiting its rating, recorded by a grid worker, triaged, accepted and
    completed by one department, with a public and an internal note (SQL, as handling
    writes them)."""

    def make(title: str = "申请人才公寓") -> Case:
        tag = uuid.uuid4().hex[:8]
        case = Case(str(uuid.uuid4()), str(uuid.uuid4()), f"ent-{tag}", f"DEP{tag}",
                    f"类别{tag}", f"G{tag}")
        now = datetime.now(UTC)
        params = {"d": case.demand_id, "t": case.task_id, "e": case.enterprise_id,
                  "dep": case.department_id, "cat": case.category, "g": case.grid_id,
                  "title": title, "num": f"T{tag}".upper(), "received": now - timedelta(days=6),
                  "triage": now - timedelta(days=5), "due": now - timedelta(days=1),
                  "completed": now - timedelta(hours=2)}
        with db.begin() as conn:
            conn.execute(text(
                "INSERT INTO ticketing.demands (id, number, enterprise_id, channel, category, "
                "title, description, urgency, attachments, status, received_at, triage_due_at, "
                "triage_due_provisional, recorded_by, recorded_role, version, grid_id, "
                "difficulty, completed_at) VALUES (:d, :num, :e, 'grid_worker', :cat, :title, "
                "'三名博士', 'normal', '[]', 'awaiting_rating', :received, :triage, false, "
                "'worker-secret-7', 'grid_worker', 4, :g, 'normal', :completed)"), params)
            conn.execute(text(
                "INSERT INTO ticketing.tasks (id, demand_id, department_id, status, difficulty, "
                "handling_workdays, due_at, due_provisional, accepted_at, accepted_by, result, "
                "completed_at, reopen_count, escalation_level, version) VALUES (:t, :d, :dep, "
                "'completed', 'normal', 5, :due, false, :triage, 'liaison-secret-7', '已办结', "
                ":completed, 0, 0, 3)"), params)
            for action, task, dep, before, after, actor, role in (
                ("triage", None, None, "received", "triaged", "coord-secret-7", "coordinator"),
                ("assign", case.task_id, case.department_id, None, "assigned",
                 "coord-secret-7", "coordinator"),
                ("accept", case.task_id, case.department_id, "assigned", "accepted",
                 "liaison-secret-7", "liaison"),
                ("note", case.task_id, case.department_id, "accepted", "accepted",
                 "liaison-secret-7", "liaison"),
                ("complete", case.task_id, case.department_id, "accepted", "completed",
                 "liaison-secret-7", "liaison"),
                ("complete", None, None, "in_progress", "awaiting_rating", "liaison-secret-7",
                 "liaison"),
            ):
                conn.execute(text(
                    "INSERT INTO ticketing.ledger (demand_id, task_id, department_id, action, "
                    "from_state, to_state, actor, actor_role, reason) VALUES (:d, :t, :dep, :a, "
                    ":f, :to, :actor, :role, :reason)"),
                    {"d": case.demand_id, "t": task, "dep": dep, "a": action, "f": before,
                     "to": after, "actor": actor, "role": role, "reason": INTERNAL})
            for visibility, body in (("public", PUBLIC), ("internal", INTERNAL)):
                conn.execute(text(
                    "INSERT INTO ticketing.notes (id, demand_id, task_id, department_id, "
                    "visibility, body, author, author_role) VALUES (:i, :d, :t, :dep, :v, :b, "
                    "'liaison-secret-7', 'liaison')"),
                    {"i": str(uuid.uuid4()), "d": case.demand_id, "t": case.task_id,
                     "dep": case.department_id, "v": visibility, "b": body})
        return case

    return make


def rate(client, tok: str, case: Case, scores: tuple[int, int, int] = (5, 4, 4)):
    body = dict(zip(("efficiency", "attitude", "quality"), scores, strict=True))
    return client.post(f"/api/v1/demands/{case.demand_id}/rating", json=body,
                       headers=bearer(tok))


def test_only_the_owning_enterprise_rates_and_satisfied_closes(client, token, awaiting):
    case = awaiting()
    stranger = token(Role.ENTERPRISE, enterprise_id="ent-someone-else")
    assert rate(client, stranger, case).status_code == 404
    coordinator = token(Role.COORDINATOR)
    assert rate(client, coordinator, case).status_code == 403
    mine = token(Role.ENTERPRISE, enterprise_id=case.enterprise_id)
    invalid = client.post(f"/api/v1/demands/{case.demand_id}/rating",
                          json={"efficiency": 6, "attitude": 4}, headers=bearer(mine))
    assert invalid.status_code == 422
    assert set(invalid.json()["errors"]) == {"efficiency", "quality"}
    rated = rate(client, mine, case)
    assert rated.status_code == 201, rated.text
    body = rated.json()
    assert body["rating"]["satisfied"] is True and body["rating"]["round"] == 1
    assert (body["demand"]["status"], body["demand"]["closure"]) == ("closed", "rated")
    again = rate(client, mine, case)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_dissatisfied_waits_for_the_coordinators_then_closes_internally(client, token,
                                                                         awaiting):
    case = awaiting()
    mine = token(Role.ENTERPRISE, enterprise_id=case.enterprise_id)
    assert rate(client, mine, case, (1, 2, 3)).json()["demand"]["status"] == "awaiting_rating"
    coordinator = bearer(token(Role.COORDINATOR))
    queue = client.get("/api/v1/ledger/problems", headers=coordinator,
                       params={"category": case.category, "awaiting_resolution": "true"})
    assert [item["id"] for item in queue.json()["items"]] == [case.demand_id]
    url = f"/api/v1/demands/{case.demand_id}/resolution"
    assert client.post(url, json={"action": "close_internally"},
                       headers=bearer(mine)).status_code == 403
    missing = client.post(url, json={"action": "close_internally"}, headers=coordinator)
    assert missing.status_code == 422 and "report" in missing.json()["errors"]
    closed = client.post(url, json={"action": "close_internally", "report": "书面汇报材料"},
                         headers=coordinator)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["closure"]) == ("closed", "internal")


def test_the_timeline_shows_states_and_public_notes_only(client, token, awaiting):
    case = awaiting()
    mine = token(Role.ENTERPRISE, enterprise_id=case.enterprise_id)
    response = client.get(f"/api/v1/demands/{case.demand_id}/timeline", headers=bearer(mine))
    assert response.status_code == 200, response.text
    assert INTERNAL not in response.text
    assert not any(staff in response.text for staff in STAFF_IDS)
    timeline = response.json()
    assert timeline["demand"]["recorded_by"] == "grid_worker"
    assert [t["department_id"] for t in timeline["tasks"]] == [case.department_id]
    kinds = [(e["kind"], e["state"]) for e in timeline["entries"]]
    assert kinds[:4] == [("received", "received"), ("triage", "triaged"),
                         ("assign", "assigned"), ("accept", "accepted")]
    assert ("note", None) in kinds and ("complete", "awaiting_rating") in kinds
    notes = [e for e in timeline["entries"] if e["kind"] == "note"]
    assert [(n["text"], n["actor_role"], n["department_id"]) for n in notes] == [
        (PUBLIC, "liaison", case.department_id)]
    assert all(e["at"].endswith("+08:00") for e in timeline["entries"])
    readers = [
        token(Role.GRID_WORKER, grid_ids=(case.grid_id,)),
        token(Role.LIAISON, department_id=case.department_id),
        token(Role.LEADER),
    ]
    for reader in readers:
        assert client.get(f"/api/v1/demands/{case.demand_id}/timeline",
                          headers=bearer(reader)).status_code == 200
    outsiders = [
        token(Role.ENTERPRISE, enterprise_id="ent-someone-else"),
        token(Role.LIAISON, department_id="DEP-other"),
        token(Role.GRID_WORKER, grid_ids=("G-other",)),
    ]
    for outsider in outsiders:
        assert client.get(f"/api/v1/demands/{case.demand_id}/timeline",
                          headers=bearer(outsider)).status_code == 404


def test_the_ledger_lists_and_exports(client, token, awaiting):
    case = awaiting(title="=HYPERLINK(\"http://evil\")")
    coordinator = bearer(token(Role.COORDINATOR))
    scope = {"category": case.category}
    problems = client.get("/api/v1/ledger/problems", headers=coordinator, params=scope).json()
    assert problems["total"] == 1
    assert problems["items"][0]["departments"] == [case.department_id]
    assert problems["items"][0]["status"] == "awaiting_rating"
    number = problems["items"][0]["number"]
    by_number = client.get("/api/v1/ledger/problems", headers=coordinator,
                           params={"number": f" {number} "}).json()
    assert [item["number"] for item in by_number["items"]] == [number]
    assert client.get("/api/v1/ledger/problems", headers=coordinator,
                      params={"number": "SQ19990101-00001"}).json()["total"] == 0
    tasks = client.get("/api/v1/ledger/tasks", headers=coordinator,
                       params={"department_id": case.department_id}).json()
    assert [(t["id"], t["overdue"]) for t in tasks["items"]] == [(case.task_id, True)]
    overdue = client.get("/api/v1/ledger/tasks", headers=coordinator,
                         params={**scope, "overdue": "false"}).json()
    assert overdue["total"] == 0
    assert client.get("/api/v1/ledger/done", headers=coordinator,
                      params=scope).json()["total"] == 0
    mine = token(Role.ENTERPRISE, enterprise_id=case.enterprise_id)
    assert rate(client, mine, case, (4, 4, 2)).status_code == 201
    url = f"/api/v1/demands/{case.demand_id}/resolution"
    assert client.post(url, json={"action": "close_internally", "report": "汇报"},
                       headers=coordinator).status_code == 200
    done = client.get("/api/v1/ledger/done", headers=coordinator, params=scope).json()
    assert done["total"] == 1
    item = done["items"][0]
    assert (item["closure"], item["satisfied"], len(item["ratings"])) == ("internal", False, 1)
    today = datetime.now(UTC).date()
    ranged = client.get("/api/v1/ledger/done", headers=coordinator, params={
        **scope, "received_from": str(today), "received_to": str(today)}).json()
    assert ranged["total"] == 0  # received six days ago
    bad = client.get("/api/v1/ledger/done", headers=coordinator, params={
        "received_from": str(today), "received_to": str(today - timedelta(days=1))})
    assert bad.status_code == 422

    entries = client.get("/api/v1/ledger", headers=coordinator,
                         params={"demand_id": case.demand_id}).json()
    assert {"rate", "close", "accept"} <= {e["action"] for e in entries["items"]}
    liaison = bearer(token(Role.LIAISON, department_id=case.department_id))
    own = client.get("/api/v1/ledger", headers=liaison,
                     params={"demand_id": case.demand_id}).json()
    assert own["total"] > 0
    assert {e["department_id"] for e in own["items"]} == {case.department_id}
    other = bearer(token(Role.LIAISON, department_id="DEP-other"))
    assert client.get("/api/v1/ledger/problems", headers=other,
                      params=scope).json()["total"] == 0
    assert client.get("/api/v1/ledger", headers=bearer(mine)).status_code == 403
    assert client.get("/api/v1/ledger/problems",
                      headers=bearer(token(Role.GRID_WORKER))).status_code == 403

    for view in ("problems", "tasks", "done"):
        exported = client.get("/api/v1/ledger/export.xlsx", headers=coordinator,
                              params={**scope, "view": view})
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == XLSX
        assert f"ledger-{view}-" in exported.headers["content-disposition"]
        sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0] == "诉求编号" and len(rows) == 2
        assert "'=HYPERLINK(\"http://evil\")" in rows[1]
    assert client.get("/api/v1/ledger/export.xlsx", headers=coordinator,
                      params={"view": "secrets"}).status_code == 422
