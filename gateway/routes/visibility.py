"""Who reaches which resource: the table the authorisation matrix is generated from.

Two layers decide what a caller gets:

1. ``Endpoint.roles`` (in each route module): the roles that may call a route at all; any
   other role gets 403 from the gateway before a service is asked.
2. :data:`REACH` (here): for each kind of resource named in a path (``{demand_id}``...), which
   of those resources a role reaches. ``ANY``: every one. ``OWN``: only its own (an
   enterprise its own record, demands and listings; grid staff the enterprises and demands of
   their grids; department staff their department's tasks and contracts); any other answers
   404, exactly as if it did not exist, so ids cannot be probed. ``NONE``: the role reads
   this kind another way (an enterprise follows a demand on its timeline) and gets 403.

The services enforce both layers (they never trust the gateway alone);
``tests/test_access_matrix.py`` walks every route x every role x own/other resource and
checks the answers this table implies.
"""

from __future__ import annotations

from enum import StrEnum

from common.auth import Role


class Reach(StrEnum):
    ANY = "any"
    OWN = "own"
    NONE = "none"


ANY, OWN, NONE = Reach.ANY, Reach.OWN, Reach.NONE


def _reach(**by_role: Reach) -> dict[Role, Reach]:
    return {Role(role): reach for role, reach in by_role.items()}


#: path parameter → role → reach. A role missing from a row reaches ANY.
REACH: dict[str, dict[Role, Reach]] = {
    # 企业: its own record; grid staff the enterprises of their grids; everyone else all
    "enterprise_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN),
    # 诉求: an enterprise its own; grid staff their grids'; department staff their tasks'
    "demand_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN, liaison=OWN,
                        department_head=OWN),
    # 任务: department staff their department's; grid staff those of their grids' demands
    "task_id": _reach(grid_worker=OWN, grid_leader=OWN, liaison=OWN, department_head=OWN),
    # 合同: the enterprise's own; grid staff their grids'; department staff their department's
    "contract_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN, liaison=OWN,
                          department_head=OWN),
    # 走访: visits of the enterprises the caller reads
    "visit_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN),
}

#: the timeline is how an enterprise follows its own demand (进度查询)
TIMELINE_REACH: dict[Role, Reach] = _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN,
                                           liaison=OWN, department_head=OWN)

#: routes whose reach differs from their resource kind's row
ROUTE_REACH: dict[tuple[str, str], dict[Role, Reach]] = {
    ("GET", "/api/v1/demands/{demand_id}/timeline"): TIMELINE_REACH,
}


def reach(method: str, path: str, param: str, role: Role) -> Reach:
    """How far ``role`` reaches the ``param`` resource on this route."""
    row = ROUTE_REACH.get((method, path)) or REACH.get(param, {})
    return row.get(role, ANY)
