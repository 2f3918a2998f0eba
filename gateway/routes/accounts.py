"""``/api/v1/accounts``: staff and enterprise-user accounts (账号管理), served by the enterprise
service."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from common.auth import Role
from gateway.endpoints import Call, Endpoint, entity_tag
from services.enterprise.schemas import (
    AccountCreateSchema,
    AccountPageSchema,
    AccountQuerySchema,
    AccountSchema,
    AccountUpdateSchema,
)


async def create_account(call: Call) -> JSONResponse:
    account = await call.rpc("enterprise", "create_account", await call.request.json())
    return JSONResponse(account, status_code=201,
                        headers={"Location": f"/api/v1/accounts/{account['id']}",
                                 "ETag": entity_tag(account) or '"1"'})


async def list_accounts(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_accounts", dict(call.request.query_params))


async def get_account(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_account", call.path_params["account_id"])


async def update_account(call: Call) -> dict[str, Any]:
    payload = await call.request.json()
    if call.if_match is not None:
        payload["version"] = call.if_match  # checked against the body's by the gateway
    return await call.rpc("enterprise", "update_account", call.path_params["account_id"],
                          payload)


ADMIN = frozenset({Role.ADMIN})
READERS = frozenset({Role.ADMIN, Role.COORDINATOR})

ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/accounts", create_account, "Create an account", "accounts",
        roles=ADMIN, body=AccountCreateSchema, response=AccountSchema, status=201,
        errors=(400, 409, 413, 415, 422),
        description="Enterprise users (企业用户) need an existing `enterprise_id`; liaisons "
        "and department heads an existing `department_id`. Usernames are unique (409).",
    ),
    Endpoint(
        "GET", "/api/v1/accounts", list_accounts, "List accounts", "accounts",
        roles=READERS, query=AccountQuerySchema, response=AccountPageSchema, errors=(422,),
    ),
    Endpoint(
        "GET", "/api/v1/accounts/{account_id}", get_account, "Show an account", "accounts",
        response=AccountSchema, errors=(404,),
        description="Admins and coordinators: any account; everyone else: their own (404 "
        "otherwise).",
    ),
    Endpoint(
        "PATCH", "/api/v1/accounts/{account_id}", update_account, "Change an account",
        "accounts", roles=ADMIN, body=AccountUpdateSchema, response=AccountSchema,
        errors=(400, 404, 409, 412, 413, 415, 422), versioned=True,
        description="Disable or enable (停用/启用), reset the password, change name and "
        "contact data. Each change is recorded as an `account_changed` event and bumps "
        "`version`; send the ETag as If-Match (or `version`) to refuse a stale write (412).",
    ),
]
