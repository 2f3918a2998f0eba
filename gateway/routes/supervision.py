"""``/api/v1/supervision``: the supervision list (督办), served by the ticketing service."""

from __future__ import annotations

from typing import Any

from common.auth import Role
from gateway.endpoints import Call, Endpoint
from services.ticketing.schemas import SupervisionPageSchema, SupervisionQuerySchema

#: staff who supervise: everyone but enterprises (each within their scope)
READERS = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN, Role.LIAISON,
                     Role.DEPARTMENT_HEAD, Role.GRID_WORKER, Role.GRID_LEADER})


async def supervision(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "supervision", dict(call.request.query_params))


ENDPOINTS = [
    Endpoint(
        "GET", "/api/v1/supervision", supervision, "List the work to supervise", "demands",
        roles=READERS, query=SupervisionQuerySchema, response=SupervisionPageSchema,
        errors=(422,),
        description="督办: the demands awaiting triage and the open tasks that are overdue "
        "now, due within one working day, or escalated; with counts by department and by "
        "grid. Coordinators, leaders and admins see all; liaisons and department heads their "
        "department's tasks; grid staff their grids'. Filter by `state`, `stage`, "
        "`department_id`, `grid_id`; `q` searches the number and title.",
    ),
]
