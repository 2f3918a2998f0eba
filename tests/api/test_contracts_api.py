"""协议合同 through the gateway: record, list, show, fulfil, who is denied, the obligation list
with its states, the reminder lead-time setting and the sweep's exactly-once events."""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from unittest.mock import ANY

import httpx
import pytest
from helpers import bearer, eventually, named_fields
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from common.auth import Role
from common.calendar import WorkCalendar
from services.enterprise import contracts, credit_code

CAL = WorkCalendar()


@dataclass(frozen=True)
class World:
    dept_a: str  # owns the contract
    dept_b: str  # owns one committee obligation of it
    dept_c: str  # has nothing to do with it
    ent: str
    other_ent: str


def insert_department(conn: Connection, dept_id: str) -> None:
    conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                      "VALUES (:i, :n, 'management')"), {"i": dept_id, "n": f"部门 {dept_id}"})


def insert_enterprise(conn: Connection, grid_id: str | None = None, in_scope: bool = True,
                      name: str = "测试企业") -> str:
    ent_id = str(uuid.uuid4())
    conn.execute(text(
        "INSERT INTO enterprise.enterprises (id, credit_code, name, address, industry_code, "
        "scale, grid_id, grid_source, in_scope, operating, has_revenue, pays_tax, contacts, "
        "tags, strengths, upstream, downstream, version) VALUES (:i, :c, :n, '高新区', 'C39', "
        "'small', :g, :gs, :s, true, true, true, '[]', '{}', '{}', '{}', '{}', 1)"
    ), {"i": ent_id, "c": credit_code.generate(random.Random()), "n": name, "g": grid_id,
        "gs": "location" if grid_id else "unassigned", "s": in_scope})
    return ent_id


@pytest.fixture
def world(db: Engine) -> World:
    suffix = uuid.uuid4().hex[:8]
    with db.begin() as conn:
        for dept in ("a", "b", "c"):
            insert_department(conn, f"{dept}-{suffix}")
        ent, other = insert_enterprise(conn), insert_enterprise(conn)
    return World(f"a-{suffix}", f"b-{suffix}", f"c-{suffix}", ent, other)


def contract_body(world: World, today: date, **overrides: object) -> dict:
    body: dict = {
        "enterprise_id": world.ent,
        "title": "项目入驻协议",
        "signed_on": (today - timedelta(days=60)).isoformat(),
        "department_id": world.dept_a,
        "note": "落户奖励与配套",
        "obligations": [
            {"party": "committee", "description": "兑现落户奖励",
             "due_on": (today + timedelta(days=3)).isoformat()},
            {"party": "committee", "description": "完成道路配套",
             "due_on": (today + timedelta(days=150)).isoformat()},
            {"party": "committee", "description": "办理施工许可",
             "due_on": (today - timedelta(days=10)).isoformat()},
            {"party": "committee", "description": "人才公寓交付", "department_id": world.dept_b,
             "due_on": (today + timedelta(days=120)).isoformat()},
            {"party": "enterprise", "description": "年产值达到1亿元",
             "due_on": (today + timedelta(days=200)).isoformat()},
        ],
    }
    body.update(overrides)
    return body


def create(client: httpx.Client, tok: str, body: dict) -> httpx.Response:
    return client.post("/api/v1/contracts", json=body, headers=bearer(tok))


def by_description(contract: dict) -> dict[str, dict]:
    return {o["description"]: o for o in contract["obligations"]}


def events_of(db: Engine, obligation_ids: list[str]) -> Counter[tuple[str, str]]:
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT payload->'data'->>'obligation_id', event_type FROM enterprise.outbox "
            "WHERE payload->'data'->>'obligation_id' = ANY(:ids)"
        ), {"ids": obligation_ids}).all()
    return Counter((r[0], r[1]) for r in rows)


