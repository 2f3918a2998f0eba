"""The whole demand flow through the gateway, with a token of each role (issue acceptance):
submit, triage into two departments, one accept and one return, coordination, handling,
extension, overdue escalation to level 2, completion, dissatisfied rating, reopen, completion,
satisfied rating, closed; the ledger (台账) shows every step."""

from __future__ import annotations

import pytest
from helpers import bearer, demand_body, eventually, new_enterprise_id
from sqlalchemy import text

from common.auth import Role

pytestmark = pytest.mark.timeout(120)


def overdue_now(db, task_id: str, kind: str) -> None:
    """Let time pass: the task's pending deadline of this kind is due a second ago."""
    with db.begin() as conn:
        moved = conn.execute(text(
            "UPDATE ticketing.deadlines SET due_at = now() - interval '1 second' "
            "WHERE subject_id = :t AND kind = :k AND fired_at IS NULL "
            "AND cancelled_at IS NULL"), {"t": task_id, "k": kind}).rowcount
    assert moved >= 1, f"no pending {kind} deadline for {task_id}"


def escalation_levels(db, task_id: str) -> list[int]:
    with db.connect() as conn:
        return list(conn.execute(text(
            "SELECT level FROM ticketing.escalations WHERE task_id = :t ORDER BY level"),
            {"t": task_id}).scalars())


