"""``/api/v1/me``: who the token says the caller is."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from gateway.endpoints import Call, Endpoint


class PrincipalSchema(Schema):
    user_id = fields.String(required=True)
    role = fields.String(required=True)
    enterprise_id = fields.String(allow_none=True)
    grid_ids = fields.List(fields.String(), required=True)
    department_id = fields.String(allow_none=True)
    name = fields.String(required=True)


async def get_me(call: Call) -> dict[str, Any]:
    p = call.principal
    assert p is not None
    return {
        "user_id": p.user_id, "role": str(p.role), "enterprise_id": p.enterprise_id,
        "grid_ids": list(p.grid_ids), "department_id": p.department_id, "name": p.name,
    }


ENDPOINTS = [
    Endpoint("GET", "/api/v1/me", get_me, "Show the caller", "auth", response=PrincipalSchema),
]
