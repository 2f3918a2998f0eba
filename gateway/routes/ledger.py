"""``/api/v1/ledger``: the ledger (台账) of every step, its three lists (问题清单, 任务清单,
落实清单) and their XLSX export, served by the ticketing service."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from starlette.responses import Response

from common.auth import Role
from common.calendar import SHANGHAI
from gateway.endpoints import Call, Endpoint
from gateway.problems import Problem

# to be imported from services.ticketing.schemas once they are moved there
from services.ticketing.schemas import (
    DonePageSchema,
    LedgerExportQuerySchema,
    LedgerPageSchema,
    LedgerQuerySchema,
    LedgerViewQuerySchema,
    ProblemPageSchema,
    TaskItemPageSchema,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def list_ledger(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_ledger", dict(call.request.query_params))


async def ledger_problems(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "ledger_view", "problems",
                          dict(call.request.query_params))


async def ledger_tasks(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "ledger_view", "tasks", dict(call.request.query_params))


async def ledger_done(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "ledger_view", "done", dict(call.request.query_params))


async def export_ledger(call: Call) -> Response:
    """One list of the ledger as an XLSX file."""
    encoded = await call.rpc("ticketing", "export_ledger", dict(call.request.query_params))
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise Problem(502, "the ticketing service sent an unreadable file",
                      code="service.unreadable_file") from exc
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")
    return Response(content, media_type=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="ledger-{call.query["view"]}-{stamp}.xlsx"',
        "Cache-Control": "no-store",
    })


READERS = frozenset(
    {Role.COORDINATOR, Role.LEADER, Role.ADMIN, Role.LIAISON, Role.DEPARTMENT_HEAD}
)
SCOPE = " Department staff (liaisons, department heads) see only their department's part."
FILTERS = (" Search: `q` (keywords, Chinese-segmented full text over the title, description, "
           "results and public notes; every word must be there; a demand number finds it). "
           "Filters: number, enterprise (name, credit code or id), received_from/received_to "
           "(dates, +08:00, on the demand's receipt), department_id, category, grid_id, "
           "channel, state, overdue, escalated. `sort=relevance` (the default with q) or "
           "`date`.")

ENDPOINTS = [
    Endpoint(
        "GET", "/api/v1/ledger", list_ledger, "List ledger entries", "ledger", roles=READERS,
        query=LedgerQuerySchema, response=LedgerPageSchema, errors=(403, 422),
        description="台账: every transition (who by role and id, when, from, to, reason), "
        "newest first." + SCOPE,
    ),
    Endpoint(
        "GET", "/api/v1/ledger/problems", ledger_problems, "List the problem list", "ledger",
        roles=READERS, query=LedgerViewQuerySchema, response=ProblemPageSchema,
        errors=(403, 422),
        description="问题清单: demands with their state, category and departments; "
        "`awaiting_resolution=true` is the coordinators' queue of dissatisfied ratings."
        + FILTERS + SCOPE,
    ),
    Endpoint(
        "GET", "/api/v1/ledger/tasks", ledger_tasks, "List the task list", "ledger",
        roles=READERS, query=LedgerViewQuerySchema, response=TaskItemPageSchema,
        errors=(403, 422),
        description="任务清单: tasks with department, deadlines, state and an overdue flag "
        "(open past the handling deadline, or completed after it); `overdue` filters."
        + FILTERS + SCOPE,
    ),
    Endpoint(
        "GET", "/api/v1/ledger/done", ledger_done, "List the done list", "ledger",
        roles=READERS, query=LedgerViewQuerySchema, response=DonePageSchema,
        errors=(403, 422),
        description="落实清单: closed demands with the closure kind (rated 自动销号, internal "
        "内部销号, unrated) and their ratings; `closure` filters." + FILTERS + SCOPE,
    ),
    Endpoint(
        "GET", "/api/v1/ledger/export.xlsx", export_ledger, "Export a ledger list", "ledger",
        roles=READERS, query=LedgerExportQuerySchema, errors=(403, 422),
        download_media=XLSX_MIME,
        description="`view=problems|tasks|done` with the lists' filters, as an XLSX file ("
        + XLSX_MIME + "), at most 50,000 rows. Text that a spreadsheet would run as a "
        "formula starts with an apostrophe." + SCOPE,
    ),
]
