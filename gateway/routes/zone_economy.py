"""``/api/v1/zone/economy`` and ``/api/v1/zone/business-environment``: the zone's economic
figures (整体经济运行) from the enterprise service, and the platform's own service figures
(营商环境) from ticketing, where the appraisal defines them.

The import takes the raw XLSX or CSV file as the body, as the enterprise import does
(:mod:`gateway.routes.imports`).
"""

from __future__ import annotations

import base64
from typing import Any

from common.auth import Role
from common.errors import field_error
from gateway.endpoints import ALL_ROLES, Call, Endpoint
from gateway.problems import Problem
from gateway.routes.imports import IMPORT_TIMEOUT_SECONDS, XLSX_MIME, upload_format
from services.enterprise.schemas import ImportQuerySchema, ImportResultSchema
from services.enterprise.zone.schemas import (
    EconomySeriesQuerySchema,
    EconomySeriesSchema,
    EconomySummaryQuerySchema,
    EconomySummarySchema,
    EnterpriseFiguresPageSchema,
    EnterpriseFiguresQuerySchema,
    EnterpriseSeriesSchema,
    FigureAccessSchema,
    ReportedPeriodsSchema,
    SeriesQuerySchema,
)
from services.ticketing.schemas import BusinessEnvironmentQuerySchema, BusinessEnvironmentSchema

STAFF = ALL_ROLES - {Role.ENTERPRISE}
IMPORTERS = frozenset({Role.ADMIN, Role.COORDINATOR})
ADMIN = frozenset({Role.ADMIN})
GRANT = ("Per-enterprise figures are for the roles and departments the admin grants "
         "(`/api/v1/zone/economy/access`; default 经济发展部, 财政金融部 and leaders), each "
         "within the enterprises it reads (grid staff: their grids); anyone else gets 403. "
         "Every read is written to the audit log with the enterprises read.")


def _params(call: Call) -> dict[str, Any]:
    return dict(call.request.query_params)


async def import_figures(call: Call) -> dict[str, Any]:
    fmt = upload_format(call)
    raw = await call.request.body()
    if not raw:
        raise Problem(422, "the file is empty; send the XLSX or CSV file",
                      {"file": [field_error("import.file_empty", "empty")]},
                      code="import.file_empty")
    timeout = max(call.request.app.state.settings.rpc_timeout_seconds, IMPORT_TIMEOUT_SECONDS)
    return await call.rpc("enterprise", "import_figures", base64.b64encode(raw).decode("ascii"),
                          fmt, call.query["dry_run"], timeout=timeout)


async def economy_summary(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "economy_summary", _params(call))


async def economy_series(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "economy_series", _params(call))


async def reported_periods(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "reported_periods")


async def enterprise_figures(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "enterprise_figures", _params(call))


async def enterprise_figure_series(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "enterprise_figure_series",
                          call.path_params["enterprise_id"], _params(call))


