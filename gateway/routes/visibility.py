"""Who reaches which resource: the table the authorisation matrix is generated from.

Two layers decide what a caller gets:

1. ``Endpoint.roles`` (in each route module): the roles that may call a route at all; any
   other role gets 403 from the gateway before a service is asked.
2. :data:`REACH` (here): for each kind of resource named in a path (``{demand_id}``...), which
   of those resources a role reaches. A resource the caller does not reach answers 404,
   exactly as if it did not exist, so ids cannot be probed:

   - ``ANY``: every one.
   - ``OWN``: only its own (what "own" means is in each row's comment).
   - ``PUBLIC``: its own in every state; another's only in its public state (a live listing
     on the board, a published policy), and then only to read: changing it is 403.
   - ``OWN_ELSE_403``: its own; another's that it reads elsewhere (a published policy of
     another department) is 403 here, one it does not read at all 404.
   - ``NONE``: the role reads this kind another way (an enterprise follows a demand on its
     timeline) and gets 403.

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
    PUBLIC = "public"
    OWN_ELSE_403 = "own_else_403"
    NONE = "none"


ANY, OWN, PUBLIC, NONE = Reach.ANY, Reach.OWN, Reach.PUBLIC, Reach.NONE
OWN_ELSE_403 = Reach.OWN_ELSE_403


def _reach(**by_role: Reach) -> dict[Role, Reach]:
    return {Role(role): reach for role, reach in by_role.items()}


#: path parameter → role → reach. A role missing from a row reaches ANY (when
#: ``Endpoint.roles`` lets it call the route at all).
REACH: dict[str, dict[Role, Reach]] = {
    # a ledger export (台账导出): only the account that started it reads its progress and file
    "export_id": _reach(coordinator=OWN, leader=OWN, admin=OWN, liaison=OWN,
                        department_head=OWN),
    # an import job (导入任务): only the account that started it reads its progress and errors
    "import_id": _reach(coordinator=OWN, admin=OWN),
    # 企业: its own record (and profile, scope); grid staff the enterprises of their grids;
    # everyone else all
    "enterprise_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN),
    # 诉求: an enterprise its own; grid staff their grids'; department staff their tasks'
    "demand_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN, liaison=OWN,
                        department_head=OWN),
    # 任务: department staff their department's; grid staff those of their grids' demands
    # (a task's internal notes: only its department's staff, coordinators, leaders, admins;
    # not the grid staff, not another department's liaison even after a reassignment)
    "task_id": _reach(grid_worker=OWN, grid_leader=OWN, liaison=OWN, department_head=OWN),
    # 合同: the enterprise's own; grid staff their grids'; department staff their department's
    "contract_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN, liaison=OWN,
                          department_head=OWN),
    # 履约事项: those of the contracts the caller reaches (department staff fulfil their
    # department's); coordinators and admins all
    "obligation_id": _reach(liaison=OWN, department_head=OWN),
    # 走访: visits of the enterprises the caller reads
    "visit_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN),
    # 供求信息: everyone reads a live listing (the board); an enterprise every state of its own,
    # grid staff of their grids' enterprises', other staff all. A listing never carries
    # contacts; only its enterprise (or its grid staff) changes it
    "listing_id": _reach(enterprise=PUBLIC, grid_worker=PUBLIC, grid_leader=PUBLIC),
    # 对接: its two parties (an enterprise, or the grid staff of the party's grid) and the
    # other staff; contacts only once the listing's enterprise accepted
    "docking_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN),
    # 政策: an enterprise the published (or withdrawn) policies addressed to it; staff every
    # published one and the drafts of the department they write for (liaison, department
    # head: their own; coordinators, admins: any)
    "policy_id": _reach(enterprise=OWN, grid_worker=PUBLIC, grid_leader=PUBLIC,
                        liaison=PUBLIC, department_head=PUBLIC, leader=PUBLIC),
    # 政企座谈: an enterprise the meetings it is invited to; a department head those its
    # department organises; grid leaders and grid workers those whose audience or invitees
    # touch their grids (or, before invitations, whose audience names no grid), read-only;
    # coordinators, leaders, admins all; liaisons none (Endpoint.roles)
    "meeting_id": _reach(enterprise=OWN, department_head=OWN, grid_leader=OWN,
                         grid_worker=OWN),
    # 账号: admins and coordinators any; everyone else only their own
    "account_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN, liaison=OWN,
                         department_head=OWN, leader=OWN),
    # 消息: each caller its own inbox (an enterprise's users share the enterprise's)
    "message_id": _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN, liaison=OWN,
                         department_head=OWN, coordinator=OWN, leader=OWN, admin=OWN),
    # 部门, 诉求类别, 网格, 工作日历: reference data, not scoped (grids and the calendar: staff
    # only, by Endpoint.roles); changed by admins (grids: also coordinators)
    "department_id": {},
    "code": {},
    "grid_id": {},
    "year": {},
    # 办理时限, 投递, 延期申请: admin (延期: coordinator) routes, not scoped
    "category": {},
    "difficulty": {},
    "delivery_id": {},
    "extension_id": {},
    # 区域资源 (zone resources): shared inside the committee, not scoped by grid or department.
    # 载体: every staff member reads every carrier, an enterprise every carrier's public
    # vacancy information (the service strips the rest); 在建项目 (and their 节点), 科研机构:
    # staff; 主导产业: everyone reads the list, staff the members and chain maps
    "carrier_id": {},
    "project_id": {},
    "milestone": {},
    "institute_id": {},
    "industry_id": {},
}

#: the timeline is how an enterprise follows its own demand (进度查询)
TIMELINE_REACH: dict[Role, Reach] = _reach(enterprise=OWN, grid_worker=OWN, grid_leader=OWN,
                                           liaison=OWN, department_head=OWN)

#: a policy's reach and read receipts (触达统计, 已读回执): department staff their own
#: department's (another department's published policy: 403); leaders every published one
POLICY_FIGURES: dict[Role, Reach] = _reach(liaison=OWN_ELSE_403, department_head=OWN_ELSE_403,
                                           leader=PUBLIC)

#: the read receipts: as the figures, and grid staff every published policy (the receipts of
#: their grids' enterprises; a draft is not found)
POLICY_RECEIPTS: dict[Role, Reach] = {**POLICY_FIGURES, Role.GRID_WORKER: PUBLIC,
                                      Role.GRID_LEADER: PUBLIC}

#: one enterprise's economic figures (经济运行): the roles and departments granted them
#: (default 经济发展部, 财政金融部, leaders), each within the enterprises it reads; the rest
#: (here: grid staff without a granted department, admins) are refused whoever it is
ENTERPRISE_FIGURES: dict[Role, Reach] = _reach(grid_worker=NONE, grid_leader=NONE, admin=NONE)

#: routes whose reach differs from their resource kind's row
ROUTE_REACH: dict[tuple[str, str], dict[Role, Reach]] = {
    ("GET", "/api/v1/zone/economy/enterprises/{enterprise_id}"): ENTERPRISE_FIGURES,
    ("GET", "/api/v1/demands/{demand_id}/timeline"): TIMELINE_REACH,
    ("GET", "/api/v1/policies/{policy_id}/reach"): POLICY_FIGURES,
    ("GET", "/api/v1/policies/{policy_id}/receipts"): POLICY_RECEIPTS,
}


def reach(method: str, path: str, param: str, role: Role) -> Reach:
    """How far ``role`` reaches the ``param`` resource on this route."""
    row = ROUTE_REACH.get((method, path)) or REACH.get(param, {})
    return row.get(role, ANY)
