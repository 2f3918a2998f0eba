"""``/api/v1/deliveries``: the delivery log of email and WeCom messages (admins), served by
notification."""

from __future__ import annotations

from typing import Any

from common.auth import Role
from gateway.endpoints import Call, Endpoint
from services.notification.schemas import DeliveryPageSchema, DeliveryQuerySchema, DeliverySchema

ADMIN = frozenset({Role.ADMIN})


ENTERPRISE_PREFIX = "enterprise:"


async def with_names(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each delivery with ``recipient_name``: the person's or the enterprise's name (an
    enterprise's users share its inbox: ``enterprise:<id>``), from the registry."""
    accounts = sorted({i["recipient"] for i in items
                       if not i["recipient"].startswith(ENTERPRISE_PREFIX)})
    enterprises = sorted({i["recipient"][len(ENTERPRISE_PREFIX):] for i in items
                          if i["recipient"].startswith(ENTERPRISE_PREFIX)})
    found: dict[str, Any] = {}
    if accounts or enterprises:
        found = await call.rpc("enterprise", "names",
                               {"accounts": accounts, "enterprises": enterprises})
    for item in items:
        recipient = item["recipient"]
        if recipient.startswith(ENTERPRISE_PREFIX):
            item["recipient_name"] = (found.get("enterprises") or {}).get(
                recipient[len(ENTERPRISE_PREFIX):])
        else:
            item["recipient_name"] = (found.get("accounts") or {}).get(recipient)
    return items


async def list_deliveries(call: Call) -> dict[str, Any]:
    page = await call.rpc("notification", "list_deliveries", dict(call.request.query_params))
    page["items"] = await with_names(call, page["items"])
    return page


async def retry_delivery(call: Call) -> dict[str, Any]:
    delivery = await call.rpc("notification", "retry_delivery", call.path_params["delivery_id"])
    return (await with_names(call, [delivery]))[0]


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
