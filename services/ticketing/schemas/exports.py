"""Ticketing's contract for the ledger's exports (``api/exports.py``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import (
    JsonBoolean,
    LocalDateTime,
)
from services.ticketing.schemas.closure import LEDGER_VIEWS, LedgerFilterSchema


class LedgerExportQuerySchema(LedgerFilterSchema):
    view = fields.String(load_default="problems", validate=validate.OneOf(LEDGER_VIEWS))


def _json_boolean(description: str) -> fields.Boolean:
    """A flag in a JSON body: true or false only (a query string's "1" or "yes" is text there,
    and 0 or 1 in JSON is a number, which the document does not allow; a set of {False}
    let 0 through, 0 == False)."""
    return JsonBoolean(metadata={"description": description})


class LedgerExportBodySchema(LedgerExportQuerySchema):
    """The body of ``POST /ledger/exports``: the ledger's filters as JSON."""

    overdue = _json_boolean("超时: a task open past its handling deadline or completed after it "
                            "(the task list: that task), or the triage late")
    escalated = _json_boolean("督办: a task escalated (the task list: that task)")
    awaiting_resolution = _json_boolean("problems: rated dissatisfied, waiting for a coordinator")


EXPORT_STATES = ("pending", "running", "done", "failed")


class ExportSchema(Schema):
    """导出: a ledger export built in the background, with its progress."""

    id = fields.String(required=True)
    view = fields.String(required=True, validate=validate.OneOf(LEDGER_VIEWS))
    status = fields.String(required=True, validate=validate.OneOf(EXPORT_STATES), metadata={
        "description": "pending, running, done (the file is ready) or failed"})
    progress = fields.Integer(required=True, metadata={
        "description": "0-100: the share of the work done so far (the list's rows written to "
                       "its sheet count for a fifth, their steps for the rest)"})
    rows_listed = fields.Integer(required=True, metadata={
        "description": "rows of the list written to its sheet so far"})
    rows_done = fields.Integer(required=True, metadata={
        "description": "rows whose steps (办理过程) are written too"})
    rows_total = fields.Integer(required=True, metadata={"description": "rows of the list"})
    size = fields.Integer(allow_none=True, metadata={"description": "bytes of the file"})
    file = fields.String(allow_none=True, metadata={
        "description": "where to download the file once done"})
    error = fields.String(allow_none=True)
    created_at = LocalDateTime(required=True)
    finished_at = LocalDateTime(allow_none=True)
