"""``/api/v1/contracts`` and ``/api/v1/obligations``: contracts between the committee and an
enterprise (协议合同) and their obligations (预先消除违约事项), served by the enterprise service."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from common.auth import STAFF_ROLES, Role
from gateway.endpoints import Call, Endpoint, entity_tag
from services.enterprise.schemas import (
    ContractCreateSchema,
    ContractPageSchema,
    ContractQuerySchema,
    ContractSchema,
    ObligationPageSchema,
    ObligationQuerySchema,
    ObligationSchema,
    ObligationSettingsSchema,
    ObligationSweepQuerySchema,
    ObligationSweepSchema,
)


async def create_contract(call: Call) -> JSONResponse:
    """Record a contract with its obligations."""
    contract = await call.rpc("enterprise", "create_contract", await call.request.json())
    return JSONResponse(contract, status_code=201,
                        headers={"Location": f"/api/v1/contracts/{contract['id']}",
                                 "ETag": entity_tag(contract) or '"1"'})


async def list_contracts(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_contracts", dict(call.request.query_params))


async def get_contract(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_contract", call.path_params["contract_id"])


async def fulfil_obligation(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "fulfil_obligation", call.path_params["contract_id"],
                          call.path_params["obligation_id"], **call.expected_version)


async def list_obligations(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_obligations", dict(call.request.query_params))


async def get_obligation_settings(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_obligation_settings")


async def update_obligation_settings(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "update_obligation_settings",
                          await call.request.json(), **call.expected_version)


async def sweep_obligations(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "sweep_obligations",
                          call.request.query_params.get("today"))


CONTRACT_WRITERS = frozenset({Role.COORDINATOR, Role.ADMIN, Role.DEPARTMENT_HEAD, Role.LIAISON})

ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/contracts", create_contract, "Record a contract", "contracts",
        roles=CONTRACT_WRITERS, body=ContractCreateSchema, response=ContractSchema, status=201,
        errors=(400, 404, 413, 415, 422),
        description="Coordinators and admins for any department; a department head or liaison "
        "for their own department. Each obligation's reminder day (remind_on) is computed in "
        "working days before its due date.",
    ),
    Endpoint(
        "GET", "/api/v1/contracts", list_contracts, "List contracts", "contracts",
        query=ContractQuerySchema, response=ContractPageSchema, errors=(422,),
        description="Coordinators, leaders and admins see all; department staff their "
        "department's (or those with an obligation of their department); grid staff those of "
        "their grids' enterprises; an enterprise its own.",
    ),
    Endpoint(
        "GET", "/api/v1/contracts/{contract_id}", get_contract, "Show a contract", "contracts",
        response=ContractSchema, errors=(404,),
    ),
    Endpoint(
        "POST", "/api/v1/contracts/{contract_id}/obligations/{obligation_id}/fulfil",
        fulfil_obligation, "Fulfil an obligation", "contracts",
        roles=frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD, Role.COORDINATOR, Role.ADMIN}),
        response=ObligationSchema, errors=(404, 412), versioned=True,
        description="The owning department's head or liaison, coordinators, admins. "
        "Repeating it leaves the first fulfilment time. A write on the contract: send its "
        "ETag as If-Match to refuse a stale one (412); a fulfilment bumps the contract's "
        "`version` (the sweep's reminder and overdue marks do not, and `state` follows the "
        "date).",
    ),
    Endpoint(
        "GET", "/api/v1/obligations", list_obligations, "List obligations", "contracts",
        query=ObligationQuerySchema, response=ObligationPageSchema, errors=(422,),
        description="Obligations of the contracts the caller may see, soonest due first. "
        "state: open, due_soon (reminder day reached), overdue (past due), fulfilled; "
        "due_before includes that day.",
    ),
    Endpoint(
        "GET", "/api/v1/obligations/settings", get_obligation_settings,
        "Show the obligation settings", "contracts",
        roles=frozenset(STAFF_ROLES), response=ObligationSettingsSchema,
    ),
    Endpoint(
        "PUT", "/api/v1/obligations/settings", update_obligation_settings,
        "Change the obligation settings", "contracts",
        roles=frozenset({Role.ADMIN}), body=ObligationSettingsSchema,
        response=ObligationSettingsSchema, errors=(400, 412, 415, 422), versioned=True,
        description="reminder_workdays: how many working days before due obligation_due is "
        "raised; remind_on of obligations not yet reminded is recomputed. Send the ETag as "
        "If-Match (or `version`) to refuse a stale write (412); a change bumps `version`.",
    ),
    Endpoint(
        "POST", "/api/v1/obligations/sweep", sweep_obligations,
        "Run the obligation sweep now", "contracts",
        roles=frozenset({Role.ADMIN}), query=ObligationSweepQuerySchema,
        response=ObligationSweepSchema, errors=(422,),
        description="What the timer of every replica does every OBLIGATION_SWEEP_SECONDS; "
        "each event is still raised exactly once.",
    ),
]
