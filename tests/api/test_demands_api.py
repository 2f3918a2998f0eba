"""Demand intake through the gateway: idempotency, validation, scoping, the event it raises."""

from __future__ import annotations

import concurrent.futures

import httpx
from helpers import bearer, demand_body, eventually, new_enterprise_id
from sqlalchemy import text

from common.auth import Role


def submit(client: httpx.Client, tok: str, body: dict, key: str | None = None) -> httpx.Response:
    headers = bearer(tok) | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/demands", json=body, headers=headers)


def test_enterprise_submits_and_reads_its_demand(client, token):
    ent = new_enterprise_id()
    tok = token(Role.ENTERPRISE, enterprise_id=ent)
    created = submit(client, tok, demand_body(urgency="urgent"))
    assert created.status_code == 201, created.text
    demand = created.json()
    assert created.headers["location"] == f"/api/v1/demands/{demand['id']}"
    assert demand["enterprise_id"] == ent
    assert demand["status"] == "received"
    assert demand["urgency"] == "urgent"
    assert demand["number"].startswith("SQ")
    assert demand["received_at"].endswith("+08:00")
    assert demand["triage_due_at"].endswith("T10:00:00+08:00")
    fetched = client.get(f"/api/v1/demands/{demand['id']}", headers=bearer(tok))
    assert fetched.status_code == 200
    # the same demand, read with the names next to its ids
    assert {key: fetched.json()[key] for key in demand} == demand
    assert fetched.json()["enterprise_name"] == "青岛测试科技有限公司"


def test_same_idempotency_key_returns_the_same_demand(client, token, db):
    tok = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    first = submit(client, tok, demand_body(), key="k-1")
    again = submit(client, tok, demand_body(), key="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = submit(client, tok, demand_body(title="另一件事"), key="k-1")
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    with db.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM ticketing.demands WHERE id = :i"), {"i": first.json()["id"]}
        ).scalar_one()
    assert count == 1


def test_concurrent_submissions_with_one_key_make_one_demand(client, token, db):
    ent = new_enterprise_id()
    tok = token(Role.ENTERPRISE, enterprise_id=ent, user_id=f"user-{ent}")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: submit(client, tok, demand_body(), "same-key"),
                                range(8)))
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    with db.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM ticketing.demands WHERE enterprise_id = :e"), {"e": ent}
        ).scalar_one()
    assert count == 1


def test_invalid_fields_are_named(client, token):
    tok = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    response = submit(client, tok, {"channel": "fax", "description": ""})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert set(problem["errors"]) == {"channel", "title", "description"}
    too_long = submit(client, tok, demand_body(title="长" * 201))
    assert too_long.status_code == 422
    assert "title" in too_long.json()["errors"]
    unknown = submit(client, tok, demand_body(priority="high"))
    assert unknown.status_code == 422
    assert "priority" in unknown.json()["errors"]


