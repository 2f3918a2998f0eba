"""操作日志: privileged writes are recorded with who did them, and nothing else is."""

from __future__ import annotations

import uuid

from helpers import bearer, demand_body, eventually, new_enterprise_id

from common.auth import Role


def _entries(client, admin, **query) -> list[dict]:
    answer = client.get("/api/v1/audit-log", headers=admin, params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_an_admins_write_is_recorded_with_the_actor_from_the_token(client, token):
    user = f"audit-admin-{uuid.uuid4().hex[:6]}"
    admin = bearer(token(Role.ADMIN, user_id=user))
    code = f"audit_{uuid.uuid4().hex[:8]}"
    created = client.post("/api/v1/categories", headers=admin, json={
        "code": code, "name": "审计测试", "department_id": "finance"})
    assert created.status_code == 201, created.text
    refused = client.put(f"/api/v1/categories/{code}", headers=admin,
                         json={"department_id": "no_such_department"})
    assert refused.status_code == 422

    (entry,) = eventually(lambda: _entries(client, admin, actor_id=user))
    assert entry["actor_role"] == "admin" and entry["method"] == "POST"
    assert entry["route"] == "/api/v1/categories" and entry["status"] == 201
    assert sorted(entry["fields_changed"]) == ["code", "department_id", "name"]
    assert "审计测试" not in str(entry), "values are not kept, only which fields were sent"
    assert entry["call_id"] == created.headers["X-Request-ID"]


def test_a_coordinators_write_is_recorded_and_an_enterprises_is_not(client, token):
    coordinator_id = f"audit-coordinator-{uuid.uuid4().hex[:6]}"
    coordinator = bearer(token(Role.COORDINATOR, user_id=coordinator_id,
                               department_id="economic_development"))
    enterprise_id = new_enterprise_id()
    enterprise_user = f"audit-enterprise-{uuid.uuid4().hex[:6]}"
    enterprise = bearer(token(Role.ENTERPRISE, user_id=enterprise_user,
                              enterprise_id=enterprise_id))
    admin = bearer(token(Role.ADMIN))

    filed = client.post("/api/v1/demands", headers=enterprise, json=demand_body())
    assert filed.status_code == 201, filed.text
    for_them = client.post("/api/v1/demands", headers=coordinator, json=demand_body(
        channel="service_window", enterprise_id=enterprise_id))
    assert for_them.status_code == 201, for_them.text

    (entry,) = eventually(lambda: _entries(client, admin, actor_id=coordinator_id))
    assert entry["route"] == "/api/v1/demands" and entry["actor_role"] == "coordinator"
    assert _entries(client, admin, actor_id=enterprise_user) == []


def test_only_admins_read_the_audit_log(client, token):
    for role in (Role.COORDINATOR, Role.LEADER, Role.ENTERPRISE):
        claims = {"enterprise_id": str(uuid.uuid4())} if role == Role.ENTERPRISE else {}
        answer = client.get("/api/v1/audit-log", headers=bearer(token(role, **claims)))
        assert answer.status_code == 403
