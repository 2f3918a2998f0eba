"""RPC entrypoints: the economic figures (经济运行): import, aggregates, series, the figures
of enterprises (granted and audited) and the grant itself."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import Conflict, ValidationFailed, field_error
from common.validation import load
from services.enterprise import spreadsheet
from services.enterprise.api.imports import FORMATS, decode_upload
from services.enterprise.contracts import today_in_shanghai
from services.enterprise.schemas import ImportResultSchema
from services.enterprise.zone import access, disclosure, economy, figure_import
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

log = logging.getLogger(__name__)


class EconomyApi:
    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def import_figures(self, content_b64: str, fmt: str = "xlsx",
                       dry_run: bool = False) -> dict[str, Any]:
        """The statistics office's figures from an XLSX or CSV file (``ImportResultSchema``):
        coordinators and admins; rows with errors are listed and skipped."""
        principal = access.check_editor(self.caller.principal)
        if fmt not in FORMATS:
            raise ValidationFailed("unknown format {format}", {"format": [field_error(
                "import.unknown_format", "xlsx or csv")]}, code="import.unknown_format",
                params={"format": repr(fmt)})
        if not isinstance(dry_run, bool):
            raise ValidationFailed("dry_run must be true or false", {"dry_run": [field_error(
                "field.not_boolean", "not a boolean")]}, code="import.dry_run_invalid")
        table = spreadsheet.read_table(decode_upload(content_b64), fmt)
        try:
            with self.db.transaction() as session:
                result = figure_import.import_table(session, table, principal.user_id,
                                                    dry_run, today_in_shanghai())
        except IntegrityError as exc:
            log.warning("figure import collided with a concurrent change", exc_info=True)
            raise Conflict("the figures changed while importing; import the file again",
                           code="import.concurrent_change") from exc
        log.info("figure import by %s: %s rows, %s created, %s updated, %s unchanged, "
                 "%s rejected%s", principal.user_id, result.rows, result.created,
                 result.updated, result.unchanged, result.rejected,
                 " (dry run)" if dry_run else "")
        return ImportResultSchema().dump(result.as_dict(self.caller.language))

    @rpc
    def economy_summary(self, query: dict[str, Any]) -> dict[str, Any]:
        access.check_reader(self.caller.principal)
        q = load(EconomySummaryQuerySchema(), query)
        with self.db.transaction() as session:
            return EconomySummarySchema().dump(economy.summary(
                session, self.caller.principal, q, self.caller.language))

    @rpc
    def economy_series(self, query: dict[str, Any]) -> dict[str, Any]:
        access.check_reader(self.caller.principal)
        q = load(EconomySeriesQuerySchema(), query)
        with self.db.transaction() as session:
            return EconomySeriesSchema().dump(economy.series(
                session, self.caller.principal, q, self.caller.language))

    @rpc
    def reported_periods(self) -> dict[str, Any]:
        access.check_reader(self.caller.principal)
        with self.db.transaction() as session:
            return ReportedPeriodsSchema().dump(economy.reported_periods(session))

    @rpc
    def enterprise_figures(self, query: dict[str, Any]) -> dict[str, Any]:
        """Per-enterprise figures of a period: granted callers only, every read audited."""
        principal = access.check_reader(self.caller.principal)
        q = load(EnterpriseFiguresQuerySchema(), query)
        with self.db.transaction() as session:
            return EnterpriseFiguresPageSchema().dump(economy.enterprises(
                session, principal, q, self.caller.request_id, self.caller.language))

    @rpc
    def enterprise_figure_series(self, enterprise_id: str, query: dict[str, Any]
                                 ) -> dict[str, Any]:
        principal = access.check_reader(self.caller.principal)
        q = load(SeriesQuerySchema(), query)
        with self.db.transaction() as session:
            return EnterpriseSeriesSchema().dump(economy.enterprise_series(
                session, principal, enterprise_id, q, self.caller.request_id,
                self.caller.language))

    @rpc
    def get_figure_access(self) -> dict[str, Any]:
        access.check_editor(self.caller.principal, access.ADMINS)
        with self.db.transaction() as session:
            return FigureAccessSchema().dump(disclosure.grant(session))

    @rpc
    def set_figure_access(self, payload: dict[str, Any], expected_version: Any = None
                          ) -> dict[str, Any]:
        access.check_editor(self.caller.principal, access.ADMINS)
        data = load(FigureAccessSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            return FigureAccessSchema().dump(disclosure.set_grant(
                session, self.caller.principal, data,
                in_body if expected is None else expected))