def test_bodies_that_are_not_json_objects(client, token):
    headers = bearer(token(Role.ENTERPRISE, enterprise_id=new_enterprise_id()))
    not_json = client.post("/api/v1/demands", content=b"{oops",
                           headers=headers | {"content-type": "application/json"})
    assert not_json.status_code == 400
    listed = client.post("/api/v1/demands", json=[1, 2], headers=headers)
    assert listed.status_code == 422
    form = client.post("/api/v1/demands", content=b"a=b",
                       headers=headers | {"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    huge = client.post("/api/v1/demands", json=demand_body(description="x" * 2_000_000),
                       headers=headers)
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"


def test_enterprise_never_sees_another_enterprises_demand(client, token):
    mine = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    theirs = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    demand = submit(client, theirs, demand_body()).json()
    response = client.get(f"/api/v1/demands/{demand['id']}", headers=bearer(mine))
    assert response.status_code == 404
    listed = client.get("/api/v1/demands", headers=bearer(mine)).json()
    assert demand["id"] not in {d["id"] for d in listed["items"]}
    foreign = submit(client, mine, demand_body(enterprise_id=demand["enterprise_id"]))
    assert foreign.status_code == 403


def test_coordinator_sees_all_and_grid_worker_records_for_an_enterprise(client, token):
    ent = new_enterprise_id(incubator_id="INC01")
    worker = token(Role.GRID_WORKER, grid_ids=("INC01",))
    elsewhere = new_enterprise_id(incubator_id="INC02")
    foreign = submit(client, worker, demand_body(channel="grid_worker", enterprise_id=elsewhere))
    assert foreign.status_code == 422 and "enterprise_id" in foreign.json()["errors"]
    missing = submit(client, worker, demand_body(channel="grid_worker"))
    assert missing.status_code == 422
    assert "enterprise_id" in missing.json()["errors"]
    recorded = submit(client, worker, demand_body(channel="grid_worker", enterprise_id=ent))
    assert recorded.status_code == 201
    assert recorded.json()["recorded_role"] == "grid_worker"
    coordinator = token(Role.COORDINATOR)
    page = client.get("/api/v1/demands", params={"enterprise_id": ent, "per_page": 5},
                      headers=bearer(coordinator)).json()
    assert page["total"] == 1
    assert page["items"][0]["id"] == recorded.json()["id"]
    assert page["items"][0]["grid_id"] == "INC01"
    # the grid's leader sees it too, though someone else recorded it
    leader = token(Role.GRID_LEADER, grid_ids=("INC01",))
    seen = client.get(f"/api/v1/demands/{recorded.json()['id']}", headers=bearer(leader))
    assert seen.status_code == 200
    other_leader = token(Role.GRID_LEADER, grid_ids=("INC02",))
    assert client.get(f"/api/v1/demands/{recorded.json()['id']}",
                      headers=bearer(other_leader)).status_code == 404
    bad_page = client.get("/api/v1/demands", params={"per_page": 0}, headers=bearer(coordinator))
    assert bad_page.status_code == 422
    assert "per_page" in bad_page.json()["errors"]


def test_roles_that_may_not_record_demands_get_403(client, token):
    for role in (Role.LIAISON, Role.DEPARTMENT_HEAD, Role.LEADER):
        response = submit(client, token(role), demand_body(enterprise_id=new_enterprise_id()))
        assert response.status_code == 403, role


def test_submission_reaches_the_enterprise_inbox_once(client, token):
    ent = new_enterprise_id()
    tok = token(Role.ENTERPRISE, enterprise_id=ent)
    demand = submit(client, tok, demand_body()).json()

    def inbox() -> dict:
        return client.get("/api/v1/inbox", headers=bearer(tok)).json()

    page = eventually(lambda: inbox()["total"] and inbox(), timeout=2.0)
    assert page and page["total"] == 1, page
    message = page["items"][0]
    assert demand["number"] in message["title"]
    assert "10:00前完成分理" in message["body"]
    assert message["link"] == f"/demands/{demand['id']}"
    read = client.post(f"/api/v1/inbox/{message['id']}/read", headers=bearer(tok))
    assert read.status_code == 200 and read.json()["read_at"]
    assert inbox()["unread"] == 0
    stranger = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    denied = client.post(f"/api/v1/inbox/{message['id']}/read", headers=bearer(stranger))
    assert denied.status_code == 404


def test_triage_deadline_endpoint(client, token):
    tok = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    # Friday 2025-09-26: Sunday the 28th was a makeup working day (调休) for National Day
    friday = client.get("/api/v1/calendar/triage-deadline",
                        params={"received_at": "2025-09-26T15:00:00+08:00"}, headers=bearer(tok))
    assert friday.json() == {"deadline": "2025-09-28T10:00:00+08:00", "provisional": False}
    naive = client.get("/api/v1/calendar/triage-deadline",
                       params={"received_at": "2025-09-26T15:00:00"}, headers=bearer(tok))
    assert naive.status_code == 422
    assert "received_at" in naive.json()["errors"]


def test_each_role_records_only_its_own_channels_and_intake_opens_the_ledger(client, token):
    """信息收集: an enterprise files by its own channels (the app, the website, WeChat,
    self-service), a grid worker by its visit, the service window and the hotline are the
    committee staff's; anything else is a 422 naming ``channel``. The ledger's first line says
    who recorded the demand, in which role and channel."""
    ent = new_enterprise_id(incubator_id="INC01")
    owner = token(Role.ENTERPRISE, enterprise_id=ent)
    worker = token(Role.GRID_WORKER, grid_ids=("INC01",))
    coordinator = token(Role.COORDINATOR)
    claims = [(owner, "grid_worker"), (owner, "service_window"), (owner, "hotline"),
              (worker, "service_window"), (worker, "enterprise"), (worker, "app"),
              (coordinator, "grid_worker"), (coordinator, "enterprise")]
    for tok, channel in claims:
        refused = submit(client, tok, demand_body(channel=channel, enterprise_id=ent))
        assert refused.status_code == 422, (channel, refused.text)
        problem = refused.json()
        assert problem["code"] == "demand.channel_not_yours"
        assert problem["errors"]["channel"][0]["code"] == "demand.channel_not_yours"
    for channel in ("app", "website", "wechat", "enterprise"):
        assert submit(client, owner, demand_body(channel=channel)).status_code == 201, channel
    by_worker = submit(client, worker, demand_body(channel="grid_worker", enterprise_id=ent))
    assert by_worker.status_code == 201, by_worker.text
    at_window = submit(client, coordinator, demand_body(channel="service_window",
                                                        enterprise_id=ent))
    assert at_window.status_code == 201, at_window.text
    for created, role, channel in ((by_worker, "grid_worker", "grid_worker"),
                                   (at_window, "coordinator", "service_window")):
        ledger = client.get("/api/v1/ledger", params={"demand_id": created.json()["id"]},
                            headers=bearer(coordinator)).json()["items"]
        first = ledger[-1]  # newest first: intake is the last line
        assert (first["action"], first["to_state"], first["actor_role"], first["channel"]) == (
            "received", "received", role, channel)
        assert first["at"] == created.json()["received_at"]
    timeline = client.get(f"/api/v1/demands/{at_window.json()['id']}/timeline",
                          headers=bearer(owner)).json()
    assert [e["kind"] for e in timeline["entries"]].count("received") == 1
