"""``/api/v1/audit-log``: privileged writes (操作日志), kept by the registry."""

from __future__ import annotations

from typing import Any

from common.auth import Role
from gateway.endpoints import Call, Endpoint
from services.enterprise.schemas import AuditPageSchema, AuditQuerySchema


async def list_audit_log(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_audit_log", dict(call.request.query_params))


ENDPOINTS = [
    Endpoint(
        "GET", "/api/v1/audit-log", list_audit_log, "List privileged writes", "accounts",
        roles=frozenset({Role.ADMIN}), query=AuditQuerySchema, response=AuditPageSchema,
        errors=(422,),
        description="操作日志: every write by an admin or coordinator that succeeded, newest "
                    "first: who (from the token), when, the route and the ids in its path, "
                    "and which fields were sent (never their values).",
    ),
]
