"""The board's contract for dockings (对接, ``api/dockings.py``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import (
    LocalDateTime,
    WholeNumber,
)
from common.pagination import page_schema
from services.supplydemand.schemas.base import FreeText, PageQuery, Uuid

DOCKING_STATES = ("requested", "accepted", "declined")


# --------------------------------------------------------------------------- docking (对接)


class DockingCreateSchema(Schema):
    listing_id = Uuid(required=True, metadata={"description": "the other enterprise's listing"})
    message = FreeText(required=True, validate=validate.Length(1, 1000))
    enterprise_id = Uuid(metadata={"description": "the requesting enterprise; required for "
                                   "grid staff acting for an enterprise of their grid"})


class DockingDecisionSchema(Schema):
    message = FreeText(load_default="", validate=validate.Length(0, 1000))
    version = WholeNumber(validate=validate.Range(0, 2**31 - 1))


class DockingContactSchema(Schema):
    name = fields.String(required=True)
    title = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class DockingContactsSchema(Schema):
    requester = fields.List(fields.Nested(DockingContactSchema), required=True)
    owner = fields.List(fields.Nested(DockingContactSchema), required=True)


class DockingStepSchema(Schema):
    action = fields.String(required=True)
    actor_role = fields.String(required=True)
    message = fields.String(required=True)
    at = LocalDateTime(required=True)


class DockingSchema(Schema):
    id = fields.String(required=True)
    listing_id = fields.String(required=True)
    listing_title = fields.String(required=True)
    requester_enterprise_id = fields.String(required=True)
    requester_name = fields.String(required=True)
    owner_enterprise_id = fields.String(required=True)
    owner_name = fields.String(required=True)
    message = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(DOCKING_STATES))
    reply = fields.String(allow_none=True)
    contacts = fields.Nested(DockingContactsSchema, allow_none=True, metadata={
        "description": "both parties' contacts, once accepted; null before"})
    history = fields.List(fields.Nested(DockingStepSchema), required=True)
    created_at = LocalDateTime(required=True)
    decided_at = LocalDateTime(allow_none=True)
    version = fields.Integer(required=True)


DockingPageSchema = page_schema(DockingSchema, "DockingPage")


class DockingQuerySchema(PageQuery):
    status = fields.String(validate=validate.OneOf(DOCKING_STATES))
    listing_id = Uuid()
    direction = fields.String(validate=validate.OneOf(("sent", "received")), metadata={
        "description": "for an enterprise: requests it sent or received"})
