"""Bearer-token authentication of gateway requests."""

from __future__ import annotations

from starlette.requests import Request

from common.auth import Principal, verify_token
from common.config import Settings
from common.errors import Unauthenticated
from gateway.problems import Problem

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gridsvc"'}


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "a bearer token is required", headers=CHALLENGE)
    return token.strip()


def authenticate(request: Request, settings: Settings) -> tuple[Principal, str]:
    token = bearer_token(request)
    try:
        return verify_token(token, settings.jwt_secret, settings.jwt_issuer), token
    except Unauthenticated as exc:
        raise Problem(401, exc.detail, headers=CHALLENGE) from exc
