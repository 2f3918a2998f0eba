"""``/api/v1/grids`` (网格) and ``/api/v1/coverage`` (全覆盖、无遗漏)."""

from __future__ import annotations

from typing import Any

from common.auth import Role
from gateway.endpoints import ALL_ROLES, Call, Endpoint
from services.enterprise.schemas import (
    CoverageSchema,
    GridCardListSchema,
    GridContactQuerySchema,
    GridCreateSchema,
    GridPageSchema,
    GridQuerySchema,
    GridSchema,
    GridStaffSchema,
    GridUpdateSchema,
)

MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
STAFF = ALL_ROLES - {Role.ENTERPRISE}
IF_MATCH = ("Send the grid's ETag as If-Match to refuse a stale write (412); a change bumps "
            "`version`.")


async def list_grids(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_grids", dict(call.request.query_params))


async def get_grid(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_grid", call.path_params["grid_id"])


async def create_grid(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "create_grid", await call.request.json())


async def update_grid(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "update_grid", call.path_params["grid_id"],
                          await call.request.json(), **call.expected_version)


async def set_grid_staff(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "set_grid_staff", call.path_params["grid_id"],
                          await call.request.json(), **call.expected_version)


async def public_grid_contacts(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "public_grid_contacts", dict(call.request.query_params))


async def get_coverage(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "coverage")


ENDPOINTS = [
    Endpoint("GET", "/api/v1/grids", list_grids, "List grids", "grids", roles=STAFF,
             query=GridQuerySchema, response=GridPageSchema, errors=(422,)),
    Endpoint("POST", "/api/v1/grids", create_grid, "Create a grid", "grids", roles=MANAGERS,
             body=GridCreateSchema, response=GridSchema, status=201, errors=(409, 422)),
    Endpoint("GET", "/api/v1/grids/{grid_id}", get_grid, "Show a grid", "grids", roles=STAFF,
             response=GridSchema, errors=(404,)),
    Endpoint("PATCH", "/api/v1/grids/{grid_id}", update_grid, "Change a grid", "grids",
             roles=MANAGERS, body=GridUpdateSchema, response=GridSchema, errors=(404, 412, 422),
             versioned=True, description=IF_MATCH),
    Endpoint("PUT", "/api/v1/grids/{grid_id}/staff", set_grid_staff,
             "Name a grid's leader and workers", "grids", roles=MANAGERS, body=GridStaffSchema,
             response=GridSchema, errors=(404, 412, 422), versioned=True,
             description="One 网格长 and 2-3 网格员, each an enabled account of that role. "
             "A write on the grid: " + IF_MATCH + " The accounts that join or leave get a new "
             "version too (their `grid_ids`)."),
    Endpoint("GET", "/api/v1/coverage", get_coverage, "Show the coverage report", "grids",
             roles=ALL_ROLES - {Role.ENTERPRISE, Role.GRID_WORKER, Role.GRID_LEADER},
             response=CoverageSchema,
             description="In-scope enterprises without a grid, grids without a leader or with "
             "fewer than 2 workers, overlapping grid boundaries. Empty = 全覆盖、无遗漏."),
    Endpoint("GET", "/api/v1/public/grid-contacts", public_grid_contacts,
             "List the grids' public service contacts", "grids", roles=None,
             query=GridContactQuerySchema, response=GridCardListSchema, errors=(422,),
             description="公开网格化服务联系方式, for the zone's website and WeChat: no token "
                         "needed. Every grid with its owner department; of its leader and "
                         "workers only those who agreed to publish their name and work phone "
                         "(`PUT /api/v1/me/contact-publication`, off by default)."),
]
