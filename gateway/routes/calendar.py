"""``/api/v1/calendar``: China's working-day calendar as the platform applies it."""

from __future__ import annotations

from typing import Any

from gateway.endpoints import Call, Endpoint
from services.ticketing.schemas import TriageDeadlineQuerySchema, TriageDeadlineSchema


async def triage_deadline(call: Call) -> dict[str, Any]:
    """10:00 of the first working day after the day received (分理时限), 调休 included."""
    return await call.rpc(
        "ticketing", "triage_deadline", call.request.query_params["received_at"]
    )


ENDPOINTS = [
    Endpoint(
        "GET", "/api/v1/calendar/triage-deadline", triage_deadline,
        "Compute a triage deadline", "calendar",
        query=TriageDeadlineQuerySchema, response=TriageDeadlineSchema, errors=(422,),
    ),
]
