"""Authentication at the gateway: 401 without a valid token, the challenge header, expiry."""

from __future__ import annotations

import jwt
from helpers import bearer

from common.auth import Role


def test_no_token_is_401_problem(client):
    response = client.get("/api/v1/demands")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_forged_and_expired_tokens_are_401(client, token):
    forged = jwt.encode({"sub": "x", "role": "admin", "iss": "gridsvc", "iat": 1, "exp": 2**40},
                        "not-the-platform-signing-key-but-long-enough", algorithm="HS256")
    assert client.get("/api/v1/demands", headers=bearer(forged)).status_code == 401
    expired = token(Role.ADMIN, ttl=-10)
    response = client.get("/api/v1/demands", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json()["code"] == "auth.token_expired"
    assert response.json()["detail"] == "登录已过期，请重新登录"
    assert client.get("/api/v1/demands", headers={"Authorization": "Basic abc"}).status_code == 401


def test_me_reflects_the_token(client, token):
    tok = token(Role.GRID_WORKER, user_id="w-1", grid_ids=("g-7", "g-8"))
    me = client.get("/api/v1/me", headers=bearer(tok)).json()
    assert me["user_id"] == "w-1"
    assert me["role"] == "grid_worker"
    assert me["grid_ids"] == ["g-7", "g-8"]


def test_unknown_route_and_method_are_problems(client, token):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = client.delete("/api/v1/demands", headers=bearer(token(Role.ADMIN)))
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"
