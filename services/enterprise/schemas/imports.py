"""The registry's contract for the bulk import and export of enterprises (``api/imports.py``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import LocalDateTime
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported

# --- bulk import and export -------------------------------------------------------------------

class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False)
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


class RowErrorSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "1-based, header is row 1"})
    field = fields.String(required=True)
    code = fields.String(required=True, metadata={
        "description": "why, for programs: stable (enterprise.credit_code_check_digit)"})
    reason = fields.String(required=True, metadata={
        "description": "why, for people: in the request's language"})


class ImportResultSchema(Schema):
    dry_run = fields.Boolean(required=True)
    rows = fields.Integer(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    errors = fields.List(fields.Nested(RowErrorSchema), required=True)


IMPORT_JOB_STATES = ("pending", "running", "done", "failed")


class ImportFailureSchema(Schema):
    code = fields.String(required=True, metadata={"description": "why, for programs"})
    reason = fields.String(required=True, metadata={
        "description": "why, for people: in the request's language"})


class ImportJobSchema(Schema):
    """导入任务: an import of enterprises done in batches in the background, with its progress,
    its counts and row errors so far, and once done its summary."""

    id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(IMPORT_JOB_STATES), metadata={
        "description": "pending (waiting for the import runner), running, done (the counts are "
        "the summary) or failed (`error` says why; the batches before it stay imported)"})
    dry_run = fields.Boolean(required=True, metadata={
        "description": "a check: the counts and errors of a real run, nothing written"})
    format = fields.String(required=True, validate=validate.OneOf(("xlsx", "csv")))
    progress = fields.Integer(required=True, metadata={
        "description": "0-100: the share of the file's rows handled"})
    rows_total = fields.Integer(allow_none=True, required=True, metadata={
        "description": "data rows of the file; null until the file is read"})
    rows_done = fields.Integer(required=True, metadata={
        "description": "data rows handled so far (imported, unchanged or rejected)"})
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True, metadata={"description": "rows with an error"})
    errors_total = fields.Integer(required=True, metadata={
        "description": "row errors so far; `errors` shows the first 1,000 by row"})
    errors = fields.List(fields.Nested(RowErrorSchema), required=True)
    error = fields.Nested(ImportFailureSchema, allow_none=True, required=True, metadata={
        "description": "why a failed job stopped (an unreadable file, a header without the "
        "required columns, interrupted too often)"})
    attempts = fields.Integer(required=True, metadata={
        "description": "runs of the job: more than one when its runner was stopped and the "
        "job resumed where its last batch ended"})
    created_at = LocalDateTime(required=True)
    finished_at = LocalDateTime(allow_none=True, required=True)
