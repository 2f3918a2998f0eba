"""``/api/v1/demands/{demand_id}/rating``, ``/resolution`` and ``/timeline``: the rating of a
completed demand (评价, 自动销号), a coordinator's answer to a dissatisfied one (重新办理 or
内部销号) and the enterprise's view of its progress (办理进度), served by ticketing.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from common.auth import Role
from gateway.endpoints import Call, Endpoint

# to be imported from services.ticketing.schemas once they are moved there
from services.ticketing.schemas import (
    DemandSchema,
    DemandTimelineSchema,
    DissatisfiedResolutionSchema,
    RatedSchema,
    RatingCreateSchema,
)


async def rate_demand(call: Call) -> JSONResponse:
    """评价: satisfied closes the demand (自动销号); dissatisfied waits for a coordinator."""
    demand_id = call.path_params["demand_id"]
    result = await call.rpc("ticketing", "rate_demand", demand_id, call.body,
                            **call.expected_version)
    return JSONResponse(result, status_code=201, headers={
        "Location": f"/api/v1/demands/{demand_id}/timeline"})


async def resolve_dissatisfied(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "resolve_dissatisfied", call.path_params["demand_id"],
                          call.body, **call.expected_version)


async def demand_timeline(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "demand_timeline", call.path_params["demand_id"])


RESOLVERS = frozenset({Role.COORDINATOR, Role.ADMIN})

ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/demands/{demand_id}/rating", rate_demand, "Rate a completed demand",
        "demands", roles=frozenset({Role.ENTERPRISE}), body=RatingCreateSchema,
        response=RatedSchema, status=201, versioned=True, errors=(400, 403, 404, 409, 415, 422),
        description="评价 by the enterprise that filed the demand, once per completion round, "
        "while the demand is awaiting_rating (else 409; of two concurrent ratings exactly one "
        "wins). No score below 3 (satisfied): the demand closes as `rated` (自动销号). "
        "Otherwise it stays awaiting_rating until a coordinator reopens a task or closes it "
        "internally.",
    ),
    Endpoint(
        "POST", "/api/v1/demands/{demand_id}/resolution", resolve_dissatisfied,
        "Resolve a dissatisfied rating", "demands", roles=RESOLVERS,
        body=DissatisfiedResolutionSchema, response=DemandSchema,
        versioned=True, errors=(400, 403, 404, 409, 415, 422),
        description="After a dissatisfied rating: `reopen` sends the named completed task "
        "back to its department with a new handling deadline (the second reopen of a task "
        "escalates: 多次未办结); `agree_report` (a coordinator of the department owning the "
        "demand's grid, else 403) agrees to the written reports the departments filed "
        "(`POST /tasks/{id}/report`) and closes the demand as `internal` (内部销号); "
        "`return_report` sends them back with a `reason`; `close_internally`, when no "
        "department can report, needs the written report (书面汇报材料) in `report` and "
        "closes the demand as `internal`.",
    ),
    Endpoint(
        "GET", "/api/v1/demands/{demand_id}/timeline", demand_timeline,
        "Follow a demand's progress", "demands", response=DemandTimelineSchema, errors=(404,),
        description="办理进度: the demand, its tasks (department, state, deadlines), ratings "
        "and the steps with their dates and public notes; never internal notes, never a staff "
        "member's id (the role and department instead). For the owning enterprise, its grid "
        "staff, the departments with a task on it, coordinators, leaders and admins.",
    ),
]