def test_department_records_lists_shows_and_fulfils_a_contract(client, token, world):
    today = contracts.today_in_shanghai()
    liaison_a = token(Role.LIAISON, department_id=world.dept_a)
    created = create(client, liaison_a, contract_body(world, today))
    assert created.status_code == 201, created.text
    contract = created.json()
    assert created.headers["location"] == f"/api/v1/contracts/{contract['id']}"
    assert contract["enterprise_id"] == world.ent
    assert contract["department_id"] == world.dept_a
    assert contract["version"] == 1
    assert contract["created_at"].endswith("+08:00")
    obligations = by_description(contract)
    assert [o["description"] for o in contract["obligations"]] == [
        "办理施工许可", "兑现落户奖励", "人才公寓交付", "完成道路配套", "年产值达到1亿元"]
    assert obligations["兑现落户奖励"]["state"] == "due_soon"
    assert obligations["完成道路配套"]["state"] == "open"
    assert obligations["办理施工许可"]["state"] == "overdue"
    assert obligations["年产值达到1亿元"]["state"] == "open"
    assert obligations["人才公寓交付"]["department_id"] == world.dept_b
    assert obligations["完成道路配套"]["department_id"] == world.dept_a
    road = obligations["完成道路配套"]
    due = date.fromisoformat(road["due_on"])
    assert road["remind_on"] == contracts.remind_on_for(CAL, due, 5).isoformat()

    shown = client.get(created.headers["location"], headers=bearer(liaison_a))
    assert shown.status_code == 200
    assert shown.json()["id"] == contract["id"]
    page = client.get("/api/v1/contracts", params={"enterprise_id": world.ent},
                      headers=bearer(liaison_a)).json()
    assert [c["id"] for c in page["items"]] == [contract["id"]]
    assert (page["total"], page["page"], page["per_page"]) == (1, 1, 20)

    fulfilled = client.post(
        f"/api/v1/contracts/{contract['id']}/obligations/{road['id']}/fulfil",
        headers=bearer(token(Role.DEPARTMENT_HEAD, department_id=world.dept_a)),
    )
    assert fulfilled.status_code == 200, fulfilled.text
    assert fulfilled.json()["state"] == "fulfilled"
    assert fulfilled.json()["fulfilled_at"].endswith("+08:00")
    again = client.post(f"/api/v1/contracts/{contract['id']}/obligations/{road['id']}/fulfil",
                        headers=bearer(liaison_a))
    assert again.status_code == 200
    assert again.json()["fulfilled_at"] == fulfilled.json()["fulfilled_at"]
    after = client.get(created.headers["location"], headers=bearer(liaison_a)).json()
    assert by_description(after)["完成道路配套"]["state"] == "fulfilled"
    assert after["version"] == 2


def test_who_may_see_create_and_fulfil(client, token, world):
    today = contracts.today_in_shanghai()
    contract = create(client, token(Role.COORDINATOR), contract_body(world, today)).json()
    path = f"/api/v1/contracts/{contract['id']}"
    obligations = by_description(contract)

    # an enterprise cannot record contracts, not even its own
    own = token(Role.ENTERPRISE, enterprise_id=world.ent)
    assert create(client, own, contract_body(world, today)).status_code == 403
    # but it sees its own contracts
    assert client.get(path, headers=bearer(own)).status_code == 200
    mine = client.get("/api/v1/contracts", headers=bearer(own)).json()
    assert [c["id"] for c in mine["items"]] == [contract["id"]]
    # another enterprise sees nothing of it
    stranger = token(Role.ENTERPRISE, enterprise_id=world.other_ent)
    assert client.get(path, headers=bearer(stranger)).status_code == 404
    theirs = client.get("/api/v1/contracts", headers=bearer(stranger)).json()
    assert theirs["total"] == 0
    listed = client.get("/api/v1/obligations", headers=bearer(stranger)).json()
    assert listed["total"] == 0

    # a liaison records only for their own department
    liaison_c = token(Role.LIAISON, department_id=world.dept_c)
    denied = create(client, liaison_c, contract_body(world, today))
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"

    # a liaison of an unrelated department neither sees nor fulfils it
    road = obligations["完成道路配套"]
    fulfil_road = f"{path}/obligations/{road['id']}/fulfil"
    assert client.get(path, headers=bearer(liaison_c)).status_code == 404
    assert client.post(fulfil_road, headers=bearer(liaison_c)).status_code == 404
    assert client.get("/api/v1/contracts", params={"department_id": world.dept_a},
                      headers=bearer(liaison_c)).json()["total"] == 0

    # department B owns one obligation: it sees the contract, fulfils its own obligation only
    liaison_b = token(Role.LIAISON, department_id=world.dept_b)
    assert client.get(path, headers=bearer(liaison_b)).status_code == 200
    refused = client.post(fulfil_road, headers=bearer(liaison_b))
    assert refused.status_code == 403
    flats = obligations["人才公寓交付"]
    done = client.post(f"{path}/obligations/{flats['id']}/fulfil", headers=bearer(liaison_b))
    assert done.status_code == 200 and done.json()["state"] == "fulfilled"

    # enterprises and leaders may not fulfil; grid staff may not either
    for role in (Role.ENTERPRISE, Role.LEADER, Role.GRID_WORKER):
        tok = token(role, enterprise_id=world.ent) if role == Role.ENTERPRISE else token(role)
        assert client.post(fulfil_road, headers=bearer(tok)).status_code == 403, role

    # unknown ids are 404, an obligation of another contract too
    coordinator = token(Role.COORDINATOR)
    assert client.get("/api/v1/contracts/nope", headers=bearer(coordinator)).status_code == 404
    assert client.get(f"/api/v1/contracts/{uuid.uuid4()}",
                      headers=bearer(coordinator)).status_code == 404
    other = create(client, coordinator, contract_body(world, today)).json()
    crossed = client.post(f"/api/v1/contracts/{other['id']}/obligations/{road['id']}/fulfil",
                          headers=bearer(coordinator))
    assert crossed.status_code == 404


