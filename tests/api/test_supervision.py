"""督办: every breach reaches a person and the ledger. A missed triage (分理超时) tells the
coordinators of the department owning the demand's grid (经济发展部 for geographic grids,
科技创新部 for incubators) in their inboxes and writes a ledger line; a missed handling
deadline and each escalation rung are written in the ledger too."""

from __future__ import annotations

import uuid

import httpx
from helpers import bearer, demand_body, eventually
from sqlalchemy import text

from common.auth import Role

PASSWORD = "correct horse battery"


def _coordinator(client: httpx.Client, admin: dict[str, str], department: str) -> str:
    created = client.post("/api/v1/accounts", headers=admin, json={
        "username": f"coord.{uuid.uuid4().hex[:10]}", "password": PASSWORD,
        "role": "coordinator", "name": f"统筹{department[:4]}", "department_id": department})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _enterprise_in(db, kind: str) -> tuple[str, str]:
    with db.connect() as conn:
        row = conn.execute(text(
            "SELECT e.id, e.grid_id FROM enterprise.enterprises e JOIN enterprise.grids g "
            "ON g.id = e.grid_id WHERE e.in_scope AND g.kind = :k ORDER BY e.id LIMIT 1"),
            {"k": kind}).one()
    return str(row[0]), row[1]


def _overdue_now(db, demand_id: str) -> None:
    """The demand's triage deadline moved into the past: the running sweep fires it."""
    with db.begin() as conn:
        conn.execute(text(
            "UPDATE ticketing.deadlines SET due_at = now() - interval '1 minute' "
            "WHERE subject_id = :d AND kind = 'triage' AND fired_at IS NULL"), {"d": demand_id})


def _inbox(client: httpx.Client, headers: dict[str, str]) -> list[dict]:
    answer = client.get("/api/v1/inbox", headers=headers, params={"per_page": 100})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_missed_triage_reaches_the_owning_departments_coordinators_and_the_ledger(
        client, token, db):
    admin = bearer(token(Role.ADMIN))
    economy = _coordinator(client, admin, "economic_development")
    science = _coordinator(client, admin, "science_innovation")
    as_economy = bearer(token(Role.COORDINATOR, user_id=economy,
                              department_id="economic_development"))
    as_science = bearer(token(Role.COORDINATOR, user_id=science,
                              department_id="science_innovation"))
    cases = []
    for kind, told, not_told in (("geographic", as_economy, as_science),
                                 ("incubator", as_science, as_economy)):
        enterprise, grid = _enterprise_in(db, kind)
        owner = bearer(token(Role.ENTERPRISE, enterprise_id=enterprise))
        demand = client.post("/api/v1/demands", headers=owner, json=demand_body(
            title=f"分理超时测试 {kind}"))
        assert demand.status_code == 201, demand.text
        assert demand.json()["grid_id"] == grid
        _overdue_now(db, demand.json()["id"])
        cases.append((demand.json(), told, not_told))

    for demand, told, not_told in cases:
        def mine(headers: dict[str, str], number: str = demand["number"]) -> list[dict]:
            return [m for m in _inbox(client, headers)
                    if m["kind"] == "triage_overdue" and number in m["title"]]

        (message,) = eventually(lambda: mine(told), timeout=20)  # noqa: B023
        assert message["link"] == f"/demands/{demand['id']}"
        assert "分理" in message["title"] and "请" in message["body"]
        assert mine(not_told) == []
        ledger = client.get("/api/v1/ledger", params={"demand_id": demand["id"]},
                            headers=told).json()["items"]
        overdue = [line for line in ledger if line["action"] == "triage_overdue"]
        assert len(overdue) == 1
        assert (overdue[0]["actor_role"], overdue[0]["to_state"]) == ("service", "received")
