"""``/api/v1/me``: who the token says the caller is."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from common.auth import Role
from gateway.endpoints import Call, Endpoint
from services.enterprise.schemas import ContactPublicationSchema, GridCardSchema

GRID_STAFF = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})


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


async def my_grid(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "my_grid")


async def contact_publication(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "contact_publication")


async def set_contact_publication(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "set_contact_publication", await call.request.json())


ENDPOINTS = [
    Endpoint("GET", "/api/v1/me", get_me, "Show the caller", "auth", response=PrincipalSchema),
    Endpoint("GET", "/api/v1/me/grid", my_grid, "Show my enterprise's grid", "grids",
             roles=frozenset({Role.ENTERPRISE}), response=GridCardSchema, errors=(404,),
             description="企业吹哨、网格员报到: the enterprise's grid, its grid leader and grid "
                         "workers with their work phones. 404 `grid.none_yet` before the "
                         "enterprise is in a grid."),
    Endpoint("GET", "/api/v1/me/contact-publication", contact_publication,
             "Show whether my contact is published", "grids", roles=GRID_STAFF,
             response=ContactPublicationSchema, errors=(404,)),
    Endpoint("PUT", "/api/v1/me/contact-publication", set_contact_publication,
             "Publish or withdraw my grid service contact", "grids", roles=GRID_STAFF,
             body=ContactPublicationSchema, response=ContactPublicationSchema,
             errors=(404, 422),
             description="A grid leader or worker agrees (or no longer agrees) to publish "
                         "their name and work phone in the public grid service contacts "
                         "(`GET /api/v1/public/grid-contacts`); off by default."),
]
