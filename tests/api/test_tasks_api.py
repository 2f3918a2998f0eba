"""Triage (分理), acceptance (受理确认), coordination, handling (督办) and completion (办结)
through the gateway, against the running platform."""

from __future__ import annotations

import concurrent.futures
import json
import random

import httpx
import pytest
from helpers import bearer, demand_body
from sqlalchemy import text

from common.auth import Role
from services.enterprise import credit_code

RNG = random.Random(11)
ECON, SCIENCE, PARTY = "th_economic", "th_science", "th_party"
CATEGORY = "th_talent"  # handled by PARTY
GRID = "THND1"
BOX = (120.50, 36.50, 120.52, 36.52)


@pytest.fixture(scope="module")
def zone(db, infrastructure) -> dict[str, str]:
    """Departments, a category and a grid of this module's own in the enterprise service."""
    lo_lon, lo_lat, hi_lon, hi_lat = BOX
    ring = [[lo_lon, lo_lat], [hi_lon, lo_lat], [hi_lon, hi_lat], [lo_lon, hi_lat],
            [lo_lon, lo_lat]]
    with db.begin() as conn:
        for dept, name in ((ECON, "经济发展部(测试H)"), (SCIENCE, "科技创新部(测试H)"),
                           (PARTY, "党群工作部(测试H)")):
            conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                              "VALUES (:i, :n, 'management') ON CONFLICT DO NOTHING"),
                         {"i": dept, "n": name})
        conn.execute(text("INSERT INTO enterprise.categories (code, name, department_id) "
                          "VALUES (:c, '人才(测试H)', :d) ON CONFLICT DO NOTHING"),
                     {"c": CATEGORY, "d": PARTY})
        conn.execute(text(
            "INSERT INTO enterprise.grids (id, name, kind, owner_department_id, boundary) "
            "VALUES (:i, '测试H片区', 'geographic', :d, CAST(:b AS jsonb)) "
            "ON CONFLICT DO NOTHING"),
            {"i": GRID, "d": ECON, "b": json.dumps({"type": "Polygon", "coordinates": [ring]})})
    return {"grid": GRID}


@pytest.fixture
def enterprise(client: httpx.Client, token, zone) -> dict:
    """An in-scope enterprise inside the module's grid, registered by an admin."""
    body = {"credit_code": credit_code.generate(RNG), "name": "青岛测试H科技有限公司",
            "address": "高新区测试H路1号", "industry_code": "C39", "scale": "small",
            "lon": 120.51, "lat": 36.51}
    created = client.post("/api/v1/enterprises", json=body, headers=bearer(token(Role.ADMIN)))
    assert created.status_code == 201, created.text
    assert created.json()["grid_id"] == GRID
    return created.json()


@pytest.fixture
def coordinator(token) -> dict[str, str]:
    return bearer(token(Role.COORDINATOR))


def staff(token, role: Role, department: str) -> dict[str, str]:
    return bearer(token(role, department_id=department))


def new_demand(client: httpx.Client, headers: dict[str, str], enterprise: dict) -> dict:
    created = client.post("/api/v1/demands", headers=headers,
                          json=demand_body(channel="service_window",
                                           enterprise_id=enterprise["id"]))
    assert created.status_code == 201, created.text
    return created.json()


def triage(client, headers, demand_id, **body) -> httpx.Response:
    data = {"category": CATEGORY, "proposed_opinion": "请相关部门办理", **body}
    return client.post(f"/api/v1/demands/{demand_id}/triage", json=data, headers=headers)


