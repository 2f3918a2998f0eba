"""Notification's contract, imported by the gateway."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.fields import LocalDateTime

#: channels besides the inbox, and the states of a delivery (as in ``models``; the gateway
#: imports this module, not the models)
CHANNELS = ("email", "wecom")
DELIVERY_STATES = ("queued", "failed", "sent", "dead")


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


# --------------------------------------------------------------------------- channels


class ChannelPreferenceSchema(Schema):
    """One channel besides the inbox: an email address or a WeCom group-robot webhook URL."""

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    address = fields.String(required=True, validate=validate.Length(1, 500))
    enabled = fields.Boolean(load_default=True)

    @validates_schema
    def check_address(self, data: dict[str, Any], **_: Any) -> None:
        address = data.get("address")
        if not address:
            return
        try:
            if data.get("channel") == "email":
                validate.Email(error="not a valid email address")(address)
            elif data.get("channel") == "wecom":
                validate.URL(schemes={"http", "https"}, require_tld=False,
                             error="not a valid http(s) URL")(address)
        except ValidationError as exc:
            raise ValidationError(exc.messages, "address") from exc


class ChannelPreferencesSchema(Schema):
    """The caller's channels (PUT replaces the whole list)."""

    recipient = fields.String(dump_only=True)
    channels = fields.List(fields.Nested(ChannelPreferenceSchema), required=True,
                           validate=validate.Length(max=len(CHANNELS)))

    @validates_schema
    def one_per_channel(self, data: dict[str, Any], **_: Any) -> None:
        named = [c["channel"] for c in data.get("channels", [])]
        if len(named) != len(set(named)):
            raise ValidationError("each channel at most once", "channels")


class DeliverySchema(Schema):
    id = fields.String(required=True)
    message_id = fields.String(required=True)
    channel = fields.String(required=True)
    recipient = fields.String(required=True)
    address = fields.String(required=True)
    state = fields.String(required=True)
    attempts = fields.Integer(required=True)
    next_attempt_at = LocalDateTime(required=True)
    last_error = fields.String(allow_none=True)
    created_at = LocalDateTime(required=True)
    sent_at = LocalDateTime(allow_none=True)


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class DeliveryQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(DELIVERY_STATES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))
