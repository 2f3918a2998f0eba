"""``/api/v1/appraisal``, ``/api/v1/overview`` and ``/api/v1/awards``: the appraisal (考评) of
grid workers, grids, liaisons and departments, the yearly score with the integrity veto
(一票否决), the leaders' overview (总览) and the yearly awards of outstanding grids (评优),
served by the ticketing service (which asks the registry for the grids' growth)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from starlette.responses import Response

from common.auth import Role
from common.calendar import SHANGHAI
from common.i18n import N_
from gateway.endpoints import Call, Endpoint, Handler
from gateway.problems import Problem
from services.ticketing.schemas import (
    AppraisalQuerySchema,
    AppraisalSchema,
    AppraisalSettingsSchema,
    AppraisalYearQuerySchema,
    AwardsQuerySchema,
    AwardsSchema,
    OverviewQuerySchema,
    OverviewSchema,
    VetoListSchema,
    VetoQuerySchema,
    VetoSchema,
    VetoSetSchema,
    YearlySchema,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ADMIN = frozenset({Role.ADMIN})
ALL_OF_IT = frozenset({Role.LEADER, Role.COORDINATOR, Role.ADMIN})
READERS = ALL_OF_IT | {Role.DEPARTMENT_HEAD, Role.GRID_LEADER}
#: path segment → (subject, roles, who they are)
#: segment → (subject, roles, what it is in Chinese, the summaries of reading and exporting)
SUBJECTS: dict[str, tuple[str, frozenset[Role], str, str, str]] = {
    "grid-workers": ("grid_workers", ALL_OF_IT | {Role.GRID_LEADER}, "网格员",
                     N_("Appraise the grid workers"),
                     N_("Export the appraisal of the grid workers")),
    "grids": ("grids", ALL_OF_IT | {Role.GRID_LEADER}, "网格", N_("Appraise the grids"),
              N_("Export the appraisal of the grids")),
    "liaisons": ("liaisons", ALL_OF_IT | {Role.DEPARTMENT_HEAD}, "联络员",
                 N_("Appraise the liaisons"), N_("Export the appraisal of the liaisons")),
    "departments": ("departments", ALL_OF_IT | {Role.DEPARTMENT_HEAD}, "责任部门",
                    N_("Appraise the departments"),
                    N_("Export the appraisal of the departments")),
}
SCOPE = (" Leaders, coordinators and admins see every subject; department heads their "
         "department and its liaisons; grid leaders their grids and the grid workers who "
         "recorded demands in them.")
DEFINITIONS = (" Figures cover the demands received from `from` to `to` (+08:00, both days "
               "included) and their tasks; open work past a deadline counts as late now. "
               "Rates are shares from 0 to 1 (null when nothing was due): 分理及时率 "
               "(triage_on_time_rate), 受理及时率 (acceptance_on_time_rate: accepted or "
               "returned in time), 响应率 (response_rate: accepted in time), 办理及时率 "
               "(handling_on_time_rate), 解决率 (resolution_rate: 自动销号 over 自动销号 + "
               "内部销号), 满意率 (satisfaction_rate: ratings with no dimension below 3), "
               "unrated_share, reopen_rate; average ratings per dimension (1-5).")


def _xlsx(encoded: Any, name: str) -> Response:
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise Problem(502, "the ticketing service sent an unreadable file",
                      code="service.unreadable_file") from exc
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")
    return Response(content, media_type=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.xlsx"',
        "Cache-Control": "no-store",
    })


def _period_handlers(segment: str, subject: str) -> tuple[Handler, Handler]:
    async def read(call: Call) -> dict[str, Any]:
        return await call.rpc("ticketing", "appraisal", subject,
                              dict(call.request.query_params))

    async def export(call: Call) -> Response:
        encoded = await call.rpc("ticketing", "export_appraisal", subject,
                                 dict(call.request.query_params))
        return _xlsx(encoded, f"appraisal-{segment}")

    name = subject.replace("-", "_")
    read.__name__ = f"appraise_{name}"
    export.__name__ = f"export_appraisal_{name}"
    return read, export


async def appraisal_yearly(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "appraisal_yearly", dict(call.request.query_params))


async def export_appraisal_yearly(call: Call) -> Response:
    encoded = await call.rpc("ticketing", "export_appraisal_yearly",
                             dict(call.request.query_params))
    return _xlsx(encoded, f"appraisal-{call.query['subject']}-{call.query['year']}")


async def get_appraisal_settings(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "get_appraisal_settings")


async def update_appraisal_settings(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "update_appraisal_settings", await call.request.json(),
                          **call.expected_version)


async def list_appraisal_vetoes(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_appraisal_vetoes", dict(call.request.query_params))


async def set_appraisal_veto(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "set_appraisal_veto", await call.request.json())


async def get_overview(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "overview", dict(call.request.query_params))


async def list_awards(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "awards", dict(call.request.query_params))


def _subject_endpoints() -> list[Endpoint]:
    endpoints = []
    for segment, (subject, roles, label, summary, export_summary) in SUBJECTS.items():
        read, export = _period_handlers(segment, subject)
        path = f"/api/v1/appraisal/{segment}"
        endpoints += [
            Endpoint("GET", path, read, summary,
                     "appraisal", roles=roles, query=AppraisalQuerySchema,
                     response=AppraisalSchema, errors=(403, 422),
                     description=f"考评 of {label} for a period." + DEFINITIONS + SCOPE),
            Endpoint("GET", f"{path}/export.xlsx", export,
                     export_summary, "appraisal",
                     roles=roles, query=AppraisalQuerySchema, errors=(403, 422),
                     download_media=XLSX_MIME,
                     description=f"考评 of {label} for a period as an XLSX file (one row per "
                     "subject, Chinese headers)." + SCOPE),
        ]
    return endpoints


ENDPOINTS = [
    *_subject_endpoints(),
    Endpoint(
        "GET", "/api/v1/appraisal/yearly", appraisal_yearly, "Show the yearly scores",
        "appraisal", roles=READERS, query=AppraisalYearQuerySchema, response=YearlySchema,
        errors=(403, 422),
        description="年度考核得分 and ranking of one kind of subject (`subject`: grid_workers, "
        "grids, liaisons, departments) for the demands received in `year`: the weighted mean "
        "of quantity (100 × handled / the most handled), quality (100 × 满意率; left out "
        "without ratings) and difficulty (100 × mean points / the highest points), 0 when "
        "vetoed (一票否决); ties share a rank. Scores and ranks are computed over every "
        "subject of the kind." + SCOPE,
    ),
    Endpoint(
        "GET", "/api/v1/appraisal/yearly/export.xlsx", export_appraisal_yearly,
        "Export the yearly scores", "appraisal", roles=READERS,
        query=AppraisalYearQuerySchema, errors=(403, 422), download_media=XLSX_MIME,
        description="The yearly scores and ranking as an XLSX file." + SCOPE,
    ),
    Endpoint(
        "GET", "/api/v1/appraisal/settings", get_appraisal_settings,
        "Show the appraisal settings", "appraisal", roles=READERS,
        response=AppraisalSettingsSchema,
        description="The score weights, difficulty points (by difficulty, plus extra points "
        "by category) and award criteria in force.",
    ),
    Endpoint(
        "PUT", "/api/v1/appraisal/settings", update_appraisal_settings,
        "Change the appraisal settings", "appraisal", roles=ADMIN,
        body=AppraisalSettingsSchema, response=AppraisalSettingsSchema,
        errors=(400, 412, 413, 415, 422), versioned=True,
        description="Replace all the settings; weights count by their ratios (not all 0); "
        "points for every difficulty. Announced as `appraisal_settings_changed`. Send the "
        "ETag as If-Match (or `version`) to refuse a stale write (412); a change bumps "
        "`version`.",
    ),
    Endpoint(
        "GET", "/api/v1/appraisal/vetoes", list_appraisal_vetoes, "List the vetoes",
        "appraisal", roles=ALL_OF_IT, query=VetoQuerySchema, response=VetoListSchema,
        errors=(403, 422),
        description="一票否决 records (active and lifted: who, when, why), of one `year` or "
        "all.",
    ),
    Endpoint(
        "PUT", "/api/v1/appraisal/vetoes", set_appraisal_veto, "Set or lift a veto",
        "appraisal", roles=ADMIN, body=VetoSetSchema, response=VetoSchema,
        errors=(400, 404, 413, 415, 422),
        description="廉洁自律考核: `vetoed: true` zeroes the subject's score for the year "
        "(with the reason, recorded by whom and when); `vetoed: false` lifts it (kept with "
        "who lifted it and why; 404 if none was set). Grids and departments must exist in "
        "the registry (422). Announced as `appraisal_veto_changed`.",
    ),
    Endpoint(
        "GET", "/api/v1/overview", get_overview, "Show the overview", "appraisal",
        roles=READERS, query=OverviewQuerySchema, response=OverviewSchema,
        errors=(403, 422),
        description="领导总览 of a period: demands received and closed (by the date of each), "
        "open and overdue ones among those received (overdue: a task completed after its "
        "handling deadline, open past it, or breached), by category, by department, by "
        "month; the grids with the most overdue work; the enterprises with repeated demands "
        "(2 or more). Department heads see the demands with a task of their department, grid "
        "leaders their grids'.",
    ),
    Endpoint(
        "GET", "/api/v1/awards", list_awards, "List the yearly awards", "appraisal",
        roles=READERS, query=AwardsQuerySchema, response=AwardsSchema, errors=(403, 422),
        description="年终优秀奖励: every grid ranked by the weighted mean of its yearly "
        "service score and the growth of its in-scope enterprises' output value (产值) and "
        "tax (税收) over the year before (100 × growth / the best growth; a fall scores 0); "
        "the top `count` eligible grids (not vetoed, service score at least "
        "`min_service_score`) are awarded. Department heads see the grids their department "
        "owns, grid leaders their grids.",
    ),
]