def test_invalid_contracts_are_named(client, token, world):
    today = contracts.today_in_shanghai()
    admin = token(Role.ADMIN)
    unknown = create(client, admin, contract_body(world, today, enterprise_id=str(uuid.uuid4())))
    assert unknown.status_code == 422 and "enterprise_id" in unknown.json()["errors"]
    missing = create(client, admin, {"title": "", "obligations": [{"party": "nobody"}]})
    assert missing.status_code == 422
    assert {"enterprise_id", "title", "signed_on", "department_id", "obligations"} <= \
        named_fields(missing.json())
    body = contract_body(world, today, department_id="no-such-dept")
    body["obligations"][0]["due_on"] = (today - timedelta(days=400)).isoformat()
    rules = create(client, admin, body)
    assert rules.status_code == 422
    errors = rules.json()["errors"]
    assert errors["department_id"] == [{"code": "department.not_found",
                                        "message": "部门不存在"}]
    assert errors["obligations.0.due_on"] == [{"code": "contract.due_before_signed",
                                               "message": "早于合同签订日期（signed_on）"}]


def test_obligation_list_by_state(client, token, world):
    today = contracts.today_in_shanghai()
    contract = create(client, token(Role.ADMIN), contract_body(world, today)).json()
    road = by_description(contract)["完成道路配套"]
    coordinator = token(Role.COORDINATOR)
    client.post(f"/api/v1/contracts/{contract['id']}/obligations/{road['id']}/fulfil",
                headers=bearer(coordinator))

    def listed(tok: str, **params: str) -> list[str]:
        response = client.get("/api/v1/obligations", params=params, headers=bearer(tok))
        assert response.status_code == 200, response.text
        return [o["description"] for o in response.json()["items"]]

    assert listed(coordinator, department_id=world.dept_a, state="due_soon") == ["兑现落户奖励"]
    assert listed(coordinator, department_id=world.dept_a, state="overdue") == ["办理施工许可"]
    assert listed(coordinator, department_id=world.dept_a, state="fulfilled") == ["完成道路配套"]
    assert listed(coordinator, department_id=world.dept_a, state="open") == ["年产值达到1亿元"]
    assert listed(coordinator, department_id=world.dept_a, party="committee") == [
        "办理施工许可", "兑现落户奖励", "完成道路配套"]
    soon = (today + timedelta(days=3)).isoformat()
    assert listed(coordinator, department_id=world.dept_a, due_before=soon) == [
        "办理施工许可", "兑现落户奖励"]
    # department B sees the whole contract's obligations, as it sees the contract
    assert len(listed(token(Role.LIAISON, department_id=world.dept_b))) == 5
    assert listed(token(Role.ENTERPRISE, enterprise_id=world.ent), state="overdue") == [
        "办理施工许可"]
    bad = client.get("/api/v1/obligations", params={"state": "late"}, headers=bearer(coordinator))
    assert bad.status_code == 422 and "state" in bad.json()["errors"]


