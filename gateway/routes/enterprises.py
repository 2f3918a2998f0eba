"""``/api/v1/enterprises``: the registry (企业), scope, profile (企业画像), zone summary."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from starlette.responses import JSONResponse

from common.auth import Role
from gateway.endpoints import ALL_ROLES, Call, Endpoint
from services.enterprise.schemas import (
    EnterpriseCreateSchema,
    EnterprisePageSchema,
    EnterpriseQuerySchema,
    EnterpriseSchema,
    EnterpriseUpdateSchema,
    ProfileSchema,
    ProfileValueCreateSchema,
    ProfileValueSchema,
    ScopeChangeCreateSchema,
    ScopeChangeSchema,
    SummaryQuerySchema,
    SummarySchema,
)

REGISTRARS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.GRID_WORKER, Role.GRID_LEADER})
ScopeHistorySchema = Schema.from_dict(
    {"items": fields.List(fields.Nested(ScopeChangeSchema), required=True)},
    name="ScopeHistory")


def _id(call: Call) -> str:
    return call.path_params["enterprise_id"]


#: who reads an enterprise's tax and revenue (services/enterprise/figure_access.py)
FIGURES_NOTE = ("Revenue and tax figures are read by the roles and departments granted the "
                "per-enterprise figures (`/api/v1/zone/economy/access`; default 经济发展部, "
                "财政金融部 and leaders) and by the enterprise itself; anyone else gets them "
                "null and named in `withheld`. Every read of them by the staff is written to "
                "the audit log.")

async def register_enterprise(call: Call) -> JSONResponse:
    created = await call.rpc("enterprise", "register_enterprise", await call.request.json())
    return JSONResponse(created, status_code=201,
                        headers={"Location": f"/api/v1/enterprises/{created['id']}"})


async def list_enterprises(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "list_enterprises", dict(call.request.query_params))


async def get_enterprise(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_enterprise", _id(call))


async def update_enterprise(call: Call) -> dict[str, Any]:
    payload = await call.request.json()
    if call.if_match is not None:
        payload["version"] = call.if_match
    return await call.rpc("enterprise", "update_enterprise", _id(call), payload)


async def change_scope(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "change_scope", _id(call), await call.request.json())


async def scope_history(call: Call) -> dict[str, Any]:
    return {"items": await call.rpc("enterprise", "scope_history", _id(call))}


async def add_profile_value(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "add_profile_value", _id(call),
                          await call.request.json())


async def get_profile(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_profile", _id(call))


async def zone_summary(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "summary", dict(call.request.query_params))


ENDPOINTS = [
    Endpoint("POST", "/api/v1/enterprises", register_enterprise, "Register an enterprise",
             "enterprises", roles=REGISTRARS, body=EnterpriseCreateSchema,
             response=EnterpriseSchema, status=201, errors=(409, 422),
             description="统一社会信用代码 check digit verified; grid from the incubator or the "
             "location; in scope only if operating, with revenue and paying tax."),
    Endpoint("GET", "/api/v1/enterprises", list_enterprises, "List enterprises",
             "enterprises", query=EnterpriseQuerySchema, response=EnterprisePageSchema,
             errors=(403, 422),
             description="Enterprise users see their own; grid staff their grids; departments, "
             "coordinators, leaders and admins all. " + FIGURES_NOTE + " Sorting or filtering "
             "by tax (`sort=tax`, `min_tax`, `max_tax`) is for granted callers (403 "
             "otherwise)."),
    Endpoint("GET", "/api/v1/enterprises/summary", zone_summary, "Zone totals", "enterprises",
             roles=ALL_ROLES - {Role.ENTERPRISE}, query=SummaryQuerySchema,
             response=SummarySchema, errors=(422,),
             description="Over each enterprise's latest values of the year. Tax and revenue "
             "sums as the zone's economic figures release them: unless the caller is granted "
             "the per-enterprise figures and reads the whole registry (`restricted` false), a "
             "sum that fewer than 5 enterprises stand for, or that subtracting the other sums "
             "of any dimension would narrow to fewer, is null."),
    Endpoint("GET", "/api/v1/enterprises/{enterprise_id}", get_enterprise,
             "Show an enterprise", "enterprises", response=EnterpriseSchema, errors=(404,),
             description=FIGURES_NOTE),
    Endpoint("PATCH", "/api/v1/enterprises/{enterprise_id}", update_enterprise,
             "Change an enterprise", "enterprises", body=EnterpriseUpdateSchema,
             response=EnterpriseSchema, errors=(404, 412, 422), versioned=True,
             description="Enterprise users may change only contacts, strengths, upstream and "
             "downstream (自主填报). Send the ETag as If-Match (or `version`) to refuse a "
             "stale write (412)."),
    Endpoint("POST", "/api/v1/enterprises/{enterprise_id}/scope", change_scope,
             "Bring into or take out of scope", "enterprises", roles=REGISTRARS,
             body=ScopeChangeCreateSchema, response=ScopeChangeSchema, errors=(404, 422)),
    Endpoint("GET", "/api/v1/enterprises/{enterprise_id}/scope", scope_history,
             "Show the scope history", "enterprises", response=ScopeHistorySchema,
             errors=(404,)),
    Endpoint("GET", "/api/v1/enterprises/{enterprise_id}/profile", get_profile,
             "Show the profile (企业画像)", "enterprises", response=ProfileSchema,
             errors=(404,), description=FIGURES_NOTE),
    Endpoint("POST", "/api/v1/enterprises/{enterprise_id}/profile", add_profile_value,
             "Record an indicator value", "enterprises", body=ProfileValueCreateSchema,
             response=ProfileValueSchema, status=201, errors=(404, 422)),
]
