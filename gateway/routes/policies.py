"""``/api/v1/policies``: policy publishing (政策发布), served by notification.

Departments write policies (政策) and notices (通知) for a target audience (目标企业), publish
them to the enterprises the audience names, read their reach (触达统计) and read receipts
(已读回执); enterprises list and search the policies addressed to them.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields
from starlette.responses import JSONResponse

from common.auth import Role
from gateway.endpoints import Call, Endpoint
from services.enterprise.schemas import AudienceSchema
from services.notification.schemas import (
    AudiencePreviewSchema,
    PolicyCreateSchema,
    PolicyPageSchema,
    PolicyQuerySchema,
    PolicyReachSchema,
    PolicyReceiptPageSchema,
    PolicyReceiptQuerySchema,
    PolicySchema,
    PolicyUpdateSchema,
    PolicyWithdrawSchema,
)

#: who writes, publishes and withdraws (联络员 and 部门负责人 for their own department)
WRITERS = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD, Role.COORDINATOR, Role.ADMIN})
#: who reads reach statistics and receipts
REACH_READERS = WRITERS | {Role.LEADER}
#: and the receipts: grid staff too, those of their grids' enterprises (who has not read it)
RECEIPT_READERS = REACH_READERS | {Role.GRID_WORKER, Role.GRID_LEADER}


class PolicyCreateBodySchema(PolicyCreateSchema):
    """The gateway checks the audience against the registry's contract (the service asks the
    registry to normalise it again)."""

    audience = fields.Nested(AudienceSchema, load_default=dict, metadata={
        "description": "目标企业: AND across criteria, OR within one; empty means every "
                       "in-scope enterprise"})


class PolicyUpdateBodySchema(PolicyUpdateSchema):
    audience = fields.Nested(AudienceSchema)


def _id(call: Call) -> str:
    return call.path_params["policy_id"]


async def _json(call: Call) -> Any:
    return await call.request.json()


async def create_policy(call: Call) -> JSONResponse:
    created = await call.rpc("notification", "create_policy", await _json(call))
    return JSONResponse(created, status_code=201, headers={
        "Location": f"/api/v1/policies/{created['id']}", "ETag": f'"{created["version"]}"'})


async def list_policies(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "list_policies", dict(call.request.query_params))


async def get_policy(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "get_policy", _id(call))


async def update_policy(call: Call) -> dict[str, Any]:
    payload = await _json(call)
    if call.if_match is not None:
        payload["version"] = call.if_match
    return await call.rpc("notification", "update_policy", _id(call), payload)


async def publish_policy(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "publish_policy", _id(call), **call.expected_version)


async def withdraw_policy(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "withdraw_policy", _id(call), await _json(call),
                          **call.expected_version)


async def policy_reach(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "policy_reach", _id(call))


async def policy_receipts(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "policy_receipts", _id(call),
                          dict(call.request.query_params))


async def preview_audience(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "preview_audience", await _json(call))


ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/policies/audience/preview", preview_audience,
        "Preview an audience", "policies", roles=WRITERS, body=AudienceSchema,
        response=AudiencePreviewSchema, errors=(422,),
        description="How many in-scope enterprises the audience names now, by grid and by "
                    "industry division, before publishing.",
    ),
    Endpoint(
        "POST", "/api/v1/policies", create_policy, "Write a policy", "policies",
        roles=WRITERS, body=PolicyCreateBodySchema, response=PolicySchema, status=201,
        errors=(422,),
        description="A draft policy (政策) or notice (通知). Liaisons and department heads "
                    "write for their own department; coordinators default to theirs; admins "
                    "name `department_id`.",
    ),
    Endpoint(
        "GET", "/api/v1/policies", list_policies, "List policies", "policies",
        query=PolicyQuerySchema, response=PolicyPageSchema, errors=(422,),
        description="Enterprises: the published policies addressed to them (with `read_at`); "
                    "staff: every published or withdrawn policy and their department's "
                    "drafts. `q` searches title and body; `valid_now` keeps those in force.",
    ),
    Endpoint(
        "GET", "/api/v1/policies/{policy_id}", get_policy, "Show a policy", "policies",
        response=PolicySchema, errors=(404,),
        description="An enterprise user opening a published policy leaves its enterprise's "
                    "read receipt (已读回执). Other enterprises' policies are 404.",
    ),
    Endpoint(
        "PATCH", "/api/v1/policies/{policy_id}", update_policy, "Change a draft policy",
        "policies", roles=WRITERS, body=PolicyUpdateBodySchema, response=PolicySchema,
        errors=(403, 404, 409, 412, 422), versioned=True,
        description="Drafts only (409 otherwise). Send the ETag as If-Match (or `version`) "
                    "to refuse a stale write (412).",
    ),
    Endpoint(
        "POST", "/api/v1/policies/{policy_id}/publish", publish_policy, "Publish a policy",
        "policies", roles=WRITERS, response=PolicySchema, errors=(403, 404, 409, 412, 422),
        versioned=True,
        description="Resolves the audience against the registry now, keeps that recipient "
                    "list and puts one message in each enterprise's inbox (and its chosen "
                    "channels). Publishing again answers the published policy; nothing is "
                    "sent twice.",
    ),
    Endpoint(
        "POST", "/api/v1/policies/{policy_id}/withdraw", withdraw_policy,
        "Withdraw a policy", "policies", roles=WRITERS, body=PolicyWithdrawSchema,
        response=PolicySchema, errors=(403, 404, 409, 412, 422), versioned=True,
        description="撤回: the enterprises that received it are told why.",
    ),
    Endpoint(
        "GET", "/api/v1/policies/{policy_id}/reach", policy_reach, "Show a policy's reach",
        "policies", roles=REACH_READERS, response=PolicyReachSchema, errors=(403, 404),
        description="触达统计: targeted, delivered, read and read rate, by grid and by "
                    "industry division; email and WeCom deliveries by state.",
    ),
    Endpoint(
        "GET", "/api/v1/policies/{policy_id}/receipts", policy_receipts,
        "List a policy's read receipts", "policies", roles=RECEIPT_READERS,
        query=PolicyReceiptQuerySchema, response=PolicyReceiptPageSchema,
        errors=(403, 404, 422),
        description="已读回执: each enterprise of the audience with its first read, if any. "
                    "Grid workers and leaders read those of their grids' enterprises only "
                    "(`read=false`: who in my grid has not read it yet).",
    ),
]
