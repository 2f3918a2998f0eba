"""Grid service contacts (网格化服务联系方式): an enterprise reads its own grid with its grid
leader and workers and their work phones (企业吹哨、网格员报到); the public list shows only the
staff who agreed to publish theirs (off by default)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from helpers import bearer, new_enterprise_id
from sqlalchemy import text

from common.auth import Role

GRID = "INC05"


def _staff_account(client: httpx.Client, admin: dict[str, str], db, duty: str, name: str,
                   phone: str) -> dict[str, str]:
    role = "grid_leader" if duty == "leader" else "grid_worker"
    created = client.post("/api/v1/accounts", headers=admin, json={
        "username": f"contact.{uuid.uuid4().hex[:10]}", "password": "correct horse battery",
        "role": role, "name": name, "phone": phone})
    assert created.status_code == 201, created.text
    with db.begin() as conn:
        if duty == "leader":  # the grid's leader stands aside (put back by the fixture)
            conn.execute(text("UPDATE enterprise.grid_staff SET duty = 'aside' "
                              "WHERE grid_id = :g AND duty = 'leader'"), {"g": GRID})
        conn.execute(text("INSERT INTO enterprise.grid_staff (grid_id, account_id, duty) "
                          "VALUES (:g, :a, :d)"), {"g": GRID, "a": created.json()["id"], "d": duty})
    return created.json()


@pytest.fixture
def grid_staff_restored(db) -> Iterator[None]:
    yield
    with db.begin() as conn:
        conn.execute(text("DELETE FROM enterprise.grid_staff WHERE grid_id = :g AND account_id "
                          "IN (SELECT id FROM enterprise.accounts WHERE username LIKE "
                          "'contact.%')"), {"g": GRID})
        conn.execute(text("UPDATE enterprise.grid_staff SET duty = 'leader' "
                          "WHERE grid_id = :g AND duty = 'aside'"), {"g": GRID})


def test_an_enterprise_reads_its_grid_and_the_public_only_what_staff_publish(
        client, token, db, grid_staff_restored):
    admin = bearer(token(Role.ADMIN))
    leader = _staff_account(client, admin, db, "leader", "网格长测试", "0532-88880001")
    worker = _staff_account(client, admin, db, "worker", "网格员测试", "0532-88880002")
    enterprise = new_enterprise_id(incubator_id=GRID)
    owner = bearer(token(Role.ENTERPRISE, enterprise_id=enterprise))

    # 企业吹哨: the enterprise sees its grid, leader and workers with their work phones
    mine = client.get("/api/v1/me/grid", headers=owner)
    assert mine.status_code == 200, mine.text
    card = mine.json()
    assert card["grid_id"] == GRID and card["kind"] == "incubator"
    assert card["department_name"] == "科技创新部"
    assert card["leader"] == {"name": "网格长测试", "duty": "leader", "phone": "0532-88880001"}
    assert {"name": "网格员测试", "duty": "worker", "phone": "0532-88880002"} in card["workers"]
    # only an enterprise asks for its own grid
    for role, claims in ((Role.GRID_WORKER, {"grid_ids": (GRID,)}), (Role.COORDINATOR, {})):
        assert client.get("/api/v1/me/grid",
                          headers=bearer(token(role, **claims))).status_code == 403
    assert client.get("/api/v1/me/grid").status_code == 401

    def public(**params: str) -> dict:
        answer = client.get("/api/v1/public/grid-contacts", params=params)  # no token
        assert answer.status_code == 200, answer.text
        return {g["grid_id"]: g for g in answer.json()["items"]}

    # nobody published yet: the grid is listed, its people are not
    listed = public()[GRID]
    assert listed["name"] == card["name"] and listed["leader"] is None
    assert "网格员测试" not in str(listed)

    # the worker agrees to publish: the public list shows the worker's name and work phone
    as_worker = bearer(token(Role.GRID_WORKER, user_id=worker["id"], grid_ids=(GRID,)))
    assert client.get("/api/v1/me/contact-publication",
                      headers=as_worker).json()["publish_contact"] is False
    agreed = client.put("/api/v1/me/contact-publication", headers=as_worker,
                        json={"publish_contact": True})
    assert agreed.status_code == 200, agreed.text
    assert agreed.json() == {"publish_contact": True, "phone": "0532-88880002"}
    listed = public()[GRID]
    assert {"name": "网格员测试", "duty": "worker", "phone": "0532-88880002"} in listed["workers"]
    assert listed["leader"] is None  # the leader did not agree
    # searchable by the grid's name, filterable by kind
    assert GRID in public(q=card["name"]) and GRID not in public(kind="geographic")
    assert client.get("/api/v1/public/grid-contacts",
                      params={"kind": "moon"}).status_code == 422

    # withdrawn again: gone from the public list; the enterprise still sees it
    as_worker_off = client.put("/api/v1/me/contact-publication", headers=as_worker,
                               json={"publish_contact": False})
    assert as_worker_off.status_code == 200
    assert "网格员测试" not in str(public()[GRID])
    assert "网格员测试" in str(client.get("/api/v1/me/grid", headers=owner).json())

    # only grid staff publish a contact; bad input is a named 422
    for role in (Role.ENTERPRISE, Role.LIAISON, Role.COORDINATOR):
        assert client.put("/api/v1/me/contact-publication", json={"publish_contact": True},
                          headers=bearer(token(role))).status_code == 403
    bad = client.put("/api/v1/me/contact-publication", headers=as_worker,
                     json={"publish_contact": "yes"})
    assert bad.status_code == 422 and "publish_contact" in bad.json()["errors"]
    assert leader["id"]
