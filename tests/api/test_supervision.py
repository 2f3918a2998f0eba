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
            "ON g.id = e.grid_id WHERE e.in_scope AND g.kind = :k "
            # grids no other module's appraisal counts depend on
            "AND g.id NOT IN ('GEO01', 'GEO02') ORDER BY e.id LIMIT 1"),
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


def _task(client: httpx.Client, coordinator: dict[str, str], enterprise: str,
          department: str, title: str) -> tuple[str, str]:
    demand = client.post("/api/v1/demands", headers=coordinator, json=demand_body(
        channel="service_window", enterprise_id=enterprise, title=title))
    assert demand.status_code == 201, demand.text
    triaged = client.post(f"/api/v1/demands/{demand.json()['id']}/triage", headers=coordinator,
                          json={"category": "planning", "proposed_opinion": "请办理",
                                "departments": [{"department_id": department}]})
    assert triaged.status_code == 200, triaged.text
    return demand.json()["id"], triaged.json()["tasks"][0]["id"]


def test_the_supervision_list_by_department_and_grid_scoped_by_role(client, token, db):
    """督办: overdue now, due within one working day and escalated, by department and grid;
    coordinators see all, a liaison their department's, grid staff their grids'."""
    coordinator = bearer(token(Role.COORDINATOR))
    enterprise, grid = _enterprise_in(db, "geographic")
    run = uuid.uuid4().hex[:6]
    overdue_demand, overdue_task = _task(client, coordinator, enterprise, "natural_resources",
                                         f"督办超期 {run}")
    soon_demand, soon_task = _task(client, coordinator, enterprise, "ecology_environment",
                                   f"督办临期 {run}")
    raised_demand, raised_task = _task(client, coordinator, enterprise, "ecology_environment",
                                       f"督办升级 {run}")
    waiting = client.post("/api/v1/demands", headers=coordinator, json=demand_body(
        channel="service_window", enterprise_id=enterprise, title=f"督办待分理 {run}")).json()
    for task_id, department in ((overdue_task, "natural_resources"),
                                (soon_task, "ecology_environment"),
                                (raised_task, "ecology_environment")):
        accepted = client.post(f"/api/v1/tasks/{task_id}/accept", headers=bearer(
            token(Role.LIAISON, department_id=department)))
        assert accepted.status_code == 200, accepted.text
    with db.begin() as conn:  # the tasks' own deadlines, not the sweep's rows: nothing fires
        conn.execute(text("UPDATE ticketing.tasks SET due_at = now() - interval '2 hours' "
                          "WHERE id = :t"), {"t": overdue_task})
        conn.execute(text("UPDATE ticketing.tasks SET due_at = now() + interval '1 hour' "
                          "WHERE id = :t"), {"t": soon_task})
        conn.execute(text("UPDATE ticketing.tasks SET escalation_level = 2 WHERE id = :t"),
                     {"t": raised_task})
        conn.execute(text("UPDATE ticketing.demands SET triage_due_at = now() - interval "
                          "'1 hour' WHERE id = :d"), {"d": waiting["id"]})

    def listed(headers: dict[str, str], **params: str) -> dict:
        answer = client.get("/api/v1/supervision", headers=headers,
                            params={"q": run, "per_page": 200, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()

    everything = listed(coordinator)
    by_title = {item["title"].split()[0]: item for item in everything["items"]}
    assert set(by_title) == {"督办超期", "督办临期", "督办升级", "督办待分理"}
    assert by_title["督办超期"]["overdue"] and by_title["督办超期"]["stage"] == "handling"
    assert by_title["督办超期"]["department_name"] == "自然资源和规划分局"
    with db.connect() as conn:
        name = conn.execute(text("SELECT name FROM enterprise.enterprises WHERE id = :e"),
                            {"e": enterprise}).scalar_one()
    assert {item["enterprise_name"] for item in by_title.values()} == {name}
    assert by_title["督办临期"]["due_soon"] and not by_title["督办临期"]["overdue"]
    assert by_title["督办升级"]["escalated"] and by_title["督办升级"]["escalation_level"] == 2
    assert by_title["督办待分理"]["stage"] == "triage" and by_title["督办待分理"]["overdue"]
    assert by_title["督办待分理"]["grid_name"] and by_title["督办待分理"]["grid_id"] == grid
    assert everything["totals"] == {"overdue": 2, "due_soon": 1, "escalated": 1}
    departments = {row["department_id"]: row for row in everything["by_department"]}
    environment = departments["ecology_environment"]
    assert environment["name"] and environment["escalated"] == 1
    (by_grid,) = everything["by_grid"]
    assert by_grid["grid_id"] == grid and by_grid["name"] == by_title["督办待分理"]["grid_name"]
    assert (by_grid["overdue"], by_grid["due_soon"], by_grid["escalated"]) == (2, 1, 1)
    assert [i["title"] for i in listed(coordinator, state="overdue")["items"]] == [
        i["title"] for i in everything["items"] if i["overdue"]]

    # a department sees its own tasks only; grid staff their grids'; another grid nothing
    # (departments no other test module's counts depend on)
    finance = listed(bearer(token(Role.LIAISON, department_id="natural_resources")))
    assert [i["task_id"] for i in finance["items"]] == [overdue_task]
    assert finance["items"][0]["enterprise_name"] == name  # named for whoever reads
    head = listed(bearer(token(Role.DEPARTMENT_HEAD, department_id="ecology_environment")))
    assert {i["task_id"] for i in head["items"]} == {soon_task, raised_task}
    worker = listed(bearer(token(Role.GRID_WORKER, grid_ids=(grid,))))
    assert worker["total"] == 4
    assert listed(bearer(token(Role.GRID_WORKER, grid_ids=("NOPE",))))["total"] == 0
    for role in (Role.ENTERPRISE,):
        assert client.get("/api/v1/supervision", headers=bearer(
            token(role, enterprise_id=enterprise))).status_code == 403
    assert client.get("/api/v1/supervision").status_code == 401
    bad = client.get("/api/v1/supervision", headers=coordinator, params={"state": "late"})
    assert bad.status_code == 422 and "state" in bad.json()["errors"]
    assert {overdue_demand, soon_demand, raised_demand} <= {
        i["demand_id"] for i in everything["items"]}
