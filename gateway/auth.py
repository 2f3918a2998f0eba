"""Bearer-token authentication of gateway requests.

The gateway is where a revoked token (disabled account, changed password) is refused: it
checks every token's ``iat`` against its account's moment of revocation
(:mod:`gateway.revocations`). The services verify the forwarded token's signature and expiry
again, but not its revocation: they trust the gateway for that.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from common.auth import Principal, decode_token
from common.config import Settings
from common.errors import Unauthenticated
from common.i18n import N_
from gateway.problems import Problem
from gateway.revocations import Revocations

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gridsvc"'}
REVOKED = N_("token revoked: sign in again")


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "a bearer token is required", headers=CHALLENGE,
                      code="auth.token_missing")
    return token.strip()


def authenticate(request: Request, settings: Settings) -> tuple[Principal, str]:
    token = bearer_token(request)
    try:
        claims = decode_token(token, settings.jwt_keys, settings.jwt_issuer,
                              settings.token_ttl_seconds)
        principal = Principal.from_claims(claims)
    except Unauthenticated as exc:
        raise Problem(401, exc.detail, headers=CHALLENGE, code=exc.code,
                      params=exc.params) from exc
    revocations: Revocations | None = getattr(request.app.state, "revocations", None)
    if revocations is not None:
        check_not_revoked(revocations, principal, claims)
    return principal, token


def check_not_revoked(revocations: Revocations, principal: Principal,
                      claims: dict[str, Any]) -> None:
    """401 for a token issued before its account's revocation; 503 (fail closed) while the
    gateway has not yet loaded the revocations since it started."""
    if not revocations.loaded:
        raise Problem(503, "the gateway is still loading the revoked tokens; retry shortly",
                      headers={"Retry-After": "1"}, code="auth.revocations_loading")
    try:
        issued_at = float(claims["iat"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Problem(401, "invalid token: iat is not a number", headers=CHALLENGE,
                      code="auth.token_invalid") from exc
    if revocations.refuses(principal.user_id, issued_at):
        raise Problem(401, REVOKED, headers=CHALLENGE, code="auth.token_revoked")
