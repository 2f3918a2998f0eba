"""``/api/v1/calendar``: China's working-day calendar (工作日历) as the platform applies it:
the State Council schedule with makeup working weekends (调休), years loaded by an operator."""

from __future__ import annotations

from typing import Any

from common.auth import STAFF_ROLES, Role
from gateway.endpoints import Call, Endpoint
from services.ticketing.schemas import (
    CalendarYearListSchema,
    CalendarYearLoadedSchema,
    CalendarYearLoadSchema,
    CalendarYearPreviewSchema,
    CalendarYearSchema,
    TriageDeadlineQuerySchema,
    TriageDeadlineSchema,
    WorkdaysQuerySchema,
    WorkdaysSchema,
)

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset(STAFF_ROLES)


async def triage_deadline(call: Call) -> dict[str, Any]:
    """10:00 of the first working day after the day received (分理时限), 调休 included."""
    return await call.rpc(
        "ticketing", "triage_deadline", call.request.query_params["received_at"]
    )


async def list_workdays(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "workdays", dict(call.request.query_params))


async def list_calendar_years(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_calendar_years")


async def get_calendar_year(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "get_calendar_year", call.path_params["year"])


async def load_calendar_year(call: Call) -> dict[str, Any]:
    return await call.rpc(
        "ticketing", "load_calendar_year", call.path_params["year"], await call.request.json()
    )


async def preview_calendar_year(call: Call) -> dict[str, Any]:
    return await call.rpc(
        "ticketing", "preview_calendar_year", call.path_params["year"],
        await call.request.json()
    )


ENDPOINTS = [
    Endpoint(
        "GET", "/api/v1/calendar/triage-deadline", triage_deadline,
        "Compute a triage deadline", "calendar",
        query=TriageDeadlineQuerySchema, response=TriageDeadlineSchema, errors=(422,),
    ),
    Endpoint(
        "GET", "/api/v1/calendar/workdays", list_workdays, "List working days", "calendar",
        query=WorkdaysQuerySchema, response=WorkdaysSchema, errors=(422,),
        description="工作日 from `from` to `to` (both included, at most three years), 调休 "
        "weekend days included; `provisional` when a year of the range has no data.",
    ),
    Endpoint(
        "GET", "/api/v1/calendar/years", list_calendar_years, "List calendar years", "calendar",
        roles=STAFF, response=CalendarYearListSchema,
        description="Every year with data and the current and next year, each with its origin: "
        "`chinesecalendar`, `loaded` (by an operator) or `missing` (Monday-Friday assumed).",
    ),
    Endpoint(
        "GET", "/api/v1/calendar/years/{year}", get_calendar_year, "Show a calendar year",
        "calendar", roles=STAFF, response=CalendarYearSchema, errors=(404,),
        description="The schedule in force: the loaded one, else chinesecalendar's; 404 if "
        "neither has the year.",
    ),
    Endpoint(
        "POST", "/api/v1/calendar/years/{year}/preview", preview_calendar_year,
        "Preview a calendar year's load", "calendar", roles=ADMIN, body=CalendarYearLoadSchema,
        response=CalendarYearPreviewSchema, errors=(400, 413, 415, 422),
        description="The same body as loading the year; nothing is stored. Answers the days "
        "the schedule adds to or removes from the one in force, and every demand whose 分理时限 "
        "(triage deadline) the load would move, with its deadline now and after (the load "
        "re-plans the provisional deadlines and those of the demands awaiting triage that "
        "consulted a day of the year). Refused like the load (422 naming the field).",
    ),
    Endpoint(
        "PUT", "/api/v1/calendar/years/{year}", load_calendar_year,
        "Load a calendar year", "calendar", roles=ADMIN, body=CalendarYearLoadSchema,
        response=CalendarYearLoadedSchema, errors=(400, 413, 415, 422),
        description="Load or replace the State Council holiday schedule of a year (放假, 调休). "
        "Provisional triage deadlines are recomputed in the same transaction and each change "
        "is announced as `demand_deadline_changed`.",
    ),
]
