"""Optimistic concurrency (issue #10 item 10) through the gateway on departments, categories,
grids (and their staff), contracts, accounts and the settings documents (obligations,
meetings, SLA, appraisal): a GET answers ``ETag: "<version>"`` and ``304`` to a matching
``If-None-Match``; a write with the current ``If-Match`` succeeds and bumps the version; the
same write's ETag sent again is stale: ``412`` as ``application/problem+json``, and nothing
changes. A PATCH or PUT without ``If-Match`` is ``428`` naming the header (issue 22, finding
7); ``If-Match: *`` matches any existing version (the ``client`` fixture sends it for a write
that names no version: tests/support/helpers.send_if_match). Settings changed here are put
back."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from helpers import bearer, new_enterprise_id
from sqlalchemy import text
from sqlalchemy.engine import Engine

from common.auth import Role

Write = Callable[[dict[str, str]], httpx.Response]
PASSWORD = "correct horse battery"


@pytest.fixture
def admin(token) -> dict[str, str]:
    return bearer(token(Role.ADMIN, user_id=str(uuid.uuid4()), name="平台管理员"))


@pytest.fixture
def departments(db: Engine, infrastructure) -> Iterator[tuple[str, str]]:
    """Two departments of this test's own."""
    suffix = uuid.uuid4().hex[:8]
    ids = (f"ver-a-{suffix}", f"ver-b-{suffix}")
    with db.begin() as conn:
        for dept in ids:
            conn.execute(text("INSERT INTO enterprise.departments (id, name, kind) "
                              "VALUES (:i, :n, 'management')"), {"i": dept, "n": f"版本部{dept}"})
    yield ids


