"""Ticketing's contract for the supervision list (督办, ``api/supervision.py``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import (
    LocalDateTime,
    SearchText,
)

# =========================================================================== 督办 supervision list

SUPERVISION_STATES = ("overdue", "due_soon", "escalated")
SUPERVISION_STAGES = ("triage", "acceptance", "handling")


class SupervisionQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(SUPERVISION_STATES))
    stage = fields.String(validate=validate.OneOf(SUPERVISION_STAGES))
    department_id = SearchText(length=(1, 40))
    grid_id = SearchText(length=(1, 20))
    q = SearchText(length=(1, 50), metadata={"description": "words of the number or title"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class SupervisionItemSchema(Schema):
    demand_id = fields.String(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(allow_none=True)
    grid_id = fields.String(allow_none=True)
    grid_name = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True, metadata={"description": "null: awaiting triage"})
    department_id = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    stage = fields.String(required=True, metadata={"x-dictionary": "supervision_stage"})
    due_at = LocalDateTime(allow_none=True)
    due_provisional = fields.Boolean(required=True, metadata={
        "description": "the deadline falls in or is counted across a year without a loaded "
                       "working-day table"})
    escalation_level = fields.Integer(required=True)
    overdue = fields.Boolean(required=True)
    due_soon = fields.Boolean(required=True, metadata={
        "description": "due within one working day"})
    escalated = fields.Boolean(required=True)


class SupervisionCountSchema(Schema):
    department_id = fields.String(allow_none=True)
    grid_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    overdue = fields.Integer(required=True)
    due_soon = fields.Integer(required=True)
    escalated = fields.Integer(required=True)


class SupervisionTotalsSchema(Schema):
    overdue = fields.Integer(required=True)
    due_soon = fields.Integer(required=True)
    escalated = fields.Integer(required=True)


class SupervisionPageSchema(Schema):
    as_of = LocalDateTime(required=True)
    horizon = LocalDateTime(required=True, metadata={
        "description": "the end of the one-working-day window"})
    totals = fields.Nested(SupervisionTotalsSchema, required=True)
    by_department = fields.List(fields.Nested(SupervisionCountSchema), required=True)
    by_grid = fields.List(fields.Nested(SupervisionCountSchema), required=True)
    items = fields.List(fields.Nested(SupervisionItemSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
