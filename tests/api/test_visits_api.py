"""走访 through the gateway: grid workers log visits to their grids' enterprises only, visits are
read with the enterprises' scope rules, and the not-visited report (未走访企业)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from helpers import bearer
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from common.auth import Role
from services.enterprise import credit_code
from services.enterprise.contracts import today_in_shanghai


@dataclass(frozen=True)
class Zone:
    grid_1: str
    grid_2: str
    e1: str  # grid 1, will be visited today
    e2: str  # grid 1, never visited
    e3: str  # grid 2, visited 40 days ago
    e4: str  # grid 2, out of scope: never reported


def insert_enterprise(conn: Connection, name: str, grid_id: str, in_scope: bool = True) -> str:
    ent_id = str(uuid.uuid4())
    conn.execute(text(
        "INSERT INTO enterprise.enterprises (id, credit_code, name, address, industry_code, "
        "scale, grid_id, grid_source, in_scope, operating, has_revenue, pays_tax, contacts, "
        "tags, strengths, upstream, downstream, version) VALUES (:i, :c, :n, '高新区', 'C39', "
        "'small', :g, 'location', :s, true, true, true, '[]', '{}', '{}', '{}', '{}', 1)"
    ), {"i": ent_id, "c": credit_code.generate(random.Random()), "n": name, "g": grid_id,
        "s": in_scope})
    return ent_id


@pytest.fixture
def zone(db: Engine) -> Zone:
    suffix = uuid.uuid4().hex[:8].upper()
    dept = f"v-{suffix}"
    grids = (f"G1-{suffix}", f"G2-{suffix}")
    with db.begin() as conn:
        conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                          "VALUES (:i, :n, 'management')"), {"i": dept, "n": f"部门 {dept}"})
        for grid in grids:
            conn.execute(text(
                "INSERT INTO enterprise.grids (id, name, kind, owner_department_id) "
                "VALUES (:i, :n, 'geographic', :d)"
            ), {"i": grid, "n": f"网格 {grid}", "d": dept})
        e1 = insert_enterprise(conn, "甲科技", grids[0])
        e2 = insert_enterprise(conn, "乙制造", grids[0])
        e3 = insert_enterprise(conn, "丙生物", grids[1])
        e4 = insert_enterprise(conn, "丁已迁出", grids[1], in_scope=False)
    return Zone(grids[0], grids[1], e1, e2, e3, e4)


def log_visit(client: httpx.Client, tok: str, enterprise_id: str, visited_on: date,
              **extra: object) -> httpx.Response:
    body = {"enterprise_id": enterprise_id, "visited_on": visited_on.isoformat(), **extra}
    return client.post("/api/v1/visits", json=body, headers=bearer(tok))


def test_grid_worker_logs_visits_only_in_their_grids(client, token, zone):
    today = today_in_shanghai()
    worker = token(Role.GRID_WORKER, grid_ids=(zone.grid_1,))
    created = log_visit(client, worker, zone.e1, today, topics=["用工", "融资"],
                        demands_raised="希望对接银行贷款")
    assert created.status_code == 201, created.text
    visit = created.json()
    assert created.headers["location"] == f"/api/v1/visits/{visit['id']}"
    assert (visit["enterprise_id"], visit["grid_id"]) == (zone.e1, zone.grid_1)
    assert visit["topics"] == ["用工", "融资"]
    assert visit["visited_on"] == today.isoformat()
    assert visit["created_at"].endswith("+08:00")
    shown = client.get(created.headers["location"], headers=bearer(worker))
    assert shown.status_code == 200 and shown.json() == visit

    # not an enterprise of their grid: as if it did not exist (422 naming enterprise_id)
    for other in (zone.e3, str(uuid.uuid4())):
        refused = log_visit(client, worker, other, today)
        assert refused.status_code == 422 and "enterprise_id" in refused.json()["errors"]
    assert refused.json()["errors"]["enterprise_id"][0]["code"] == "enterprise.not_found"
    future = log_visit(client, worker, zone.e1, today + timedelta(days=1))
    assert future.status_code == 422 and "visited_on" in future.json()["errors"]
    for role in (Role.LIAISON, Role.ENTERPRISE, Role.LEADER):
        tok = token(role, enterprise_id=zone.e1) if role == Role.ENTERPRISE else token(role)
        assert log_visit(client, tok, zone.e1, today).status_code == 403, role
    # coordinators log visits anywhere
    assert log_visit(client, token(Role.COORDINATOR), zone.e3, today).status_code == 201


def test_visits_are_read_like_enterprises(client, token, zone):
    today = today_in_shanghai()
    worker_1 = token(Role.GRID_WORKER, grid_ids=(zone.grid_1,))
    mine = log_visit(client, worker_1, zone.e1, today).json()
    theirs = log_visit(client, token(Role.GRID_LEADER, grid_ids=(zone.grid_2,)), zone.e3,
                       today - timedelta(days=2)).json()

    def listed(tok: str, **params: str) -> list[str]:
        response = client.get("/api/v1/visits", params=params, headers=bearer(tok))
        assert response.status_code == 200, response.text
        return [v["id"] for v in response.json()["items"]]

    assert listed(worker_1) == [mine["id"]]
    assert client.get(f"/api/v1/visits/{theirs['id']}", headers=bearer(worker_1)
                      ).status_code == 404
    coordinator = token(Role.COORDINATOR)
    assert listed(coordinator, grid_id=zone.grid_2) == [theirs["id"]]
    assert listed(coordinator, enterprise_id=zone.e1) == [mine["id"]]
    assert listed(token(Role.LIAISON), grid_id=zone.grid_1) == [mine["id"]]
    assert listed(token(Role.ENTERPRISE, enterprise_id=zone.e3)) == [theirs["id"]]
    assert listed(token(Role.ENTERPRISE, enterprise_id=zone.e2)) == []
    bad = client.get("/api/v1/visits", params={"per_page": 500}, headers=bearer(coordinator))
    assert bad.status_code == 422


def test_not_visited_report(client, token, zone):
    today = today_in_shanghai()
    coordinator = token(Role.COORDINATOR)
    assert log_visit(client, coordinator, zone.e1, today).status_code == 201
    assert log_visit(client, coordinator, zone.e3, today - timedelta(days=40)).status_code == 201
    assert log_visit(client, coordinator, zone.e3, today - timedelta(days=70)).status_code == 201

    def report(tok: str, **params: object) -> dict:
        response = client.get("/api/v1/visits/not-visited", params=params, headers=bearer(tok))
        assert response.status_code == 200, response.text
        return response.json()

    worker_1 = token(Role.GRID_WORKER, grid_ids=(zone.grid_1,))
    assert report(worker_1, days=30)["items"] == [
        {"enterprise_id": zone.e2, "name": "乙制造", "grid_id": zone.grid_1,
         "last_visited_on": None},
    ]
    # a grid worker sees only their grids, whatever grid_id asks for
    assert report(worker_1, days=30, grid_id=zone.grid_2)["total"] == 0

    grid_2 = report(coordinator, days=30, grid_id=zone.grid_2)
    assert grid_2["items"] == [
        {"enterprise_id": zone.e3, "name": "丙生物", "grid_id": zone.grid_2,
         "last_visited_on": (today - timedelta(days=40)).isoformat()},
    ]  # e4 is out of scope
    assert report(coordinator, days=60, grid_id=zone.grid_2)["total"] == 0
    assert report(coordinator, days=40, grid_id=zone.grid_2)["total"] == 1  # 40 days ago: out

    both = token(Role.GRID_LEADER, grid_ids=(zone.grid_1, zone.grid_2))
    first = report(both, days=30, per_page=1)
    assert (first["total"], first["per_page"]) == (2, 1)
    assert first["items"][0]["enterprise_id"] == zone.e2  # never visited comes first
    second = report(both, days=30, per_page=1, page=2)
    assert second["items"][0]["enterprise_id"] == zone.e3

    denied = client.get("/api/v1/visits/not-visited",
                        headers=bearer(token(Role.ENTERPRISE, enterprise_id=zone.e1)))
    assert denied.status_code == 403
    invalid = client.get("/api/v1/visits/not-visited", params={"days": 0},
                         headers=bearer(coordinator))
    assert invalid.status_code == 422 and "days" in invalid.json()["errors"]