def new_account(client: httpx.Client, admin: dict[str, str], role: str,
                **extra: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/accounts", headers=admin, json={
        "username": f"ver.{uuid.uuid4().hex[:10]}", "password": PASSWORD, "role": role,
        "name": "版本测试", **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def assert_versioned(client: httpx.Client, headers: dict[str, str], url: str, write: Write,
                     again: Write) -> dict[str, Any]:
    """The whole contract on one resource; ``write`` and ``again`` are two different changes.
    Returns the resource after ``write``."""
    read = client.get(url, headers=headers)
    assert read.status_code == 200, read.text
    version, etag = read.json()["version"], read.headers["ETag"]
    assert etag == f'"{version}"'
    cached = client.get(url, headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.headers["ETag"] == etag and not cached.content

    changed = write({**headers, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    if "version" in changed.json():  # fulfilling an obligation answers the obligation
        assert changed.json()["version"] == version + 1
        assert changed.headers["ETag"] == f'"{version + 1}"'
    after = client.get(url, headers=headers)
    assert after.json()["version"] == version + 1 and after.headers["ETag"] == f'"{version + 1}"'
    assert client.get(url, headers={**headers, "If-None-Match": etag}).status_code == 200

    stale = again({**headers, "If-Match": etag})
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert str(version) in stale.json()["detail"]
    assert client.get(url, headers=headers).json() == after.json()  # nothing changed
    return after.json()


def test_department(client, admin, departments):
    dept, _ = departments
    liaison = new_account(client, admin, "liaison", department_id=dept)
    url = f"/api/v1/departments/{dept}"

    def name(account_id: str | None) -> Write:
        return lambda h: client.patch(url, headers=h, json={"liaison_account_id": account_id})

    after = assert_versioned(client, admin, url, name(liaison["id"]), name(None))
    assert after["liaison"]["id"] == liaison["id"]
    garbled = name(None)({**admin, "If-Match": "yesterday"})
    assert garbled.status_code == 400 and "If-Match" in garbled.json()["errors"]
    same = name(liaison["id"])(admin)  # nothing to change: the version stays
    assert same.status_code == 200 and same.json()["version"] == after["version"]
    unguarded = name(None)({**admin, "If-Match": "*"})  # any version: the write proceeds
    assert unguarded.status_code == 200 and unguarded.json()["version"] == after["version"] + 1


def test_category_and_the_departments_it_moves_between(client, admin, departments, db):
    dept_a, dept_b = departments
    code = f"ver_{uuid.uuid4().hex[:10]}"
    created = client.post("/api/v1/categories", headers=admin,
                          json={"code": code, "name": "版本测试类别", "department_id": dept_a})
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1 and created.headers["ETag"] == '"1"'
    url = f"/api/v1/categories/{code}"
    try:
        before = {d: client.get(f"/api/v1/departments/{d}", headers=admin).json()["version"]
                  for d in departments}

        def route(dept: str) -> Write:
            return lambda h: client.put(url, headers=h, json={"department_id": dept})

        after = assert_versioned(client, admin, url, route(dept_b), route(dept_a))
        assert after["department_id"] == dept_b
        moved = {d: client.get(f"/api/v1/departments/{d}", headers=admin).json()
                 for d in departments}
        assert {d: moved[d]["version"] for d in departments} == {
            d: before[d] + 1 for d in departments}  # both lists of categories changed
        assert code in moved[dept_b]["categories"] and code not in moved[dept_a]["categories"]
        assert client.get("/api/v1/categories/nope_none", headers=admin).status_code == 404
    finally:
        with db.begin() as conn:
            conn.execute(text("DELETE FROM enterprise.categories WHERE code = :c"), {"c": code})


def test_grid_and_its_staff(client, admin, departments):
    grid_id = f"VER-{uuid.uuid4().hex[:8].upper()}"
    created = client.post("/api/v1/grids", headers=admin, json={
        "id": grid_id, "name": "版本测试孵化器", "kind": "incubator",
        "owner_department_id": departments[0]})
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    url = f"/api/v1/grids/{grid_id}"

    def rename(name: str) -> Write:
        return lambda h: client.patch(url, headers=h, json={"name": name})

    assert_versioned(client, admin, url, rename("版本测试孵化器二期"), rename("旧名"))

    leader = new_account(client, admin, "grid_leader")
    workers = [new_account(client, admin, "grid_worker") for _ in range(3)]

    def staff(*team: dict[str, Any]) -> Write:
        body = {"leader_account_id": leader["id"], "worker_account_ids": [w["id"] for w in team]}
        return lambda h: client.put(f"{url}/staff", headers=h, json=body)

    after = assert_versioned(client, admin, url, staff(*workers[:2]), staff(*workers[1:]))
    assert {w["id"] for w in after["workers"]} == {w["id"] for w in workers[:2]}
    # the accounts that joined show the grid, with a new version (their grid_ids changed)
    for account in (leader, *workers[:2]):
        now = client.get(f"/api/v1/accounts/{account['id']}", headers=admin).json()
        assert now["grid_ids"] == [grid_id] and now["version"] == account["version"] + 1
    untouched = client.get(f"/api/v1/accounts/{workers[2]['id']}", headers=admin).json()
    assert untouched["version"] == workers[2]["version"]
    # the same team again changes nothing; another team without If-Match proceeds
    assert staff(*workers[:2])(admin).json()["version"] == after["version"]
    assert staff(*workers[1:])(admin).json()["version"] == after["version"] + 1


def test_contract_fulfilment(client, token, admin, departments):
    dept = departments[0]
    due = (date.today() + timedelta(days=120)).isoformat()
    created = client.post("/api/v1/contracts", headers=admin, json={
        "enterprise_id": new_enterprise_id(), "title": "版本测试协议", "department_id": dept,
        "signed_on": date.today().isoformat(), "obligations": [
            {"party": "committee", "description": "兑现奖励", "due_on": due},
            {"party": "committee", "description": "道路配套", "due_on": due}]})
    assert created.status_code == 201, created.text
    contract = created.json()
    assert contract["version"] == 1 and created.headers["ETag"] == '"1"'
    url = f"/api/v1/contracts/{contract['id']}"
    first, second = (o["id"] for o in contract["obligations"])

    def fulfil(obligation_id: str) -> Write:
        return lambda h: client.post(f"{url}/obligations/{obligation_id}/fulfil", headers=h)

    after = assert_versioned(client, admin, url, fulfil(first), fulfil(second))
    states = {o["id"]: o["state"] for o in after["obligations"]}
    assert states[first] == "fulfilled" and states[second] != "fulfilled"
    assert fulfil(second)(admin).status_code == 200  # a POST without If-Match proceeds
    assert client.get(url, headers=admin).json()["version"] == after["version"] + 1


def test_account(client, admin):
    account = new_account(client, admin, "grid_worker")
    assert account["version"] == 1
    url = f"/api/v1/accounts/{account['id']}"

    def change(**fields: Any) -> Write:
        return lambda h: client.patch(url, headers=h, json=fields)

    after = assert_versioned(client, admin, url, change(name="新名字"), change(title="旧职务"))
    assert after["name"] == "新名字" and after["title"] is None
    in_body = change(title="旧职务", version=account["version"])(admin)
    assert in_body.status_code == 412  # the body's version is a precondition too
    disagree = change(title="x", version=after["version"])(
        {**admin, "If-Match": f'"{after["version"] + 5}"'})
    assert disagree.status_code == 412 and "version" in disagree.json()["errors"]
    assert change(title="网格员")(admin).json()["version"] == after["version"] + 1


# --- settings documents: each is one row; its version guards a PUT of the whole document ---

SETTINGS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "/api/v1/obligations/settings": lambda s: {
        "reminder_workdays": 7 if s["reminder_workdays"] != 7 else 6},
    "/api/v1/meetings/settings": lambda s: {
        "yearly_minimum": 13 if s["yearly_minimum"] != 13 else 14},
    "/api/v1/sla/settings": lambda s: {
        **s, "escalate_to_group_workdays": s["escalate_to_group_workdays"] % 60 + 1},
    "/api/v1/appraisal/settings": lambda s: {
        **s, "awards": {**s["awards"], "count": s["awards"]["count"] % 10 + 1}},
}


@pytest.mark.parametrize("url", list(SETTINGS))
def test_settings_document(client, admin, url):
    original = client.get(url, headers=admin).json()
    document = {k: v for k, v in original.items() if k != "version"}
    changed = SETTINGS[url](document)
    try:
        after = assert_versioned(client, admin, url,
                                 lambda h: client.put(url, headers=h, json=changed),
                                 lambda h: client.put(url, headers=h, json=document))
        assert {k: after[k] for k in changed} == changed
        # what a GET answered, sent back as it is (its version in the body), is a write
        # guarded by that version
        again = client.put(url, headers=admin, json={**document, "version": original["version"]})
        assert again.status_code == 412
        same = client.put(url, headers=admin, json={**after})
        assert same.status_code == 200 and same.json() == after  # no change, same version
    finally:
        restored = client.put(url, headers={**admin, "If-Match": "*"}, json=document)
        assert restored.status_code == 200, restored.text
    assert {k: v for k, v in restored.json().items() if k != "version"} == document


def precondition_routes() -> list[tuple[str, str, Role]]:
    """(method, path, a role the route admits) of every write that needs If-Match."""
    from gateway.app import API_ENDPOINTS
    from gateway.endpoints import requires_precondition

    return [(ep.method, ep.path, Role.ADMIN if Role.ADMIN in ep.roles else sorted(ep.roles)[0])
            for ep in API_ENDPOINTS if requires_precondition(ep) and ep.roles]


def test_every_patch_and_put_of_a_versioned_resource_without_if_match_is_428(platform, token):
    """Issue 22, finding 7 (no silent lost updates): every PATCH and PUT of a versioned
    resource without If-Match is 428 Precondition Required (RFC 6585), a problem naming the
    header with a stable code, before anything is read or changed. The client here has no
    hook adding If-Match."""
    routes = precondition_routes()
    assert ("PATCH", "/api/v1/enterprises/{enterprise_id}", Role.ADMIN) in routes
    assert len(routes) >= 20
    with httpx.Client(base_url=platform.gateway_url(), timeout=15) as raw:
        for method, path, role in routes:
            url = path.format_map(_AnyId())
            refused = raw.request(method, url, headers=bearer(token(role)), json={})
            assert refused.status_code == 428, (method, path, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
            problem = refused.json()
            assert problem["code"] == "version.required"
            assert list(problem["errors"]) == ["If-Match"]
            assert "If-Match" in problem["detail"]
        # the document says so: the header is required there, and 428 is documented
        document = raw.get("/openapi.json").json()
        for method, path, _ in routes:
            operation = document["paths"][path][method.lower()]
            header = next(p for p in operation["parameters"] if p["name"] == "If-Match")
            assert header["required"] is True and "428" in operation["responses"]


class _AnyId(dict):
    def __missing__(self, key: str) -> str:
        return str(uuid.uuid4())


def test_a_write_without_if_match_changes_nothing_and_star_matches_any_version(
        platform, admin, departments):
    dept, _ = departments
    url = f"/api/v1/departments/{dept}"
    with httpx.Client(base_url=platform.gateway_url(), timeout=15) as raw:
        account = new_account(raw, admin, "liaison", department_id=dept)
        before = raw.get(url, headers=admin).json()
        refused = raw.patch(url, headers=admin, json={"liaison_account_id": account["id"]})
        assert refused.status_code == 428
        assert raw.get(url, headers=admin).json() == before  # nothing changed
        # If-Match: * matches whatever version the department is at
        star = raw.patch(url, headers={**admin, "If-Match": "*"},
                         json={"liaison_account_id": account["id"]})
        assert star.status_code == 200 and star.json()["version"] == before["version"] + 1
        # a stale version is still 412, * or not
        stale = raw.patch(url, headers={**admin, "If-Match": f'"{before["version"]}"'},
                          json={"liaison_account_id": None})
        assert stale.status_code == 412
        # an If-Match: * write to a resource that does not exist is still 404
        nowhere = raw.patch("/api/v1/departments/no-such-department",
                            headers={**admin, "If-Match": "*"}, json={"liaison_account_id": None})
        assert nowhere.status_code == 404
