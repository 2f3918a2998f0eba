"""``/api/v1/visits``: grid visits (走访) and the not-visited report, served by the enterprise
service."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from common.auth import STAFF_ROLES, Role
from gateway.endpoints import Call, Endpoint
from services.enterprise.schemas import (
    NotVisitedPageSchema,
    NotVisitedQuerySchema,
    VisitCreateSchema,
    VisitPageSchema,
    VisitQuerySchema,
    VisitSchema,
)


async def create_visit(call: Call) -> JSONResponse:
    """Log a visit to an enterprise."""
    visit = await call.rpc("enterprise", "create_visit", await call.request.json())
    return JSONResponse(visit, status_code=201,
                        headers={"Location": f"/api/v1/visits/{visit['id']}"})


async def list_visits(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_visits", dict(call.request.query_params))


async def list_not_visited(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_not_visited", dict(call.request.query_params))


async def get_visit(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_visit", call.path_params["visit_id"])


VISITORS = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.COORDINATOR, Role.ADMIN})

ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/visits", create_visit, "Log a visit", "visits",
        roles=VISITORS, body=VisitCreateSchema, response=VisitSchema, status=201,
        errors=(400, 404, 413, 415, 422),
        description="Grid workers and leaders for the enterprises of their grids; coordinators "
        "and admins for any. The visit keeps the enterprise's grid.",
    ),
    Endpoint(
        "GET", "/api/v1/visits", list_visits, "List visits", "visits",
        query=VisitQuerySchema, response=VisitPageSchema, errors=(422,),
        description="Scoped like enterprises: grid staff their grids, an enterprise its own.",
    ),
    # before /visits/{visit_id}, which would otherwise match "not-visited"
    Endpoint(
        "GET", "/api/v1/visits/not-visited", list_not_visited, "List enterprises not visited",
        "visits", roles=frozenset(STAFF_ROLES), query=NotVisitedQuerySchema,
        response=NotVisitedPageSchema, errors=(422,),
        description="In-scope enterprises (of the caller's grids for grid staff) without a "
        "visit in the last `days` days; never visited first (last_visited_on null).",
    ),
    Endpoint(
        "GET", "/api/v1/visits/{visit_id}", get_visit, "Show a visit", "visits",
        response=VisitSchema, errors=(404,),
    ),
]
