"""Accounts and sign-in (登录) through the gateway, against the running platform.

Every sign-in here comes from 127.0.0.1, and the rate limit also counts failures per client
(20 in 15 minutes): these tests make about a dozen failures in all, so keep it that way.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from helpers import bearer
from sqlalchemy import text
from sqlalchemy.orm import Session

from common.auth import Role
from services.enterprise.models import Department, Enterprise, Grid

PASSWORD = "correct horse battery"


@pytest.fixture
def admin(token) -> dict[str, str]:
    return bearer(token(Role.ADMIN, user_id=str(uuid.uuid4()), name="平台管理员"))


@pytest.fixture
def org(db) -> dict[str, str]:
    """A department and a grid of it, written directly (their API is not in this suite)."""
    suffix = uuid.uuid4().hex[:8].upper()
    ids = {"department_id": f"dept-{suffix.lower()}", "grid_id": f"TA-{suffix}"}
    with Session(db) as session, session.begin():
        session.add(Department(id=ids["department_id"], name=f"经济发展部-{suffix}",
                               kind="management"))
        session.flush()
        session.add(Grid(id=ids["grid_id"], name=f"测试网格{suffix}", kind="geographic",
                         owner_department_id=ids["department_id"]))
    return ids


def account_body(**overrides: Any) -> dict[str, Any]:
    body = {"username": f"user.{uuid.uuid4().hex[:10]}", "password": PASSWORD,
            "role": "grid_worker", "name": "王网格"}
    body.update(overrides)
    return body


def create(client: httpx.Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/accounts", json=account_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_admin_creates_a_grid_worker_who_signs_in(client, admin, org, db):
    response = client.post("/api/v1/accounts", headers=admin, json=account_body(
        department_id=org["department_id"], phone="13800001234"))
    assert response.status_code == 201, response.text
    account = response.json()
    assert response.headers["location"] == f"/api/v1/accounts/{account['id']}"
    assert "password" not in response.text and "argon2" not in response.text
    assert account["role"] == "grid_worker" and account["disabled"] is False
    assert account["created_at"].endswith("+08:00")
    with db.begin() as conn:
        conn.execute(text("INSERT INTO enterprise.grid_staff (grid_id, account_id, duty) "
                          "VALUES (:g, :a, 'worker')"), {"g": org["grid_id"], "a": account["id"]})

    signed_in = sign_in(client, account["username"].upper())  # usernames ignore case
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.headers["cache-control"] == "no-store"
    token = signed_in.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] > 0
    mine = bearer(token["access_token"])
    me = client.get("/api/v1/me", headers=mine).json()
    assert me == {"user_id": account["id"], "role": "grid_worker", "enterprise_id": None,
                  "grid_ids": [org["grid_id"]], "department_id": org["department_id"],
                  "name": "王网格"}
    own = client.get(f"/api/v1/accounts/{account['id']}", headers=mine)
    assert own.status_code == 200
    assert own.json()["grid_ids"] == [org["grid_id"]]

    with db.connect() as conn:
        audit = conn.execute(text(
            "SELECT payload FROM enterprise.outbox WHERE event_type = 'account_changed' "
            "AND payload -> 'data' ->> 'account_id' = :a"), {"a": account["id"]}).scalars().all()
    assert [e["data"]["action"] for e in audit] == ["created"]
    assert PASSWORD not in str(audit)


def test_wrong_password_and_unknown_user_are_the_same_401(client, admin):
    account = create(client, admin)
    wrong = sign_in(client, account["username"], "not the password")
    unknown = sign_in(client, f"nobody.{uuid.uuid4().hex[:8]}")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert wrong.json()["code"] == unknown.json()["code"] == "auth.wrong_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"] == "用户名或密码错误"


def test_sixth_failed_attempt_is_429_even_with_the_right_password(client, admin):
    account = create(client, admin)
    for _ in range(5):
        assert sign_in(client, account["username"], "guess").status_code == 401
    refused = sign_in(client, account["username"])
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert refused.json()["code"] == "auth.too_many_attempts"
    assert "分钟后再试" in refused.json()["detail"]


def sign_in_from(client: httpx.Client, address: str, username: str,
                 password: str = PASSWORD) -> httpx.Response:
    """A sign-in as the ingress forwards it: the gateway trusts 127.0.0.1 (its
    FORWARDED_ALLOW_IPS here, the ingress's range in Kubernetes), which appends the address
    it saw to whatever X-Forwarded-For the client sent."""
    return client.post("/api/v1/auth/token", headers={"X-Forwarded-For": address},
                       json={"username": username, "password": password})


def test_behind_the_ingress_one_attackers_failures_do_not_lock_out_everyone(client, admin):
    """Issue 22, finding 3, attack 2: behind an ingress everyone shared its address, so 20
    failures on random usernames made everyone's correct password a 429. With the ingress
    trusted, each person's own address is counted."""
    account = create(client, admin)
    attacker = f"203.0.113.{uuid.uuid4().int % 200 + 1}"
    for _ in range(20):
        assert sign_in_from(client, attacker, f"nobody{uuid.uuid4().hex[:8]}",
                            "guess").status_code == 401
    refused = sign_in_from(client, attacker, account["username"])
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    # the person next to the attacker, behind the same ingress, signs in
    assert sign_in_from(client, "198.51.100.23", account["username"]).status_code == 200


def test_a_rotating_x_forwarded_for_does_not_escape_the_address_limit(client):
    """Issue 22, finding 3, attack 3: where the proxy header was trusted wholesale, a new
    X-Forwarded-For per request escaped the per-address limit. The gateway takes the address
    its trusted proxy saw (the rightmost untrusted one), whatever the client put before it."""
    attacker = f"203.0.113.{uuid.uuid4().int % 200 + 1}"
    for i in range(20):
        forged = f"10.{i}.{uuid.uuid4().int % 250}.{i + 1}, {attacker}"
        assert sign_in_from(client, forged, f"nobody{uuid.uuid4().hex[:8]}",
                            "guess").status_code == 401
    again = sign_in_from(client, f"192.0.2.{uuid.uuid4().int % 250}, {attacker}", "whoever")
    assert again.status_code == 429


def test_a_disabled_account_cannot_sign_in(client, admin):
    account = create(client, admin)
    path = f"/api/v1/accounts/{account['id']}"
    disabled = client.patch(path, json={"disabled": True}, headers=admin)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    refused = sign_in(client, account["username"])
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.patch(path, json={"disabled": False}, headers=admin).status_code == 200
    assert sign_in(client, account["username"]).status_code == 200


def test_only_admins_create_accounts(client, token):
    for role, claims in ((Role.COORDINATOR, {}), (Role.GRID_WORKER, {}),
                         (Role.ENTERPRISE, {"enterprise_id": str(uuid.uuid4())})):
        response = client.post("/api/v1/accounts", json=account_body(),
                               headers=bearer(token(role, **claims)))
        assert response.status_code == 403, role
        assert response.headers["content-type"] == "application/problem+json"
    leader = client.patch(f"/api/v1/accounts/{uuid.uuid4()}", json={"disabled": True},
                          headers=bearer(token(Role.LEADER)))
    assert leader.status_code == 403


def test_who_lists_and_reads_accounts(client, token, admin, db):
    enterprise_id = str(uuid.uuid4())
    with Session(db) as session, session.begin():
        session.add(Enterprise(
            id=enterprise_id, credit_code=uuid.uuid4().hex[:18].upper(),
            name="青岛某某科技有限公司", address="高新区测试路2号",
            industry_code="I65", scale="small", grid_source="unassigned", in_scope=True,
            contacts=[], tags=[], strengths=[], upstream=[], downstream=[], version=1))
    user = create(client, admin, role="enterprise", enterprise_id=enterprise_id)
    ent_token = bearer(sign_in(client, user["username"]).json()["access_token"])
    assert client.get("/api/v1/me", headers=ent_token).json()["enterprise_id"] == enterprise_id
    assert client.get("/api/v1/accounts", headers=ent_token).status_code == 403
    assert client.get(f"/api/v1/accounts/{user['id']}", headers=ent_token).status_code == 200

    other = create(client, admin)
    assert client.get(f"/api/v1/accounts/{other['id']}", headers=ent_token).status_code == 404

    coordinator = bearer(token(Role.COORDINATOR))
    listed = client.get("/api/v1/accounts", params={"enterprise_id": enterprise_id},
                        headers=coordinator)
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == 1 and page["page"] == 1 and page["per_page"] == 20
    assert [a["id"] for a in page["items"]] == [user["id"]]
    assert "password_hash" not in page["items"][0]
    assert client.get(f"/api/v1/accounts/{other['id']}", headers=coordinator).status_code == 200
    bad = client.get("/api/v1/accounts", params={"role": "king"}, headers=coordinator)
    assert bad.status_code == 422 and "role" in bad.json()["errors"]

    unknown = client.post("/api/v1/accounts", headers=admin,
                          json=account_body(role="enterprise", enterprise_id=str(uuid.uuid4())))
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == {"enterprise_id": [
        {"code": "enterprise.not_found", "message": "企业不存在"}]}


def test_a_duplicate_username_is_409(client, admin):
    account = create(client, admin)
    again = client.post("/api/v1/accounts", json=account_body(username=account["username"]),
                        headers=admin)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_a_too_short_password_is_422_naming_password(client, admin):
    response = client.post("/api/v1/accounts", json=account_body(password="short"),
                           headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "password" in response.json()["errors"]
    liaison = client.post("/api/v1/accounts", json=account_body(role="liaison"), headers=admin)
    assert liaison.status_code == 422
    assert "department_id" in liaison.json()["errors"]


def test_users_change_their_own_password(client, admin):
    account = create(client, admin)
    mine = bearer(sign_in(client, account["username"]).json()["access_token"])
    wrong = client.post("/api/v1/auth/password", headers=mine,
                        json={"old_password": "not it", "new_password": "a brand new secret"})
    assert wrong.status_code == 422
    assert "old_password" in wrong.json()["errors"]
    changed = client.post("/api/v1/auth/password", headers=mine,
                          json={"old_password": PASSWORD, "new_password": "a brand new secret"})
    assert changed.status_code == 204
    assert sign_in(client, account["username"]).status_code == 401
    assert sign_in(client, account["username"], "a brand new secret").status_code == 200
    assert client.post("/api/v1/auth/password",
                       json={"old_password": "x", "new_password": "y" * 12}).status_code == 401
