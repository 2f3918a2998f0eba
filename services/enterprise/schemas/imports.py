"""The registry's contract for the bulk import and export of enterprises (``api/imports.py``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

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
