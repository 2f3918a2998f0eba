"""``/api/v1/enterprises/import`` and ``/export.xlsx``: bulk import and export of enterprises,
served by the enterprise service.

The import takes the raw file as the request body (not JSON), so its ``Endpoint`` has no
``body=`` schema and the handler reads the body itself; the file goes to the service
base64-encoded because nameko speaks JSON. The gateway's ``MAX_BODY_BYTES`` (1 MiB by default)
bounds the upload: a 1,200-row XLSX is about 100 KB, a 10,000-row one about 800 KB. The
import gets its own RPC timeout (:data:`IMPORT_TIMEOUT_SECONDS`, or ``RPC_TIMEOUT_SECONDS`` if
longer): 10,000 rows take about 5 s.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from common.auth import Role
from common.calendar import SHANGHAI
from common.errors import field_error
from gateway.endpoints import ALL_ROLES, Call, Endpoint
from gateway.problems import Problem
from services.enterprise.schemas import (
    EnterpriseExportQuerySchema,
    ImportJobSchema,
    ImportQuerySchema,
    ImportResultSchema,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Content-Type -> the format it says; None: the ``format`` query parameter decides
CONTENT_TYPES: dict[str, str | None] = {
    XLSX_MIME: "xlsx",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/vnd.ms-excel": None,  # what Windows browsers send for .csv
    "application/octet-stream": None,
}


#: an import of a file near the body limit takes ~7 s here; slower machines get headroom
#: (repeating a timed-out import is safe: it is idempotent on the credit code)
IMPORT_TIMEOUT_SECONDS = 60.0


def upload_format(call: Call) -> str:
    """``xlsx`` or ``csv`` from the ``format`` parameter and the Content-Type; 415 if they
    disagree or the type is not a spreadsheet."""
    content_type = call.request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise Problem(415, "send the file as {xlsx} or text/csv, not {content_type}",
                      code="import.media_type", params={"xlsx": XLSX_MIME,
                                                        "content_type": content_type})
    said = CONTENT_TYPES[content_type]
    asked = call.query["format"] if "format" in call.request.query_params else None
    if said and asked and said != asked:
        raise Problem(415, "format={format} does not match Content-Type {content_type}",
                      code="import.format_mismatch",
                      params={"format": asked, "content_type": content_type})
    return asked or said or "xlsx"


async def import_enterprises(call: Call) -> dict[str, Any]:
    """Import enterprises from the XLSX or CSV file in the body."""
    content, fmt = await _upload(call)
    timeout = max(call.request.app.state.settings.rpc_timeout_seconds, IMPORT_TIMEOUT_SECONDS)
    return await call.rpc("enterprise", "import_enterprises", content, fmt,
                          call.query["dry_run"], timeout=timeout)


#: where import jobs are started, and the largest file they take (the service's limit)
JOB_PATH = "/api/v1/enterprises/imports"
JOB_MAX_BYTES = 10 * 1024 * 1024


async def _upload(call: Call) -> tuple[str, str]:
    fmt = upload_format(call)
    raw = await call.request.body()
    if not raw:
        raise Problem(422, "the file is empty; send the XLSX or CSV file",
                      {"file": [field_error("import.file_empty", "empty")]},
                      code="import.file_empty")
    return base64.b64encode(raw).decode("ascii"), fmt


async def start_import(call: Call) -> JSONResponse:
    """An import job: 202 with its place (``Location``), where its progress is read."""
    content, fmt = await _upload(call)
    job = await call.rpc("enterprise", "create_import_job", content, fmt,
                         call.query["dry_run"])
    return JSONResponse(job, status_code=202,
                        headers={"Location": f"/api/v1/imports/{job['id']}"})


async def get_import(call: Call) -> dict[str, Any]:
    return await call.rpc("enterprise", "get_import_job", call.path_params["import_id"])


async def export_enterprises(call: Call) -> Response:
    """The enterprises the caller may read, as an XLSX file."""
    encoded = await call.rpc("enterprise", "export_enterprises",
                             dict(call.request.query_params))
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise Problem(502, "the enterprise service sent an unreadable file",
                      code="service.unreadable_file") from exc
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")
    return Response(content, media_type=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="enterprises-{stamp}.xlsx"',
        "Cache-Control": "no-store",
    })


async def import_template(call: Call) -> Response:
    """The import's template: the header row the import reads, as an XLSX file."""
    encoded = await call.rpc("enterprise", "import_template")
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise Problem(502, "the enterprise service sent an unreadable file",
                      code="service.unreadable_file") from exc
    return Response(content, media_type=XLSX_MIME, headers={
        "Content-Disposition": 'attachment; filename="enterprise-import-template.xlsx"',
        "Cache-Control": "no-store",
    })


