"""``/api/v1/ledger``: the ledger (台账) of every step, its three lists (问题清单, 任务清单,
落实清单) and their XLSX export, served by the ticketing service."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from common.auth import Role
from common.calendar import SHANGHAI
from gateway.endpoints import Call, Endpoint
from gateway.problems import Problem

# to be imported from services.ticketing.schemas once they are moved there
from services.ticketing.schemas import (
    DonePageSchema,
    ExportSchema,
    LedgerExportBodySchema,
    LedgerExportQuerySchema,
    LedgerPageSchema,
    LedgerQuerySchema,
    LedgerViewQuerySchema,
    ProblemPageSchema,
    TaskItemPageSchema,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: how long a ledger export may take to build (50,000 rows at most)
EXPORT_SECONDS = 600
log = logging.getLogger(__name__)
#: the exports being built by this gateway (kept referenced until they finish)
_RUNNING: set[asyncio.Task[Any]] = set()


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
    encoded = await call.rpc("ticketing", "export_ledger", dict(call.request.query_params),
                             timeout=EXPORT_SECONDS)
    content = _decoded(encoded)
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")
    return Response(content, media_type=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="ledger-{call.query["view"]}-{stamp}.xlsx"',
        "Cache-Control": "no-store",
    })


def _decoded(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise Problem(502, "the ticketing service sent an unreadable file",
                      code="service.unreadable_file") from exc


async def start_export(call: Call) -> JSONResponse:
    """A ledger export built in the background: 202 with its place (``Location``), where its
    progress is read; the file once done."""
    query = await call.request.json()
    export = await call.rpc("ticketing", "create_ledger_export", query)

    async def run() -> None:
        try:
            await call.rpc("ticketing", "run_ledger_export", export["id"],
                           timeout=EXPORT_SECONDS)
        except Exception:  # recorded as failed by the service; the console reads it there
            log.warning("ledger export %s failed", export["id"], exc_info=True)

    task = asyncio.create_task(run())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return JSONResponse(export, status_code=202,
                        headers={"Location": f"/api/v1/exports/{export['id']}"})


async def get_export(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "get_export", call.path_params["export_id"])


async def export_file(call: Call) -> StreamingResponse:
    """The finished file, streamed piece by piece as the service hands it over."""
    export_id = call.path_params["export_id"]
    first = await call.rpc("ticketing", "export_chunk", export_id, 0)

    async def pieces() -> Any:
        yield _decoded(first["data"])
        for index in range(1, first["chunks"]):
            piece = await call.rpc("ticketing", "export_chunk", export_id, index)
            yield _decoded(piece["data"])

    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")
    return StreamingResponse(pieces(), media_type=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="ledger-{first["view"]}-{stamp}.xlsx"',
        "Content-Length": str(first["size"]), "Cache-Control": "no-store"})


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
        + XLSX_MIME + "), at most 50,000 rows: the list (names, Chinese labels, times in "
        "Asia/Shanghai) and 办理过程, every step of its demands with who and when (internal "
        "notes only for readers of them). Text that a spreadsheet would run as a formula "
        "starts with an apostrophe. For a progress figure use `POST /api/v1/ledger/exports`."
        + SCOPE,
    ),
    Endpoint(
        "POST", "/api/v1/ledger/exports", start_export, "Start a ledger export", "ledger",
        roles=READERS, body=LedgerExportBodySchema, response=ExportSchema, status=202,
        errors=(400, 403, 409, 415, 422),
        description="The same workbook as `GET /api/v1/ledger/export.xlsx`, built in the "
        "background: 202 with `Location: /api/v1/exports/{id}`, where `progress` (0-100) "
        "is read while it runs and `file` names the download once `status` is done. Body: "
        "`view` and the lists' filters. 409 while two of the caller's exports are still "
        "being made." + SCOPE,
    ),
    Endpoint(
        "GET", "/api/v1/exports/{export_id}", get_export, "Show an export", "ledger",
        roles=READERS, response=ExportSchema, errors=(404,),
        description="An export of the caller's (404 for anyone else): status, progress "
        "(0-100), rows done of rows total, and the file's place once done; kept 24 hours.",
    ),
    Endpoint(
        "GET", "/api/v1/exports/{export_id}/file", export_file, "Download an export",
        "ledger", roles=READERS, errors=(404, 409), download_media=XLSX_MIME,
        description="The finished file of an export of the caller's, streamed; 409 while "
        "it is being built.",
    ),
]
