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


def test_a_token_expiring_in_2100_is_refused(client):
    """Issue 22, finding 6: the probe's token, well signed but expiring in the year 2100,
    is refused because it lives longer than TOKEN_TTL_SECONDS (8 h) plus the clock skew."""
    import time

    from common.auth import Principal, mint_token
    from common.config import DEV_JWT_SECRET

    admin = Principal(user_id="probe", role=Role.ADMIN)
    forever = mint_token(admin, DEV_JWT_SECRET, 4102444800 - int(time.time()))
    refused = client.get("/api/v1/demands", headers=bearer(forever))
    assert refused.status_code == 401
    assert refused.json()["code"] == "auth.token_lifetime_too_long"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    eight_hours = mint_token(admin, DEV_JWT_SECRET, 8 * 3600)
    assert client.get("/api/v1/demands", headers=bearer(eight_hours)).status_code == 200


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


def test_a_gateway_outside_development_refuses_development_and_shared_secret_tokens():
    """Issue 19: a gateway started in production mode (its own keys) answers 401 to a token
    signed with the committed development key (what `make token` and the test fixtures sign)
    and to one signed with the old shared development secret (HS256), and serves a token of
    its registry's key as far as authentication goes."""
    import asyncio
    import json

    import httpx

    from common import keys
    from common.auth import Principal, mint_token
    from common.config import DEV_SIGNING_KEY, load_settings
    from gateway.app import create_app

    pem, jwk = keys.generate("registry-prod", keys.REGISTRY)
    settings = load_settings({"GRIDSVC_ENV": "production",
                              "JWT_PUBLIC_KEYS": json.dumps({"keys": [jwk]}),
                              "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"})
    app = create_app(settings)
    admin = Principal(user_id="someone", role=Role.ADMIN)
    claims = {"sub": "someone", "role": "admin", "iss": "gridsvc", "iat": 1, "exp": 2**40}
    shared = jwt.encode(claims, "development-only-signing-key-not-for-production",
                        algorithm="HS256")
    dev = mint_token(admin, DEV_SIGNING_KEY, 600)
    registry = mint_token(admin, keys.SigningKey.from_pem("registry-prod", pem), 600)

    async def ask(*tokens: str) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)  # no lifespan: no broker is needed
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as gateway:
            return [await gateway.get("/api/v1/demands", headers=bearer(t)) for t in tokens]

    *refused, accepted = asyncio.run(ask(dev, shared, registry))
    for answer in refused:
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"].startswith("Bearer")
    # past authentication: the revocations are not loaded (no broker), so it fails closed
    assert accepted.status_code == 503, accepted.text
