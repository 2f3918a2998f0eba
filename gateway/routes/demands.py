"""``/api/v1/demands``: demands (诉求), served by the ticketing service."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse

from common.auth import Role
from common.errors import field_error
from gateway.endpoints import HEADER_VALUE, Call, Endpoint
from gateway.problems import Problem
from gateway.submissions import Abandoned, QueueFull
from services.ticketing.schemas import (
    DemandCreateSchema,
    DemandListQuerySchema,
    DemandPageSchema,
    DemandSchema,
)

MAX_KEY_LENGTH = 200


def idempotency_key(call: Call) -> str | None:
    key = call.request.headers.get("idempotency-key")
    if key is None:
        return None
    if len(key) > MAX_KEY_LENGTH or not HEADER_VALUE.match(key):
        raise Problem(
            400, "Idempotency-Key must be 1-{max} printable ASCII characters",
            {"Idempotency-Key": [field_error("request.idempotency_key_invalid",
                                             "1-{max} printable ASCII characters",
                                             max=MAX_KEY_LENGTH)]},
            code="request.idempotency_key_invalid", params={"max": MAX_KEY_LENGTH},
        )
    return key


#: seconds a refused submission is told to wait (Retry-After)
QUEUE_RETRY_SECONDS = 2


async def _disconnected(call: Call) -> None:
    """Returns when the client has gone away (the body is read: what is left is the
    disconnect)."""
    while True:
        message = await call.request.receive()
        if message["type"] == "http.disconnect":
            return


async def submit_demand(call: Call) -> JSONResponse:
    """Record a demand. The same ``Idempotency-Key`` returns the same demand (200, not 201)."""
    raw = await call.request.json()
    # coalesced with the submissions in flight at the same time (gateway/submissions.py);
    # a client that disconnects while its submission waits takes it out of the queue unsent
    submitting = asyncio.ensure_future(call.request.app.state.submissions.submit(
        call.token, call.call_id, raw, idempotency_key(call)))
    gone = asyncio.ensure_future(_disconnected(call))
    try:
        await asyncio.wait({submitting, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not submitting.done():  # the client went away first
        submitting.cancel()
        return JSONResponse({}, status_code=499)
    try:
        result = submitting.result()
    except QueueFull as exc:
        raise Problem(503, "too many submissions are waiting; retry in {seconds} s",
                      headers={"Retry-After": str(QUEUE_RETRY_SECONDS)},
                      code="submission.queue_full",
                      params={"seconds": QUEUE_RETRY_SECONDS}) from exc
    except Abandoned as exc:
        raise Problem(503, "the submission was not sent in time; retry in {seconds} s",
                      headers={"Retry-After": str(QUEUE_RETRY_SECONDS)},
                      code="submission.not_sent", params={"seconds": QUEUE_RETRY_SECONDS}) from exc
    demand = result["demand"]
    return JSONResponse(
        demand,
        status_code=201 if result["created"] else 200,
        headers={"Location": f"/api/v1/demands/{demand['id']}"},
    )


async def list_demands(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_demands", dict(call.request.query_params))


async def get_demand(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "get_demand", call.path_params["demand_id"])


SUBMITTERS = frozenset(
    {Role.ENTERPRISE, Role.GRID_WORKER, Role.GRID_LEADER, Role.COORDINATOR, Role.ADMIN}
)

ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/demands", submit_demand, "Submit a demand", "demands",
        roles=SUBMITTERS, body=DemandCreateSchema, response=DemandSchema, status=201,
        errors=(400, 403, 409, 413, 415, 422),
        headers={"Idempotency-Key": "Repeat a submission safely: the same key, the same demand"},
    ),
    Endpoint(
        "GET", "/api/v1/demands", list_demands, "List demands", "demands",
        query=DemandListQuerySchema, response=DemandPageSchema, errors=(422,),
        description="Enterprises see their own; grid staff their grids' (and what they "
        "recorded); department staff the demands with a task of their department; "
        "coordinators, leaders and admins everything. Search: `q` (keywords, "
        "Chinese-segmented full text over the title, description, results and public notes; "
        "every word must be there; a demand number finds it), within what the caller sees. "
        "Filters: number, enterprise (name, credit code or id), enterprise_id, "
        "received_from/received_to, category, department_id, grid_id, channel, status, "
        "overdue, escalated. `sort=relevance` is the default with q; more than 10,000 "
        "matches of q are counted as 10,000 with `total_capped` and listed newest first.",
    ),
    Endpoint(
        "GET", "/api/v1/demands/{demand_id}", get_demand, "Show a demand", "demands",
        response=DemandSchema, errors=(404,),
    ),
]
