"""Notification's contract for the inbox, the channels besides it and their deliveries
(``service.py``).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.fields import (
    JsonBoolean,
    LocalDateTime,
    refuse,
)
from common.pagination import PageQuery, page_query, page_schema

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


InboxPageSchema = page_schema(InboxMessageSchema, "InboxPage", unread=fields.Integer(required=True))


class InboxQuerySchema(PageQuery):
    unread = fields.Boolean(load_default=False)


# --------------------------------------------------------------------------- channels


#: a mailbox of a real domain: a dotted host name (no ``localhost``, no ``[127.0.0.1]``), no
#: quoted parts, white space or control characters (issue 22, finding 4)
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                   r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+",
                   re.ASCII)


class ChannelPreferenceSchema(Schema):
    """One channel besides the inbox: an email address or a WeCom group-robot webhook URL."""

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    address = fields.String(required=True, validate=validate.Length(1, 500))
    enabled = JsonBoolean(load_default=True)

    @validates_schema
    def check_address(self, data: dict[str, Any], **_: Any) -> None:
        address = data.get("address")
        if not address:
            return
        try:
            if data.get("channel") == "email":
                validate.Email()(address)
                if len(address) > 254 or not EMAIL.fullmatch(address):
                    raise refuse("field.not_email", "not a valid email address",
                                 field_name="address")
            elif data.get("channel") == "wecom":
                validate.URL(schemes={"http", "https"}, require_tld=False)(address)
        except ValidationError as exc:
            if data.get("channel") == "email":
                raise refuse("field.not_email", "not a valid email address",
                             field_name="address") from exc
            raise refuse("field.not_url", "not a valid http(s) URL",
                         field_name="address") from exc


class ChannelPreferencesSchema(Schema):
    """The caller's channels (PUT replaces the whole list)."""

    recipient = fields.String(dump_only=True)
    channels = fields.List(fields.Nested(ChannelPreferenceSchema), required=True,
                           validate=validate.Length(max=len(CHANNELS)))

    @validates_schema
    def one_per_channel(self, data: dict[str, Any], **_: Any) -> None:
        named = [c["channel"] for c in data.get("channels", [])]
        if len(named) != len(set(named)):
            raise refuse("field.not_distinct", "each channel at most once",
                         field_name="channels")


class DeliverySchema(Schema):
    id = fields.String(required=True)
    message_id = fields.String(required=True)
    channel = fields.String(required=True, metadata={"x-dictionary": "delivery_channel"})
    recipient = fields.String(required=True, metadata={
        "description": "an account's id, or enterprise:<id> (its users share the inbox)"})
    recipient_name = fields.String(allow_none=True, metadata={
        "description": "the person's or the enterprise's name"})
    address = fields.String(required=True)
    state = fields.String(required=True, metadata={"x-dictionary": "delivery_state"})
    attempts = fields.Integer(required=True)
    next_attempt_at = LocalDateTime(required=True)
    last_error = fields.String(allow_none=True)
    created_at = LocalDateTime(required=True)
    sent_at = LocalDateTime(allow_none=True)


DeliveryPageSchema = page_schema(DeliverySchema, "DeliveryPage")


class DeliveryQuerySchema(page_query(per_page=50)):
    state = fields.String(validate=validate.OneOf(DELIVERY_STATES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