def test_triage_defaults_and_rules(client, token, coordinator, enterprise):
    demand = new_demand(client, coordinator, enterprise)
    liaison = staff(token, Role.LIAISON, PARTY)
    assert triage(client, liaison, demand["id"]).status_code == 403
    unknown = triage(client, coordinator, demand["id"],
                     departments=[{"department_id": "no_such_dept"}])
    assert unknown.status_code == 422 and "departments" in unknown.json()["errors"]
    done = triage(client, coordinator, demand["id"], difficulty="hard")
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["demand"]["status"] == "triaged"
    assert result["demand"]["proposed_opinion"] == "请相关部门办理"
    [task] = result["tasks"]
    assert (task["department_id"], task["status"]) == (PARTY, "assigned")
    assert task["accept_due_at"].endswith("T18:00:00+08:00")
    again = triage(client, coordinator, demand["id"])
    assert again.status_code == 409
    missing = triage(client, coordinator, "00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


def test_accept_race_notes_extension_and_completion(client, token, coordinator, enterprise):
    demand = new_demand(client, coordinator, enterprise)
    result = triage(client, coordinator, demand["id"], departments=[
        {"department_id": ECON, "opinion": "经济部分", "handling_workdays": 5},
        {"department_id": SCIENCE, "opinion": "科技部分"},
    ]).json()
    tasks = {t["department_id"]: t for t in result["tasks"]}
    econ, science = tasks[ECON], tasks[SCIENCE]
    econ_liaison = staff(token, Role.LIAISON, ECON)
    science_liaison = staff(token, Role.LIAISON, SCIENCE)

    # another department's task does not exist for this liaison: 404, as on a read
    wrong = client.post(f"/api/v1/tasks/{econ['id']}/accept", headers=science_liaison)
    assert wrong.status_code == 404
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(
            lambda _: client.post(f"/api/v1/tasks/{econ['id']}/accept", headers=econ_liaison),
            range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409]
    accepted = next(a.json() for a in answers if a.status_code == 200)
    assert accepted["status"] == "accepted" and accepted["due_at"].endswith("T18:00:00+08:00")

    internal = client.post(f"/api/v1/tasks/{econ['id']}/notes", headers=econ_liaison,
                           json={"body": "内部: 待分管领导批示", "visibility": "internal"})
    public = client.post(f"/api/v1/tasks/{econ['id']}/notes", headers=econ_liaison,
                         json={"body": "已约企业面谈"})
    assert (internal.status_code, public.status_code) == (201, 201)
    assert client.get(f"/api/v1/tasks/{econ['id']}/notes",
                      headers=science_liaison).status_code == 404
    seen = client.get(f"/api/v1/tasks/{econ['id']}/notes", headers=coordinator).json()
    assert len(seen["items"]) == 2
    worker = bearer(token(Role.GRID_WORKER, grid_ids=(GRID,)))
    public_only = client.get(f"/api/v1/tasks/{econ['id']}/notes", headers=worker).json()
    assert [n["body"] for n in public_only["items"]] == ["已约企业面谈"]

    asked = client.post(f"/api/v1/tasks/{econ['id']}/extensions", headers=econ_liaison,
                        json={"workdays": 2, "reason": "需企业补充材料"})
    assert asked.status_code == 201, asked.text
    twice = client.post(f"/api/v1/tasks/{econ['id']}/extensions", headers=econ_liaison,
                        json={"workdays": 1, "reason": "again"})
    assert twice.status_code == 409
    denied = client.post(f"/api/v1/extensions/{asked.json()['id']}/decision",
                         headers=econ_liaison, json={"approve": True})
    assert denied.status_code == 403
    decided = client.post(f"/api/v1/extensions/{asked.json()['id']}/decision",
                          headers=coordinator, json={"approve": True, "reason": "同意"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    moved = client.get(f"/api/v1/tasks/{econ['id']}", headers=econ_liaison).json()
    assert moved["due_at"] == decided.json()["new_due_at"] != accepted["due_at"]

    assert client.post(f"/api/v1/tasks/{science['id']}/accept",
                       headers=science_liaison).status_code == 200
    head = staff(token, Role.DEPARTMENT_HEAD, ECON)
    first = client.post(f"/api/v1/tasks/{econ['id']}/complete", headers=head,
                        json={"result": "已协调解决"})
    assert first.status_code == 200 and first.json()["status"] == "completed"
    halfway = client.get(f"/api/v1/demands/{demand['id']}", headers=coordinator).json()
    assert halfway["status"] == "in_progress"
    last = client.post(f"/api/v1/tasks/{science['id']}/complete", headers=science_liaison,
                       json={"result": "已办结"})
    assert last.status_code == 200
    finished = client.get(f"/api/v1/demands/{demand['id']}", headers=coordinator).json()
    assert finished["status"] == "awaiting_rating"


def test_return_coordination_and_reassign(client, token, coordinator, enterprise):
    demand = new_demand(client, coordinator, enterprise)
    [task] = triage(client, coordinator, demand["id"],
                    departments=[{"department_id": ECON}]).json()["tasks"]
    econ_liaison = staff(token, Role.LIAISON, ECON)
    no_reason = client.post(f"/api/v1/tasks/{task['id']}/return", headers=econ_liaison,
                            json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["errors"]
    returned = client.post(f"/api/v1/tasks/{task['id']}/return", headers=econ_liaison,
                           json={"reason": "不属于本部门职责"})
    assert returned.status_code == 200 and returned.json()["status"] == "coordination"
    queue = client.get("/api/v1/coordination", params={"per_page": 200},
                       headers=bearer(token(Role.LEADER))).json()
    assert task["id"] in {t["id"] for t in queue["items"]}
    assert client.get("/api/v1/coordination", headers=econ_liaison).status_code == 403
    unknown = client.post(f"/api/v1/tasks/{task['id']}/reassign", headers=coordinator,
                          json={"department_id": "no_such_dept", "reason": "x"})
    assert unknown.status_code == 422 and "department_id" in unknown.json()["errors"]
    moved = client.post(f"/api/v1/tasks/{task['id']}/reassign", headers=coordinator,
                        json={"department_id": SCIENCE, "reason": "会商明确由科技创新部承办"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["department_id"]) == ("assigned", SCIENCE)
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=econ_liaison).status_code == 404
    accepted = client.post(f"/api/v1/tasks/{task['id']}/accept",
                           headers=staff(token, Role.LIAISON, SCIENCE))
    assert accepted.status_code == 200


def test_task_lists_are_scoped(client, token, coordinator, enterprise):
    demand = new_demand(client, coordinator, enterprise)
    triage(client, coordinator, demand["id"],
           departments=[{"department_id": ECON}, {"department_id": PARTY}])
    query = {"demand_id": demand["id"]}
    mine = client.get("/api/v1/tasks", params=query,
                      headers=staff(token, Role.LIAISON, ECON)).json()
    assert [t["department_id"] for t in mine["items"]] == [ECON]
    everything = client.get("/api/v1/tasks", params=query, headers=coordinator).json()
    assert everything["total"] == 2
    in_grid = client.get("/api/v1/tasks", params=query,
                         headers=bearer(token(Role.GRID_WORKER, grid_ids=(GRID,)))).json()
    assert in_grid["total"] == 2
    elsewhere = client.get("/api/v1/tasks", params=query,
                           headers=bearer(token(Role.GRID_WORKER, grid_ids=("NOPE",)))).json()
    assert elsewhere["total"] == 0
    ent = bearer(token(Role.ENTERPRISE, enterprise_id=enterprise["id"]))
    assert client.get("/api/v1/tasks", headers=ent).status_code == 403
    bad = client.get("/api/v1/tasks", params={"status": "lost"}, headers=coordinator)
    assert bad.status_code == 422 and "status" in bad.json()["errors"]
    assert client.get("/api/v1/tasks/not-a-uuid", headers=coordinator).status_code == 404


def test_a_stale_if_match_is_refused_and_the_etag_follows_the_version(
        client, token, coordinator, enterprise):
    """Optimistic concurrency: the ETag is the task's version; a write naming an older one
    gets 412 and changes nothing; the current one goes through."""
    demand = new_demand(client, coordinator, enterprise)
    task = triage(client, coordinator, demand["id"],
                  departments=[{"department_id": ECON, "opinion": "经济部分"}]).json()["tasks"][0]
    liaison = staff(token, Role.LIAISON, ECON)
    read = client.get(f"/api/v1/tasks/{task['id']}", headers=liaison)
    assert read.headers["ETag"] == f'"{read.json()["version"]}"'
    unchanged = client.get(f"/api/v1/tasks/{task['id']}",
                           headers={**liaison, "If-None-Match": read.headers["ETag"]})
    assert unchanged.status_code == 304

    stale = client.post(f"/api/v1/tasks/{task['id']}/accept",
                        headers={**liaison, "If-Match": f'"{read.json()["version"] - 1}"'})
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=liaison).json()["status"] == \
        read.json()["status"]
    garbled = client.post(f"/api/v1/tasks/{task['id']}/accept",
                          headers={**liaison, "If-Match": "yesterday"})
    assert garbled.status_code == 400 and "If-Match" in garbled.json()["errors"]

    accepted = client.post(f"/api/v1/tasks/{task['id']}/accept",
                           headers={**liaison, "If-Match": read.headers["ETag"]})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert accepted.headers["ETag"] == f'"{read.json()["version"] + 1}"'
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"result": "已办结"},
                        headers={**liaison, "If-Match": read.headers["ETag"]})
    assert again.status_code == 412


def test_codes_typed_full_width_or_with_spaces_mean_the_same(client, coordinator, enterprise):
    """Identifiers are compared after NFKC and trimming: ｔｈ＿ｔａｌｅｎｔ␠ is th_talent."""
    demand = new_demand(client, coordinator, enterprise)
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in CATEGORY) + " "
    answer = triage(client, coordinator, demand["id"], category=wide,
                    departments=[{"department_id": f" {ECON}　", "opinion": "经济部分"}])
    assert answer.status_code == 200, answer.text
    assert answer.json()["demand"]["category"] == CATEGORY
    assert [t["department_id"] for t in answer.json()["tasks"]] == [ECON]