def test_full_demand_flow_with_every_role(client, token, db):
    ent = new_enterprise_id(incubator_id="INC01")
    enterprise = token(Role.ENTERPRISE, enterprise_id=ent)
    worker = token(Role.GRID_WORKER, grid_ids=("INC01",))
    coordinator = token(Role.COORDINATOR, department_id="economic_development")
    fire = token(Role.LIAISON, department_id="fire_rescue")
    tax = token(Role.LIAISON, department_id="taxation")
    build = token(Role.LIAISON, department_id="construction")
    fire_head = token(Role.DEPARTMENT_HEAD, department_id="fire_rescue")

    # 信息收集: the grid worker records the demand
    demand = client.post("/api/v1/demands", headers=bearer(worker), json=demand_body(
        channel="grid_worker", enterprise_id=ent, title="新厂房消防验收和税务登记")).json()
    did = demand["id"]
    assert demand["status"] == "received" and demand["grid_id"] == "INC01"

    # 分理: two departments, one task each
    triaged = client.post(f"/api/v1/demands/{did}/triage", headers=bearer(coordinator), json={
        "category": "fire", "difficulty": "normal",
        "proposed_opinion": "消防验收与税务登记分别办理",
        "departments": [{"department_id": "fire_rescue", "opinion": "指导消防验收"},
                        {"department_id": "taxation", "opinion": "办理税务登记"}]})
    assert triaged.status_code == 200, triaged.text
    tasks = {t["department_id"]: t for t in triaged.json()["tasks"]}
    fire_task, tax_task = tasks["fire_rescue"]["id"], tasks["taxation"]["id"]

    # 受理确认: fire accepts (a second accept loses), taxation returns it
    assert client.post(f"/api/v1/tasks/{fire_task}/accept", headers=bearer(fire)).status_code \
        == 200
    assert client.post(f"/api/v1/tasks/{fire_task}/accept", headers=bearer(fire)).status_code \
        == 409
    # another department's task does not exist for fire's liaison
    assert client.post(f"/api/v1/tasks/{tax_task}/accept", headers=bearer(fire)).status_code \
        == 404
    returned = client.post(f"/api/v1/tasks/{tax_task}/return", headers=bearer(tax),
                           json={"reason": "属于建设部职责"})
    assert returned.status_code == 200 and returned.json()["status"] == "coordination"

    # 协调: the coordinator names the handling department, which accepts
    queue = client.get("/api/v1/coordination", headers=bearer(coordinator)).json()
    assert tax_task in {t["id"] for t in queue["items"]}
    reassigned = client.post(f"/api/v1/tasks/{tax_task}/reassign", headers=bearer(coordinator),
                             json={"department_id": "construction", "reason": "建设部牵头"})
    assert reassigned.status_code == 200
    assert client.post(f"/api/v1/tasks/{tax_task}/accept", headers=bearer(build)).status_code \
        == 200

    # 督办: notes (the enterprise sees public ones only) and an approved extension
    for visibility, body in (("public", "已安排现场检查"), ("internal", "内部：需协调设计院")):
        r = client.post(f"/api/v1/tasks/{fire_task}/notes", headers=bearer(fire),
                        json={"body": body, "visibility": visibility})
        assert r.status_code in (200, 201), r.text
    timeline = client.get(f"/api/v1/demands/{did}/timeline", headers=bearer(enterprise)).json()
    texts = " ".join(str(e.get("text")) for e in timeline["entries"])
    assert "已安排现场检查" in texts and "内部" not in texts
    before = client.get(f"/api/v1/tasks/{fire_task}", headers=bearer(fire)).json()["due_at"]
    ext = client.post(f"/api/v1/tasks/{fire_task}/extensions", headers=bearer(fire),
                      json={"workdays": 2, "reason": "等待设计变更"})
    assert ext.status_code in (200, 201), ext.text
    decided = client.post(f"/api/v1/extensions/{ext.json()['id']}/decision",
                          headers=bearer(coordinator), json={"approve": True})
    assert decided.status_code == 200, decided.text
    after = client.get(f"/api/v1/tasks/{fire_task}", headers=bearer(fire)).json()["due_at"]
    assert after > before

    # overdue: level 1 (department head) at the deadline, level 2 (leader in charge) later
    overdue_now(db, fire_task, "handling")
    assert eventually(lambda: escalation_levels(db, fire_task) == [1], timeout=10)
    overdue_now(db, fire_task, "escalation")
    assert eventually(lambda: escalation_levels(db, fire_task) == [1, 2], timeout=10)
    seen = client.get(f"/api/v1/tasks/{fire_task}", headers=bearer(fire_head)).json()
    assert seen["escalation_level"] == 2

    # 办结, rated dissatisfied, reopened, 办结 again, rated satisfied: 自动销号
    for task, tok in ((fire_task, fire), (tax_task, build)):
        done = client.post(f"/api/v1/tasks/{task}/complete", headers=bearer(tok),
                           json={"result": "已办结"})
        assert done.status_code == 200, done.text
    state = client.get(f"/api/v1/demands/{did}", headers=bearer(enterprise)).json()
    assert state["status"] == "awaiting_rating"
    unhappy = client.post(f"/api/v1/demands/{did}/rating", headers=bearer(enterprise),
                          json={"efficiency": 2, "attitude": 3, "quality": 2, "comment": "太慢"})
    assert unhappy.status_code == 201, unhappy.text
    reopened = client.post(f"/api/v1/demands/{did}/resolution", headers=bearer(coordinator),
                           json={"action": "reopen", "task_id": fire_task})
    assert reopened.status_code == 200, reopened.text
    assert client.get(f"/api/v1/demands/{did}",
                      headers=bearer(enterprise)).json()["status"] == "in_progress"
    assert client.post(f"/api/v1/tasks/{fire_task}/complete", headers=bearer(fire),
                       json={"result": "复查合格"}).status_code == 200
    happy = client.post(f"/api/v1/demands/{did}/rating", headers=bearer(enterprise),
                        json={"efficiency": 5, "attitude": 5, "quality": 4})
    assert happy.status_code == 201, happy.text
    closed = client.get(f"/api/v1/demands/{did}", headers=bearer(enterprise)).json()
    assert (closed["status"], closed["closure"]) == ("closed", "rated")

    # 台账: every step, with who and from/to
    ledger = client.get("/api/v1/ledger", params={"demand_id": did, "per_page": 500},
                        headers=bearer(coordinator)).json()["items"]
    actions = [e["action"] for e in ledger]
    for step in ("triage", "accept", "return", "reassign", "extension_approved", "complete",
                 "rate", "reopen", "close"):
        assert step in actions, (step, actions)
    assert any(e["action"] == "return" and e["reason"] == "属于建设部职责" for e in ledger)
    assert {e["actor_role"] for e in ledger} >= {"coordinator", "liaison", "enterprise"}