IMPORTERS = frozenset({Role.COORDINATOR, Role.ADMIN})
EXPORTERS = ALL_ROLES - {Role.ENTERPRISE}

ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/enterprises/import", import_enterprises, "Import enterprises",
        "enterprises", roles=IMPORTERS, query=ImportQuerySchema, response=ImportResultSchema,
        errors=(400, 413, 415, 422, 409), upload_media=(XLSX_MIME, "text/csv"),
        description=(
            "Body: the raw file, Content-Type " + XLSX_MIME + " or text/csv (UTF-8, UTF-8 with "
            "BOM or GB18030), at most MAX_BYTES of the gateway (1 MiB by default). Row 1 is the "
            "header: 统一社会信用代码, 企业名称, 地址, 经度, 纬度, 行业代码, 规模 (微型/小型/中型/"
            "大型), 孵化器, 是否在营, 是否有营业收入, 是否纳税 (是/否), 联系人, 联系电话, 标签 "
            "(or the English field names). Idempotent on the credit code: known codes are "
            "updated only if something differs, blank cells keep the stored value. Rows with "
            "errors are listed (row, column, reason) and skipped; `dry_run=true` writes nothing."
            " The whole file is imported in this call (for scripts and small files); for a "
            "large file and a progress figure use `POST /api/v1/enterprises/imports`."
        ),
    ),
    Endpoint(
        "POST", JOB_PATH, start_import, "Start an import of enterprises", "enterprises",
        roles=IMPORTERS, query=ImportQuerySchema, response=ImportJobSchema, status=202,
        errors=(400, 409, 413, 415, 422), upload_media=(XLSX_MIME, "text/csv"),
        description=(
            "The same import as `POST /api/v1/enterprises/import` (the same file, columns and "
            "rules), as a job: the file (at most 10 MiB, 50,000 rows) is stored and answered "
            "202 with `Location: /api/v1/imports/{id}`; the service imports it in batches of "
            "500 rows in the background, each batch written entirely or not at all, while its "
            "other calls keep answering. `dry_run=true` checks every row and writes nothing. "
            "409 while two of the caller's imports are running."
        ),
    ),
    Endpoint(
        "GET", "/api/v1/imports/{import_id}", get_import, "Show an import", "enterprises",
        roles=IMPORTERS, response=ImportJobSchema, errors=(404,),
        description=(
            "An import of the caller's (404 for anyone else's, admins included): `status` "
            "(pending, running, done, failed), `progress` (0-100), rows done of rows total, "
            "the counts and row errors so far (the first 1,000 by row; `errors_total` counts "
            "them all); once done the counts are the summary. A job whose service was stopped "
            "mid-import resumes where its last batch ended; kept 24 hours."
        ),
    ),
    Endpoint(
        "GET", "/api/v1/enterprises/import/template.xlsx", import_template,
        "Download the import template", "enterprises", roles=IMPORTERS,
        download_media=XLSX_MIME,
        description=(
            "导入模板: an XLSX file (" + XLSX_MIME + ") whose first row is the header the "
            "import reads (统一社会信用代码, 企业名称, 地址, 经度, 纬度, 行业代码, 规模, 孵化器, "
            "是否在营, 是否有营业收入, 是否纳税, 联系人, 联系电话, 标签, 优势资源, 上游, 下游); "
            "fill one enterprise per row below it."
        ),
    ),
    Endpoint(
        "GET", "/api/v1/enterprises/export.xlsx", export_enterprises, "Export enterprises",
        "enterprises", roles=EXPORTERS, query=EnterpriseExportQuerySchema, errors=(422,),
        download_media=XLSX_MIME,
        description=(
            "An XLSX file (" + XLSX_MIME + ") of the enterprises the caller may read (grid "
            "staff: their grids), filtered like the listing, in the import's columns plus "
            "行业名称, 网格, 网格来源 and 是否在服务范围; it imports back unchanged. Text that a "
            "spreadsheet would run as a formula starts with an apostrophe."
        ),
    ),
]