def test_sweep_raises_each_event_once(client, token, world, db):
    today = contracts.today_in_shanghai()
    contract = create(client, token(Role.ADMIN), contract_body(world, today)).json()
    obligations = by_description(contract)
    ids = [o["id"] for o in contract["obligations"]]
    admin = token(Role.ADMIN)
    for _ in range(2):  # the replicas' timers may sweep too: still one event each
        swept = client.post("/api/v1/obligations/sweep", headers=bearer(admin))
        assert swept.status_code == 200, swept.text
        assert swept.json()["today"] == today.isoformat()
    assert events_of(db, ids) == Counter({
        (obligations["兑现落户奖励"]["id"], "obligation_due"): 1,
        (obligations["办理施工许可"]["id"], "obligation_overdue"): 1,
    })
    shown = by_description(client.get(f"/api/v1/contracts/{contract['id']}",
                                      headers=bearer(admin)).json())
    assert shown["兑现落户奖励"]["reminded_at"] is not None
    assert shown["办理施工许可"]["overdue_at"] is not None
    assert shown["完成道路配套"]["reminded_at"] is None

    tomorrow = (today + timedelta(days=1)).isoformat()
    ahead = client.post("/api/v1/obligations/sweep", params={"today": tomorrow},
                        headers=bearer(admin))
    assert ahead.status_code == 422 and "today" in ahead.json()["errors"]
    for role in (Role.COORDINATOR, Role.ENTERPRISE):
        denied = client.post("/api/v1/obligations/sweep", headers=bearer(token(role)))
        assert denied.status_code == 403


def test_admins_set_the_reminder_lead_time(client, token, world):
    today = contracts.today_in_shanghai()
    contract = create(client, token(Role.ADMIN), contract_body(world, today)).json()
    road = by_description(contract)["完成道路配套"]
    due = date.fromisoformat(road["due_on"])
    path = "/api/v1/obligations/settings"
    coordinator, admin = token(Role.COORDINATOR), token(Role.ADMIN)
    assert client.get(path, headers=bearer(coordinator)).json() == {"reminder_workdays": 5,
                                                                    "version": ANY}
    assert client.get(path, headers=bearer(token(Role.ENTERPRISE, enterprise_id=world.ent))
                      ).status_code == 403
    assert client.put(path, json={"reminder_workdays": 3},
                      headers=bearer(coordinator)).status_code == 403
    invalid = client.put(path, json={"reminder_workdays": 61}, headers=bearer(admin))
    assert invalid.status_code == 422 and "reminder_workdays" in invalid.json()["errors"]
    try:
        changed = client.put(path, json={"reminder_workdays": 10}, headers=bearer(admin))
        assert changed.status_code == 200
        assert changed.json() == {"reminder_workdays": 10, "version": ANY}
        shown = client.get(f"/api/v1/contracts/{contract['id']}", headers=bearer(admin)).json()
        remind_on = by_description(shown)["完成道路配套"]["remind_on"]
        assert remind_on == contracts.remind_on_for(CAL, due, 10).isoformat()
        assert client.get(path, headers=bearer(coordinator)).json() == changed.json()
    finally:
        client.put(path, json={"reminder_workdays": 5}, headers=bearer(admin))


def test_the_timer_sweeps_by_itself(client, token, world, db):
    """No one calls the sweep: the enterprise service's @timer reminds within one interval."""
    interval = float(os.environ.get("OBLIGATION_SWEEP_SECONDS") or 30)
    today = contracts.today_in_shanghai()
    contract = create(client, token(Role.ADMIN), contract_body(world, today)).json()
    due_soon = by_description(contract)["兑现落户奖励"]
    path = f"/api/v1/contracts/{contract['id']}"
    admin = token(Role.ADMIN)

    def reminded() -> str | None:
        shown = by_description(client.get(path, headers=bearer(admin)).json())
        return shown["兑现落户奖励"]["reminded_at"]

    assert eventually(reminded, timeout=interval + 10, interval=0.5)
    assert events_of(db, [due_soon["id"]]) == Counter({(due_soon["id"], "obligation_due"): 1})
