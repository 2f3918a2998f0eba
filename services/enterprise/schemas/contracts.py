"""The registry's contract for contracts and obligations (协议合同) and visits (走访)
(``api/contracts.py``).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import (
    Id,
    LocalDateTime,
    Text,
    WholeNumber,
)
from common.pagination import PageQuery, page_schema  # noqa: F401 -- re-exported
from services.enterprise.schemas.base import SETTINGS_NOTE

OBLIGATION_PARTIES = ("committee", "enterprise")


# --- contracts and obligations (协议合同) -----------------------------------------------------

class ObligationCreateSchema(Schema):
    party = fields.String(required=True, validate=validate.OneOf(OBLIGATION_PARTIES))
    description = Text(required=True, validate=validate.Length(1, 1000))
    due_on = fields.Date(required=True)
    department_id = fields.String(metadata={"description": "defaults to the contract's"})


class ObligationSchema(Schema):
    id = fields.String(required=True)
    contract_id = fields.String(required=True)
    party = fields.String(required=True)
    description = fields.String(required=True)
    due_on = fields.Date(required=True)
    department_id = fields.String(required=True)
    fulfilled_at = LocalDateTime(allow_none=True)
    remind_on = fields.Date(allow_none=True)
    remind_on_provisional = fields.Boolean(required=True, metadata={
        "description": "暂定: the reminder day is counted across a year without a loaded "
                       "working-day table; re-planned when that year is loaded"})
    reminded_at = LocalDateTime(allow_none=True)
    overdue_at = LocalDateTime(allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(
        ("open", "due_soon", "overdue", "fulfilled")))


class ContractCreateSchema(Schema):
    enterprise_id = Id(required=True)
    title = Text(required=True, validate=validate.Length(1, 200))
    signed_on = fields.Date(required=True)
    department_id = fields.String(required=True)
    note = Text(validate=validate.Length(0, 2000), load_default=None)
    obligations = fields.List(fields.Nested(ObligationCreateSchema), load_default=list,
                              validate=validate.Length(0, 100))


class ContractSchema(Schema):
    id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    title = fields.String(required=True)
    signed_on = fields.Date(required=True)
    department_id = fields.String(required=True)
    note = fields.String(allow_none=True)
    obligations = fields.List(fields.Nested(ObligationSchema), required=True)
    created_by = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    version = fields.Integer(required=True)


class ContractQuerySchema(PageQuery):
    enterprise_id = Id()
    department_id = fields.String()


ContractPageSchema = page_schema(ContractSchema, "ContractPage")


class ObligationQuerySchema(PageQuery):
    party = fields.String(validate=validate.OneOf(OBLIGATION_PARTIES))
    department_id = fields.String()
    state = fields.String(validate=validate.OneOf(("open", "due_soon", "overdue", "fulfilled")))
    due_before = fields.Date()


ObligationPageSchema = page_schema(ObligationSchema, "ObligationPage")


class ObligationSettingsSchema(Schema):
    reminder_workdays = WholeNumber(required=True, validate=validate.Range(0, 60),
                                       metadata={"description": "working days before due"})
    version = WholeNumber(validate=validate.Range(1), metadata={"description": SETTINGS_NOTE})


class ObligationSweepQuerySchema(Schema):
    today = fields.Date(metadata={"description": "sweep as of this date (default: today in "
                                  "Asia/Shanghai; never later)"})


class ObligationSweepSchema(Schema):
    today = fields.Date(required=True)
    reminded = fields.Integer(required=True, metadata={"description": "obligation_due raised"})
    overdue = fields.Integer(required=True,
                             metadata={"description": "obligation_overdue raised"})


# --- visits (走访) ----------------------------------------------------------------------------

class VisitCreateSchema(Schema):
    enterprise_id = Id(required=True)
    visited_on = fields.Date(required=True)
    topics = fields.List(Text(validate=validate.Length(1, 100)), load_default=list,
                         validate=validate.Length(0, 20))
    demands_raised = Text(validate=validate.Length(0, 2000), load_default=None)
    note = Text(validate=validate.Length(0, 2000), load_default=None)


class VisitSchema(Schema):
    id = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    grid_id = fields.String(allow_none=True)
    visited_on = fields.Date(required=True)
    visitor_account_id = fields.String(required=True)
    topics = fields.List(fields.String(), required=True)
    demands_raised = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = LocalDateTime(required=True)


class VisitQuerySchema(PageQuery):
    enterprise_id = Id()
    grid_id = fields.String()


VisitPageSchema = page_schema(VisitSchema, "VisitPage")


class NotVisitedQuerySchema(PageQuery):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 3650))
    grid_id = fields.String()


class NotVisitedSchema(Schema):
    enterprise_id = fields.String(required=True)
    name = fields.String(required=True)
    grid_id = fields.String(allow_none=True)
    last_visited_on = fields.Date(allow_none=True)


NotVisitedPageSchema = page_schema(NotVisitedSchema, "NotVisitedPage")
