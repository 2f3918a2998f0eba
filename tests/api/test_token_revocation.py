"""Revoked tokens (disabled account, changed or reset password) are refused by the gateway
within about a second, by every replica, also by one started after the revocation.

Only successful sign-ins here: the rate limit counts failures per client (127.0.0.1) across
the whole test session.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from conftest import AMQP_URI, GATEWAY_PORT, TEST_VHOST, dump_logs, rabbitmqctl
from helpers import SENDS_IF_MATCH, bearer, eventually
from sqlalchemy import text

from common.auth import Principal, Role, mint_token, service_principal
from common.config import DEV_JWT_SECRET
from devtools.processes import Platform
from gateway.rpc import NamekoRpcClient, RemoteError

PASSWORD = "correct horse battery"
NEW_PASSWORD = "another horse, stapled"
REVOKED = "登录凭证已失效，请重新登录"  # token revoked: sign in again
#: the second gateway of these tests (a replica, or one started after a revocation)
REPLICA_PORT = GATEWAY_PORT + 57


@pytest.fixture
def admin(token) -> dict[str, str]:
    return bearer(token(Role.ADMIN, user_id=str(uuid.uuid4()), name="平台管理员"))


def new_account(client: httpx.Client, admin: dict[str, str]) -> dict[str, Any]:
    body = {"username": f"revoke.{uuid.uuid4().hex[:10]}", "password": PASSWORD,
            "role": "grid_worker", "name": "王网格"}
    response = client.post("/api/v1/accounts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token",
                           json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def me(client: httpx.Client, tok: str) -> httpx.Response:
    return client.get("/api/v1/me", headers=bearer(tok))


def refused_soon(client: httpx.Client, tok: str, seconds: float = 10.0) -> float:
    """Poll (at most ``seconds``) until ``tok`` gets 401; the seconds it took, printed as a
    figure (the machine is shared: never a pass/fail)."""
    started = time.monotonic()
    answer = eventually(lambda: (r := me(client, tok)).status_code == 401 and r,
                        timeout=seconds, interval=0.02)
    elapsed = time.monotonic() - started
    assert answer, f"the revoked token is still accepted: {me(client, tok).text}"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["code"] == "auth.token_revoked"
    assert answer.json()["detail"] == REVOKED
    print(f"revoked token refused after {elapsed:.3f} s")
    return elapsed


def caught_up(client: httpx.Client, admin: dict[str, str]) -> None:
    """A barrier instead of a sleep: a throwaway account disabled and its token refused, so
    every revocation event published before it has reached the gateway (one queue, in
    order)."""
    other = new_account(client, admin)
    tok = sign_in(client, other["username"])
    assert client.patch(f"/api/v1/accounts/{other['id']}", json={"disabled": True},
                        headers=admin).status_code == 200
    refused_soon(client, tok)


def valid_after(db, account_id: str) -> float:
    with db.connect() as conn:
        moment = conn.execute(text("SELECT tokens_valid_after FROM enterprise.accounts "
                                   "WHERE id = :a"), {"a": account_id}).scalar_one()
    return moment.timestamp()


def test_a_disabled_accounts_token_is_refused(client, admin, db):
    victim, bystander = new_account(client, admin), new_account(client, admin)
    old, other = sign_in(client, victim["username"]), sign_in(client, bystander["username"])
    assert me(client, old).status_code == 200
    path = f"/api/v1/accounts/{victim['id']}"
    assert client.patch(path, json={"disabled": True}, headers=admin).status_code == 200

    refused_soon(client, old)
    assert me(client, other).status_code == 200  # another user's tokens are unaffected
    with db.connect() as conn:
        event = conn.execute(text(
            "SELECT payload FROM enterprise.outbox WHERE event_type = 'account_tokens_revoked' "
            "AND payload -> 'data' ->> 'account_id' = :a"), {"a": victim["id"]}).scalar_one()
    assert event["data"]["reason"] == "disabled"

    # re-enabling revives no old token; a new sign-in works
    assert client.patch(path, json={"disabled": False}, headers=admin).status_code == 200
    caught_up(client, admin)
    assert me(client, old).status_code == 401
    assert me(client, sign_in(client, victim["username"])).status_code == 200


def test_a_changed_password_refuses_the_old_token_not_the_new_one(client, admin, db):
    account = new_account(client, admin)
    old = sign_in(client, account["username"])
    changed = client.post("/api/v1/auth/password", headers=bearer(old),
                          json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204, changed.text
    new = sign_in(client, account["username"], NEW_PASSWORD)  # at once: same second, likely
    assert me(client, new).status_code == 200

    refused_soon(client, old)
    assert me(client, new).status_code == 200  # still, now that the gateway has the event
    issued = jwt.decode(new, options={"verify_signature": False})["iat"]
    revoked = valid_after(db, account["id"])
    # the new token is later to the microsecond, not merely to the second
    assert revoked < issued < revoked + 5, (revoked, issued)


def test_an_admin_password_reset_refuses_the_old_token(client, admin):
    account = new_account(client, admin)
    old = sign_in(client, account["username"])
    reset = client.patch(f"/api/v1/accounts/{account['id']}", headers=admin,
                         json={"password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.text
    refused_soon(client, old)
    assert me(client, sign_in(client, account["username"], NEW_PASSWORD)).status_code == 200


def test_a_contact_data_change_revokes_nothing(client, admin):
    account = new_account(client, admin)
    tok = sign_in(client, account["username"])
    changed = client.patch(f"/api/v1/accounts/{account['id']}", headers=admin,
                           json={"phone": "13800001234"})
    assert changed.status_code == 200, changed.text
    caught_up(client, admin)
    assert me(client, tok).status_code == 200


def test_a_grid_staffing_change_refuses_the_tokens_of_who_joined_or_left(client, admin):
    grid_id = f"REV-{uuid.uuid4().hex[:8].upper()}"
    created = client.post("/api/v1/grids", headers=admin, json={
        "id": grid_id, "name": "吊销测试孵化器", "kind": "incubator",
        "owner_department_id": "finance"})
    assert created.status_code == 201, created.text
    leader = client.post("/api/v1/accounts", headers=admin, json={
        "username": f"revoke.{uuid.uuid4().hex[:10]}", "password": PASSWORD,
        "role": "grid_leader", "name": "李网格长"}).json()
    workers = [new_account(client, admin) for _ in range(3)]
    tokens = {w["id"]: sign_in(client, w["username"]) for w in workers}

    def staff(*team: dict[str, Any]) -> None:
        answer = client.put(f"/api/v1/grids/{grid_id}/staff", headers=admin, json={
            "leader_account_id": leader["id"], "worker_account_ids": [w["id"] for w in team]})
        assert answer.status_code == 200, answer.text

    staff(workers[0], workers[1])
    # their tokens claimed no grid: refused; a new sign-in claims the grid
    for worker in workers[:2]:
        refused_soon(client, tokens[worker["id"]])
        fresh = sign_in(client, worker["username"])
        assert grid_id in me(client, fresh).json()["grid_ids"]
        tokens[worker["id"]] = fresh
    assert me(client, tokens[workers[2]["id"]]).status_code == 200  # not moved
    staff(workers[1], workers[2])  # workers[0] leaves, workers[2] joins, workers[1] stays
    refused_soon(client, tokens[workers[0]["id"]])
    refused_soon(client, tokens[workers[2]["id"]])
    assert me(client, tokens[workers[1]["id"]]).status_code == 200


@pytest.fixture
def second_gateway(healthy_platform, tmp_path: Path) -> Iterator[Platform]:
    """Another gateway process of the same platform, on its own port (a second replica)."""
    env = {**healthy_platform.env, "GATEWAY_PORT": str(REPLICA_PORT)}
    replica = Platform(env=env, log_dir=tmp_path)
    replica.start_gateway()
    try:
        replica.wait_ready(timeout=30)
        yield replica
    except BaseException:
        dump_logs(replica)
        raise
    finally:
        replica.stop_all()


def test_a_gateway_started_after_the_revocation_refuses_the_token(
        client, admin, healthy_platform, tmp_path):
    account = new_account(client, admin)
    old = sign_in(client, account["username"])
    assert client.patch(f"/api/v1/accounts/{account['id']}", json={"disabled": True},
                        headers=admin).status_code == 200
    refused_soon(client, old)

    env = {**healthy_platform.env, "GATEWAY_PORT": str(REPLICA_PORT)}
    later = Platform(env=env, log_dir=tmp_path)
    later.start_gateway()
    try:
        later.wait_ready(timeout=30)
        with httpx.Client(base_url=later.gateway_url(), timeout=15, **SENDS_IF_MATCH) as fresh:
            # loaded at start-up: refused from its very first answer, no event needed
            answer = me(fresh, old)
            assert answer.status_code == 401, answer.text
            assert answer.json()["code"] == "auth.token_revoked"
            assert answer.json()["detail"] == REVOKED
            other = new_account(fresh, admin)
            assert me(fresh, sign_in(fresh, other["username"])).status_code == 200
    except BaseException:
        dump_logs(later)
        raise
    finally:
        later.stop_all()


def test_every_replica_refuses_a_revoked_token(client, admin, second_gateway):
    account = new_account(client, admin)
    tok = sign_in(client, account["username"])
    with httpx.Client(base_url=second_gateway.gateway_url(), timeout=15,
                      **SENDS_IF_MATCH) as replica:
        assert me(replica, tok).status_code == 200
        # the change goes through one replica; the other learns it from the event
        assert client.patch(f"/api/v1/accounts/{account['id']}", json={"disabled": True},
                            headers=admin).status_code == 200
        refused_soon(replica, tok)
        refused_soon(client, tok)


def test_only_a_service_identity_reads_the_revocations(client, admin):
    account = new_account(client, admin)
    assert client.patch(f"/api/v1/accounts/{account['id']}", json={"disabled": True},
                        headers=admin).status_code == 200

    async def ask(principal: Principal) -> Any:
        rpc = NamekoRpcClient(AMQP_URI)
        await rpc.start()
        try:
            assert await rpc.wait_connected(5)
            tok = mint_token(principal, DEV_JWT_SECRET, 60)
            return await rpc.call("enterprise", "token_revocations",
                                  context={"auth_token": tok})
        finally:
            await rpc.close()

    rows = asyncio.run(ask(service_principal("gateway")))
    assert account["id"] in {r["account_id"] for r in rows}
    with pytest.raises(RemoteError) as refused:
        asyncio.run(ask(Principal(user_id=str(uuid.uuid4()), role=Role.ADMIN)))
    assert refused.value.exc_type == "Forbidden"


@pytest.fixture
def empty_vhost() -> Iterator[str]:
    """A vhost of this test alone, where no service runs: its AMQP URI."""
    vhost = f"{TEST_VHOST}_revocations"
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True,
                   timeout=60)
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield AMQP_URI.rsplit("/", 1)[0] + "/" + vhost
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True,
                   timeout=60)


def test_a_gateway_that_cannot_load_the_revocations_refuses_with_503(
        healthy_platform, empty_vhost, token, tmp_path):
    """Fail closed: without the registry the gateway cannot know the revoked tokens."""
    env = {**healthy_platform.env, "GATEWAY_PORT": str(REPLICA_PORT), "AMQP_URI": empty_vhost}
    lonely = Platform(env=env, log_dir=tmp_path)
    lonely.start_gateway()
    try:
        with httpx.Client(base_url=lonely.gateway_url(), timeout=15, **SENDS_IF_MATCH) as client:
            assert eventually(lambda: _alive(client), timeout=30, interval=0.2)
            answer = me(client, token(Role.ADMIN))
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["retry-after"] == "1"
            assert answer.json()["code"] == "auth.revocations_loading"
            assert me(client, "not a token").status_code == 401  # bad tokens stay 401
    except BaseException:
        dump_logs(lonely)
        raise
    finally:
        lonely.stop_all()


def _alive(client: httpx.Client) -> bool:
    try:
        return client.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False
