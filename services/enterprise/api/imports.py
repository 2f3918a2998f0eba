"""RPC entrypoints of the registry: bulk import (批量导入) and export of enterprises.

Files travel base64-encoded because nameko speaks JSON. Parsing, validation and the upsert
live in :mod:`services.enterprise.importer` and :mod:`services.enterprise.spreadsheet`.

Two ways to import: ``import_enterprises`` does the whole file in the call (one worker, one
transaction: for scripts and small files, bounded by the gateway's body limit), and
``create_import_job`` stores the file as a job that the service's import runner
(:mod:`services.enterprise.import_runner`) imports in batches off the RPC workers, its
progress read with ``get_import_job`` (:mod:`services.enterprise.import_jobs`).
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from common.auth import Role
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import Conflict, Forbidden, ValidationFailed, field_error
from common.validation import load
from services.enterprise import access, import_jobs, importer, spreadsheet
from services.enterprise.import_runner import ImportRunner
from services.enterprise.schemas import EnterpriseQuerySchema, ImportJobSchema

log = logging.getLogger(__name__)

IMPORTERS = frozenset({Role.ADMIN, Role.COORDINATOR})
EXPORTERS = access.READ_ALL | access.GRID_ROLES
FORMATS = ("xlsx", "csv")


def decode_upload(content_b64: Any) -> bytes:
    """The uploaded file from base64; ValidationFailed if it is not base64 or too big."""
    if not isinstance(content_b64, str):
        raise ValidationFailed("the file must be sent as base64 text",
                               {"file": [field_error("import.not_base64", "not base64 text")]},
                               code="import.not_base64")
    if len(content_b64) > (spreadsheet.MAX_BYTES + 2) // 3 * 4 + 4:
        raise ValidationFailed("the file may be at most {max} bytes",
                               {"file": [field_error("import.file_too_large", "too large")]},
                               code="import.file_too_large",
                               params={"max": spreadsheet.MAX_BYTES})
    try:
        return base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("the file is not valid base64",
                               {"file": [field_error("import.not_base64", "not base64")]},
                               code="import.not_base64") from exc


def _check_request(principal: Any, fmt: Any, dry_run: Any) -> None:
    if principal.role not in IMPORTERS:
        raise Forbidden("{role} may not import enterprises", code="import.forbidden",
                        params={"role": principal.role_label})
    if fmt not in FORMATS:
        raise ValidationFailed("unknown format {format}", {"format": [field_error(
            "import.unknown_format", "xlsx or csv")]}, code="import.unknown_format",
            params={"format": repr(fmt)})
    if not isinstance(dry_run, bool):
        raise ValidationFailed("dry_run must be true or false", {"dry_run": [field_error(
            "field.not_boolean", "not a boolean")]}, code="import.dry_run_invalid")


class ImportsApi:
    """``import_enterprises``, the import jobs and ``export_enterprises``; needs ``db``,
    ``caller`` and ``import_runner``."""

    db: WorkerDatabase
    caller: CallerContext
    import_runner: ImportRunner

    @rpc
    def import_enterprises(self, content_b64: str, fmt: str = "xlsx",
                           dry_run: bool = False) -> dict[str, Any]:
        """Create or update enterprises from an XLSX or CSV file; ``ImportResultSchema``.

        Admins and coordinators only. Rows with errors are reported and skipped; the others
        are imported (nothing is written with ``dry_run``).
        """
        principal = self.caller.principal
        _check_request(principal, fmt, dry_run)
        table = spreadsheet.read_table(decode_upload(content_b64), fmt)
        try:
            with self.db.transaction() as session:
                result = importer.import_table(session, table, principal.user_id, dry_run,
                                               call_id=self.caller.call_id)
        except IntegrityError as exc:
            log.warning("import collided with a concurrent change", exc_info=True)
            raise Conflict("the enterprises changed while importing; import the file again",
                           code="import.concurrent_change") from exc
        log.info("import by %s: %s rows, %s created, %s updated, %s unchanged, %s rejected%s",
                 principal.user_id, result.rows, result.created, result.updated,
                 result.unchanged, result.rejected, " (dry run)" if dry_run else "")
        return result.as_dict(self.caller.language)

    @rpc
    def create_import_job(self, content_b64: str, fmt: str = "xlsx",
                          dry_run: bool = False) -> dict[str, Any]:
        """A pending import job of the caller's (``ImportJobSchema``): the file is stored
        (checked for its size and, an XLSX, its zip directory), the service's import runner
        reads and imports it in batches. Admins and coordinators only; 409 while two of the
        caller's imports are running."""
        principal = self.caller.principal
        _check_request(principal, fmt, dry_run)
        content = decode_upload(content_b64)
        if fmt == "xlsx":
            spreadsheet.check_zip(content)
        elif not content:
            spreadsheet.read_csv(content)  # the reason an empty file is refused
        with self.db.transaction() as session:
            job = import_jobs.create(session, principal.user_id, content, fmt, dry_run,
                                     call_id=self.caller.call_id)
            shown = ImportJobSchema().dump(import_jobs.dump(session, job,
                                                            self.caller.language))
        self.import_runner.wake()
        return shown

    @rpc
    def get_import_job(self, job_id: str) -> dict[str, Any]:
        """An import job of the caller's: state, progress, counts and row errors so far
        (404 for anyone else's)."""
        principal = self.caller.principal
        if principal.role not in IMPORTERS:
            raise Forbidden("{role} may not import enterprises", code="import.forbidden",
                            params={"role": principal.role_label})
        with self.db.transaction() as session:
            job = import_jobs.owned(session, job_id, principal.user_id)
            return ImportJobSchema().dump(import_jobs.dump(session, job, self.caller.language))

    @rpc
    def import_template(self) -> str:
        """The import's template (导入模板), base64: an XLSX workbook whose one row is the
        header the import reads (统一社会信用代码, 企业名称, ... in ``spreadsheet.COLUMNS``
        order)."""
        principal = self.caller.principal
        if principal.role not in IMPORTERS:
            raise Forbidden("{role} may not import enterprises", code="import.forbidden",
                            params={"role": principal.role_label})
        content = spreadsheet.write_xlsx([c.label for c in spreadsheet.COLUMNS], [])
        return base64.b64encode(content).decode("ascii")

    @rpc
    def export_enterprises(self, query: dict[str, Any] | None = None) -> str:
        """The enterprises the caller may read matching ``query`` (the listing filters q,
        grid_id, industry, scale, tag, in_scope, grid_source) as a base64 XLSX workbook."""
        principal = self.caller.principal
        if principal.role not in EXPORTERS:
            raise Forbidden("{role} may not export enterprises", code="export.forbidden",
                            params={"role": principal.role_label})
        filters = load(EnterpriseQuerySchema(exclude=importer.EXPORT_EXCLUDED), query or {})
        with self.db.transaction() as session:
            content = importer.export_xlsx(session, principal, filters)
        return base64.b64encode(content).decode("ascii")
