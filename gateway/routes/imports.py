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

from starlette.responses import Response

from common.auth import Role
from common.calendar import SHANGHAI
from common.errors import field_error
from gateway.endpoints import ALL_ROLES, Call, Endpoint
from gateway.problems import Problem
from services.enterprise.schemas import (
    EnterpriseExportQuerySchema,
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
    fmt = upload_format(call)
    raw = await call.request.body()
    if not raw:
        raise Problem(422, "the file is empty; send the XLSX or CSV file",
                      {"file": [field_error("import.file_empty", "empty")]},
                      code="import.file_empty")
    content = base64.b64encode(raw).decode("ascii")
    timeout = max(call.request.app.state.settings.rpc_timeout_seconds, IMPORT_TIMEOUT_SECONDS)
    return await call.rpc("enterprise", "import_enterprises", content, fmt,
                          call.query["dry_run"], timeout=timeout)


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
