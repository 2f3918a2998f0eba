"""``/api/v1/auth/...``: sign-in (登录) and changing one's own password, served by the
enterprise service."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from gateway.endpoints import ALL_ROLES, Call, Endpoint
from services.enterprise.schemas import LoginSchema, PasswordChangeSchema, TokenSchema

#: RFC 6749 §5.1: a token response must not be cached
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def client_address(call: Call) -> str | None:
    """The caller's IP as this process sees it (the rate limit counts failures per client)."""
    return call.request.client.host if call.request.client else None


async def issue_token(call: Call) -> JSONResponse:
    """登录: a bearer token for a username and password."""
    token = await call.rpc("enterprise", "login", call.body["username"], call.body["password"],
                                  client_address(call))
    return JSONResponse(token, headers=NO_STORE)


async def change_password(call: Call) -> Response:
    """修改密码: the caller's own; the old password is checked like a sign-in."""
    await call.rpc("enterprise", "change_password", call.body, client_address(call))
    return Response(status_code=204)


ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/auth/token", issue_token, "Sign in", "auth",
        roles=None, body=LoginSchema, response=TokenSchema,
        errors=(400, 401, 403, 413, 415, 422, 429),
        description="No token needed. Wrong username and wrong password are the same 401. "
        "After 5 consecutive failures an account waits 30 s, doubling with each further "
        "failure up to 15 min; 20 failures from one client address in 15 minutes make that "
        "address wait. An attempt during a wait is refused with 429 and `Retry-After`, "
        "unchecked and not counted (it never extends the wait); a disabled account gets 403.",
    ),
    Endpoint(
        "POST", "/api/v1/auth/password", change_password, "Change my password", "auth",
        body=PasswordChangeSchema, status=204, errors=(400, 404, 413, 415, 422, 429),
        roles=ALL_ROLES,
        description="`old_password` is checked under the same rate limit as signing in.",
    ),
]
