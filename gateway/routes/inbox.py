"""``/api/v1/inbox``: the caller's in-app messages (站内消息), served by notification."""

from __future__ import annotations

from typing import Any

from gateway.endpoints import Call, Endpoint
from services.notification.schemas import (
    ChannelPreferencesSchema,
    InboxMessageSchema,
    InboxPageSchema,
    InboxQuerySchema,
)


async def list_inbox(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "list_inbox", dict(call.request.query_params))


async def mark_read(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "mark_read", call.path_params["message_id"])


async def get_preferences(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "get_preferences")


async def set_preferences(call: Call) -> dict[str, Any]:
    return await call.rpc("notification", "set_preferences", call.body)


ENDPOINTS = [
    Endpoint(
        "GET", "/api/v1/inbox/preferences", get_preferences, "Get my channel preferences",
        "inbox", response=ChannelPreferencesSchema,
        description="Channels besides the inbox (email, WeCom group-robot webhook) on which "
                    "my messages are also delivered.",
    ),
    Endpoint(
        "PUT", "/api/v1/inbox/preferences", set_preferences, "Set my channel preferences",
        "inbox", body=ChannelPreferencesSchema, response=ChannelPreferencesSchema,
        errors=(422,),
        description="Replaces the list: at most one entry per channel; an email address for "
                    "`email`, an http(s) webhook URL for `wecom`.",
    ),
    Endpoint(
        "GET", "/api/v1/inbox", list_inbox, "List my messages", "inbox",
        query=InboxQuerySchema, response=InboxPageSchema, errors=(422,),
    ),
    Endpoint(
        "POST", "/api/v1/inbox/{message_id}/read", mark_read, "Mark a message read", "inbox",
        response=InboxMessageSchema, errors=(404,),
        description="For the message of a published policy, an enterprise user marking it "
                    "read also leaves the enterprise's read receipt (已读回执).",
    ),
]
