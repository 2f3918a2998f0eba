"""``/api/v1/sla``: the SLA settings (时限设置) and the handling-time table (办理时限 by
category and difficulty), served by the ticketing service."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from common.auth import STAFF_ROLES, Role
from gateway.endpoints import Call, Endpoint
from services.ticketing.schemas import (
    DIFFICULTIES,
    HandlingTimeListSchema,
    HandlingTimeSchema,
    HandlingTimeUpdateSchema,
    SlaSettingsSchema,
)

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset(STAFF_ROLES)
FROM_NOW_ON = (" A change applies to deadlines scheduled from then on; deadlines already "
               "scheduled keep their time. Each change is announced as `sla_settings_changed` "
               "(actor, what).")


async def get_sla_settings(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "get_sla_settings")


async def update_sla_settings(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "update_sla_settings", await call.request.json(),
                          **call.expected_version)


async def list_handling_times(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_handling_times")


async def set_handling_time(call: Call) -> dict[str, Any]:
    params = call.path_params
    return await call.rpc("ticketing", "set_handling_time", params["category"],
                          params["difficulty"], await call.request.json())


async def delete_handling_times(call: Call) -> Response:
    await call.rpc("ticketing", "delete_handling_times", call.path_params["category"])
    return Response(status_code=204)


ENDPOINTS = [
    Endpoint(
        "GET", "/api/v1/sla/settings", get_sla_settings, "Show the SLA settings", "sla",
        roles=STAFF, response=SlaSettingsSchema,
        description="The SLA settings in force, in working days (工作日, 调休 included): "
        "acceptance (受理确认), reminders before a handling deadline (提醒), escalation to the "
        "leader in charge (level 2) and to the leading group (level 3) after the handling "
        "deadline, the rating reminder and the closure of unrated demands.",
    ),
    Endpoint(
        "PUT", "/api/v1/sla/settings", update_sla_settings, "Change the SLA settings", "sla",
        roles=ADMIN, body=SlaSettingsSchema, response=SlaSettingsSchema,
        errors=(400, 412, 413, 415, 422), versioned=True,
        description="Replace all the SLA settings (every field is required); "
        "`close_unrated_workdays` must exceed `rating_reminder_workdays` and the reminder "
        "days must be distinct. Send the ETag as If-Match (or `version`) to refuse a stale "
        "write (412); a change bumps `version`." + FROM_NOW_ON,
    ),
    Endpoint(
        "GET", "/api/v1/sla/handling-times", list_handling_times, "List handling times", "sla",
        roles=STAFF, response=HandlingTimeListSchema,
        description="办理时限 in working days by category and difficulty. Category `*` is the "
        "default for a category without its own row; without either, 10 working days.",
    ),
    Endpoint(
        "PUT", "/api/v1/sla/handling-times/{category}/{difficulty}", set_handling_time,
        "Set a handling time", "sla", roles=ADMIN, body=HandlingTimeUpdateSchema,
        response=HandlingTimeSchema, errors=(400, 413, 415, 422),
        description="Create or change one row (1-250 working days). `category` is `*` (the "
        "default) or a category of the zone's category table (else 422); `difficulty` is one "
        f"of {', '.join(DIFFICULTIES)} (else 422). A handling time set at triage "
        "overrides the table." + FROM_NOW_ON,
    ),
    Endpoint(
        "DELETE", "/api/v1/sla/handling-times/{category}", delete_handling_times,
        "Delete a category's handling times", "sla", roles=ADMIN, status=204,
        errors=(404, 409),
        description="Remove every row of a category, so that the default (`*`) rows apply to "
        "it again; 404 if it has none. The `*` rows cannot be deleted (409): change them."
        + FROM_NOW_ON,
    ),
]
