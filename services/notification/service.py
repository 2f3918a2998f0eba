"""Notification service: events in, messages out. Entrypoints only."""

from __future__ import annotations

import logging
from typing import Any

from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import event_handler, rpc
from common.errors import ValidationFailed
from common.events import check_envelope, first_delivery
from common.health import health_report
from common.validation import load
from services.notification import inbox
from services.notification.models import processed_events
from services.notification.schemas import InboxMessageSchema, InboxPageSchema, InboxQuerySchema

log = logging.getLogger(__name__)


class NotificationService:
    """消息通知与政策发布: turns events into messages that reach people."""

    name = "notification"

    db = Database("notification")
    caller = Caller()
    metrics = Metrics()

    @rpc
    def health(self) -> dict[str, Any]:
        return health_report(self.name, self.db)

    @event_handler("ticketing", "demand_received")
    def on_demand_received(self, payload: Any) -> None:
        """Tell the enterprise its demand was registered and when triage is due."""
        try:
            event = check_envelope(payload)
            data = event["data"]
            title, body, link = inbox.demand_received_message(data)
        except (ValidationFailed, KeyError, TypeError, ValueError) as exc:
            log.error("dropped a malformed demand_received event: %r", exc)
            return
        with self.db.transaction() as session:
            if not first_delivery(
                session, processed_events, event["event_id"], "on_demand_received"
            ):
                return
            inbox.deliver(
                session, f"enterprise:{data['enterprise_id']}", "demand_received",
                event["event_id"], title, body, link,
            )

    @rpc
    def list_inbox(self, query: dict[str, Any]) -> dict:
        principal = self.caller.principal
        parsed = load(InboxQuerySchema(), query)
        with self.db.transaction() as session:
            return InboxPageSchema().dump(inbox.page(session, principal, parsed))

    @rpc
    def mark_read(self, message_id: str) -> dict:
        principal = self.caller.principal
        with self.db.transaction() as session:
            return InboxMessageSchema().dump(inbox.mark_read(session, principal, message_id))
