"""``/api/v1/deliveries``: the delivery log of email and WeCom messages (admins), served by
notification."""

from __future__ import annotations

from typing import Any

from common.auth import Role
from gateway.endpoints import Call, Endpoint
from services.notification.schemas import DeliveryPageSchema, DeliveryQuerySchema, DeliverySchema

ADMIN = frozenset({Role.ADMIN})


async def list_deliveries(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "list_deliveries", dict(call.request.query_params))


async def retry_delivery(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "retry_delivery", call.path_params["delivery_id"])


ENDPOINTS = [
    Endpoint(
        "GET", "/api/v1/deliveries", list_deliveries, "List deliveries", "inbox",
        roles=ADMIN, query=DeliveryQuerySchema, response=DeliveryPageSchema, errors=(422,),
        description="Email and WeCom deliveries of inbox messages, newest first; "
                    "`state=dead` lists those given up after too many attempts.",
    ),
    Endpoint(
        "POST", "/api/v1/deliveries/{delivery_id}/retry", retry_delivery,
        "Retry a dead delivery", "inbox", roles=ADMIN, response=DeliverySchema,
        errors=(404, 409),
        description="Puts a dead delivery back in the queue with its attempts reset.",
    ),
]
