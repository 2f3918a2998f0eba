"""Ticketing's contract: what callers send (validated here) and what they get back.

The gateway imports this module for request validation and the OpenAPI document, so it holds
nothing but marshmallow schemas and the vocabularies they use.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import LocalDateTime

#: 1+N intake channels (信息收集渠道)
CHANNELS = ("grid_worker", "service_window", "app", "wechat", "website", "hotline", "enterprise")
URGENCIES = ("normal", "urgent")
DEMAND_STATES = ("received",)


class AttachmentSchema(Schema):
    """Metadata of a file kept elsewhere (the platform stores no file bodies)."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    content_type = fields.String(required=True, validate=validate.Length(1, 100))
    size = fields.Integer(required=True, validate=validate.Range(0, 50 * 1024 * 1024))
    url = fields.Url(required=True, schemes={"https", "http"})


class DemandCreateSchema(Schema):
    """A demand (诉求) as recorded at intake."""

    enterprise_id = fields.String(
        validate=validate.Length(1, 64),
        metadata={"description": "Defaults to the caller's own enterprise for enterprise users"},
    )
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.String(validate=validate.Length(1, 50), allow_none=True)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(required=True, validate=validate.Length(1, 5000))
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    attachments = fields.List(
        fields.Nested(AttachmentSchema), load_default=list, validate=validate.Length(0, 20)
    )


class DemandSchema(Schema):
    id = fields.String(required=True)
    number = fields.String(
        required=True, metadata={"description": "诉求编号, e.g. SQ20261126-00001"}
    )
    enterprise_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.String(allow_none=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
    status = fields.String(required=True, validate=validate.OneOf(DEMAND_STATES))
    received_at = LocalDateTime(required=True)
    triage_due_at = LocalDateTime(required=True, metadata={"description": "分理时限"})
    triage_due_provisional = fields.Boolean(required=True)
    recorded_by = fields.String(required=True)
    recorded_role = fields.String(required=True)
    version = fields.Integer(required=True)


class DemandPageSchema(Schema):
    items = fields.List(fields.Nested(DemandSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class DemandListQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))
    enterprise_id = fields.String(validate=validate.Length(1, 64))
    status = fields.String(validate=validate.OneOf(DEMAND_STATES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))


class TriageDeadlineQuerySchema(Schema):
    received_at = LocalDateTime(required=True)


class TriageDeadlineSchema(Schema):
    deadline = LocalDateTime(required=True, metadata={"description": "10:00 +08:00"})
    provisional = fields.Boolean(required=True)