async def get_figure_access(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_figure_access")


async def set_figure_access(call: Call) -> dict[str, Any]:
    payload = await call.request.json()
    payload.pop("version", None)
    version = call.if_match if call.if_match is not None else call.body.get("version")
    return await call.rpc("enterprise", "set_figure_access", payload, expected_version=version)


async def business_environment(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "business_environment", _params(call))


ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/zone/economy/import", import_figures, "Import economic figures",
        "zone", roles=IMPORTERS, query=ImportQuerySchema, response=ImportResultSchema,
        errors=(400, 413, 415, 422, 409), upload_media=(XLSX_MIME, "text/csv"),
        description=(
            "The statistics office's file (统计局报表): the raw XLSX or CSV file as the body. Row "
            "1 is the header: 统一社会信用代码, the period as 报告期 (2025-06, 2025年6月, 2025-Q2, "
            "2025年第二季度) or as 年份 with 月份 or 季度, and any of 产值, 营业收入, 税收, "
            "研发投入 (万元) and 从业人员 (persons; at the period's end); a unit in brackets "
            "is ignored. Each row: one enterprise's figures for one month or quarter (当期, not "
            "cumulative); an empty cell is not reported, never zero. Idempotent on "
            "(enterprise, period); an empty cell keeps the stored figure. Rows with errors are "
            "listed (row, column, reason) and skipped; `dry_run=true` writes nothing."),
    ),
    Endpoint(
        "GET", "/api/v1/zone/economy/summary", economy_summary, "Summarise the economy",
        "zone", roles=STAFF, query=EconomySummaryQuerySchema, response=EconomySummarySchema,
        errors=(422,),
        description=(
            "整体经济运行 of a month, quarter or year by zone, grid, industry division, leading "
            "industry or carrier: each group's sum over the enterprises that reported, how "
            "many did, the same period a year earlier and the year-on-year growth. A group "
            "where none reported is `not_reported` (value null, never 0). A quarter (year) "
            "counts an enterprise only with all its months (quarters). Unless the caller is "
            "granted the per-enterprise figures and reads the whole registry, figures that "
            "fewer than 5 enterprises stand for, or that subtraction from other released "
            "figures would narrow to fewer than 5, are `suppressed`."),
    ),
    Endpoint(
        "GET", "/api/v1/zone/economy/series", economy_series, "Show a group's figures over time",
        "zone", roles=STAFF, query=EconomySeriesQuerySchema, response=EconomySeriesSchema,
        errors=(404, 422),
        description=("One group (`by` and `key`; the zone by default) period by period, months "
                     "or quarters or years, at most 36: the months not reported show as "
                     "`not_reported`. The same release rules as the summary."),
    ),
    Endpoint(
        "GET", "/api/v1/zone/economy/periods", reported_periods, "List the reported periods",
        "zone", roles=STAFF, response=ReportedPeriodsSchema,
        description="The months and quarters with any figure, newest first, and how many "
        "enterprises reported each.",
    ),
    Endpoint(
        "GET", "/api/v1/zone/economy/enterprises", enterprise_figures,
        "List enterprises' figures", "zone", roles=STAFF, query=EnterpriseFiguresQuerySchema,
        response=EnterpriseFiguresPageSchema, errors=(403, 404, 422),
        description=("The figures of a period, enterprise by enterprise, with the year before "
                     "(in-scope enterprises that did not report show as not reported). "
                     + GRANT),
    ),
    Endpoint(
        "GET", "/api/v1/zone/economy/enterprises/{enterprise_id}", enterprise_figure_series,
        "Show an enterprise's figures", "zone", roles=STAFF, query=SeriesQuerySchema,
        response=EnterpriseSeriesSchema, errors=(403, 404, 422),
        description="One enterprise's figures period by period. " + GRANT,
    ),
    Endpoint(
        "GET", "/api/v1/zone/economy/access", get_figure_access,
        "Show who sees per-enterprise figures", "zone", roles=ADMIN,
        response=FigureAccessSchema,
    ),
    Endpoint(
        "PUT", "/api/v1/zone/economy/access", set_figure_access,
        "Grant the per-enterprise figures", "zone", roles=ADMIN, body=FigureAccessSchema,
        response=FigureAccessSchema, errors=(412, 422), versioned=True,
        description=("The roles and departments that see per-enterprise figures (tax, "
                     "revenue and the others). Send the ETag as If-Match (or `version`)."),
    ),
    Endpoint(
        "GET", "/api/v1/zone/business-environment", business_environment,
        "Show the business environment", "zone", roles=STAFF,
        query=BusinessEnvironmentQuerySchema, response=BusinessEnvironmentSchema,
        errors=(422,),
        description=(
            "营商环境: the platform's own service figures for the demands received each month, "
            "with the appraisal's definitions (ticketing, 考评): response, resolution and "
            "satisfaction rates, average handling working days, escalations; for the zone and "
            "by department (leaders, coordinators, admins: every department; department heads "
            "and liaisons: their own)."),
    ),
]
