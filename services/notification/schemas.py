"""Notification's contract, imported by the gateway."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import LocalDateTime


class InboxMessageSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    link = fields.String(allow_none=True)
    created_at = LocalDateTime(required=True)
    read_at = LocalDateTime(allow_none=True)


class InboxPageSchema(Schema):
    items = fields.List(fields.Nested(InboxMessageSchema), required=True)
    total = fields.Integer(required=True)
    unread = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class InboxQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))
    unread = fields.Boolean(load_default=False)
