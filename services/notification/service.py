"""Notification service: events in, messages out. Entrypoints only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy
from nameko.timer import timer
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import select

from common import remote
from common.auth import Role
from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import RobustEventHandler, event_handler, rpc
from common.errors import DomainError, NotFound, Unavailable, ValidationFailed
from common.events import check_envelope, first_delivery
from common.health import health_report
from common.service_identity import ServiceIdentity
from common.validation import is_uuid, load
from services.notification import delivery, inbox, policies, templates
from services.notification.api.policies import READS, PoliciesApi
from services.notification.models import processed_events
from services.notification.schemas import (
    ChannelPreferencesSchema,
    DeliveryPageSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    InboxMessageSchema,
    InboxPageSchema,
    InboxQuerySchema,
)

log = logging.getLogger(__name__)

#: seconds a handler waits before it hands back an event it could not handle for now
RETRY_DELAY_SECONDS = 1.0
#: (recipient, kind, title, body, link) of one inbox message
Delivery = tuple[str, str, str, str, str]
#: SMTP and sweep settings, read once at import (the @timer interval needs them)
DELIVERY = delivery.load_delivery_settings()

SENT = Counter(
    "gridsvc_notifications_sent_total",
    "Delivery attempts on channels besides the inbox, by outcome (sent, failed, dead)",
    ["channel", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "gridsvc_notification_delivery_seconds",
    "Time from an inbox message's creation to its delivery on a channel",
    ["channel"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
BACKLOG = Gauge(
    "gridsvc_notification_retry_backlog",
    "Deliveries still to send (queued or failed), by channel",
    ["channel"],
)
for _channel in delivery.CHANNELS:  # every series from the start: a first failure is counted
    for _outcome in ("sent", "failed", "dead"):
        SENT.labels(_channel, _outcome)
DEAD = Gauge(
    "gridsvc_notification_dead_deliveries",
    "Deliveries that failed every attempt and wait for an admin's retry, by channel",
    ["channel"],
)
SWEEP_FAILURES = Counter(
    "gridsvc_notification_delivery_sweep_failures_total",
    "Delivery sweeps that failed (retried on the next tick)",
)


class RetryLater(Exception):
    """The event could not be handled for now (the registry did not answer): requeue it."""


class RetryingEventHandler(RobustEventHandler):
    """An event handler that puts the event back in its queue when the handler raised
    :class:`RetryLater`, and acknowledges it after any other outcome.

    nameko's ``requeue_on_error=True`` would requeue on every error, so one event that always
    fails (a bug, bad data) would loop for ever; here only "not now" comes back. The handler
    waits :data:`RETRY_DELAY_SECONDS` before raising so a missing registry is polled, not
    hammered; deduplication (``first_delivery``) makes the next delivery safe.
    """

    def handle_message_processed(self, message: Any, result: Any = None,
                                 exc_info: Any = None) -> None:
        if exc_info is not None and isinstance(exc_info[1], RetryLater):
            self.queue_consumer.requeue_message(message)
        else:
            self.queue_consumer.ack_message(message)


retrying_event_handler = RetryingEventHandler.decorator


def _enterprise_ids(value: Any) -> list[str]:
    """Enterprise ids from event data, each a UUID, without repeats (ValueError otherwise)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and is_uuid(v) for v in value):
        raise ValueError("enterprise ids must be a list of UUIDs")
    return list(dict.fromkeys(value))


def _to_invitees(kind: str, build: Callable[[dict[str, Any]], templates.Message]
                 ) -> Callable[[dict[str, Any]], list[Delivery]]:
    """The plan of a meeting event: the same message to each enterprise it names."""
    def plan(data: dict[str, Any]) -> list[Delivery]:
        message = build(data)
        return [(f"enterprise:{e}", kind, *message)
                for e in _enterprise_ids(data["enterprise_ids"])]
    return plan



def _enterprise_id(value: Any) -> str:
    return _enterprise_ids([value])[0]


def _matched_pair(value: Any) -> tuple[str, str]:
    """The owners of a matched listing and of the listing it matched, in that order."""
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("listing_matched names exactly two enterprise ids")
    return _enterprise_id(value[0]), _enterprise_id(value[1])


class NotificationService(PoliciesApi):
    """消息通知与政策发布: turns events into messages that reach people, and publishes policies
    (政策) and notices (通知) to the enterprises of their audience."""

    name = "notification"

    db = Database("notification")
    caller = Caller()
    metrics = Metrics()
    identity = ServiceIdentity()  # event handlers call the registry as the service
    enterprise = RpcProxy("enterprise")

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
        with self.db.statement() as conn:  # the claim and the message: one statement
            inbox.deliver(
                conn, f"enterprise:{data['enterprise_id']}", "demand_received",
                event["event_id"], title, body, link, claim="on_demand_received",
            )

    # staff and enterprise messages from ticketing and registry events ----------------------

    def _deliver_event(self, payload: Any, handler: str,
                       plan: Callable[[dict[str, Any]], list[Delivery]]) -> None:
        """Check the event, skip it if this handler had it already, ask ``plan`` for the
        messages (it may call the registry) and put them in their inboxes, once per
        (event, recipient), in one transaction with the handler's claim on the event."""
        try:
            event = check_envelope(payload)
            event_id = str(event["event_id"])
        except (ValidationFailed, KeyError, TypeError, ValueError) as exc:
            log.error("%s dropped a malformed event: %r", handler, exc)
            return
        with self.db.transaction() as session:
            seen = session.execute(select(processed_events.c.event_id).where(
                processed_events.c.event_id == event_id,
                processed_events.c.handler == handler)).first()
        if seen:
            return
        try:
            deliveries = plan(event["data"])
        except (Unavailable, UnknownService) as exc:
            log.warning("%s will retry event %s: %s", handler, event_id, exc)
            eventlet.sleep(RETRY_DELAY_SECONDS)
            raise RetryLater(str(exc)) from exc
        except (DomainError, KeyError, TypeError, ValueError) as exc:
            log.error("%s dropped event %s: %r", handler, event_id, exc)
            return
        with self.db.transaction() as session:
            if not first_delivery(session, processed_events, event_id, handler):
                return
            for recipient, kind, title, body, link in deliveries:
                inbox.deliver(session, recipient, kind, event_id, title, body, link)

    def _department(self, department_id: str) -> dict[str, Any]:
        return remote.call(self.enterprise.department_recipients, department_id)

    def _enterprise_name(self, enterprise_id: str | None) -> str | None:
        if not enterprise_id:
            return None
        try:
            return remote.call(self.enterprise.enterprise_recipients, enterprise_id)["name"]
        except NotFound:
            return None

    def _to_liaison(self, kind: str, build: Callable[..., templates.Message]
                    ) -> Callable[[dict[str, Any]], list[Delivery]]:
        def plan(data: dict[str, Any]) -> list[Delivery]:
            liaisons = self._department(data["department_id"])["liaison"]
            if not liaisons:
                return []
            message = build(data, self._enterprise_name(data.get("enterprise_id")))
            return [(f"user:{a}", kind, *message) for a in liaisons]
        return plan

    @retrying_event_handler("ticketing", "task_assigned")
    def on_task_assigned(self, payload: Any) -> None:
        """A new task: its department's liaison (联络员) is to accept it."""
        self._deliver_event(payload, "on_task_assigned",
                            self._to_liaison("task_assigned", templates.task_assigned))

    @retrying_event_handler("ticketing", "task_reassigned")
    def on_task_reassigned(self, payload: Any) -> None:
        """A coordinator named another department: its liaison is to accept the task."""
        self._deliver_event(payload, "on_task_reassigned",
                            self._to_liaison("task_reassigned", templates.task_reassigned))

    @retrying_event_handler("ticketing", "deadline_reminder")
    def on_deadline_reminder(self, payload: Any) -> None:
        """The handling deadline is near: remind the liaison."""
        self._deliver_event(payload, "on_deadline_reminder",
                            self._to_liaison("deadline_reminder", templates.deadline_reminder))

    @retrying_event_handler("ticketing", "task_escalated")
    def on_task_escalated(self, payload: Any) -> None:
        """督办升级: level 1 (and a task reopened again) to the department head, level 2 to the
        leader in charge, level 3 to the leading group office."""

        def plan(data: dict[str, Any]) -> list[Delivery]:
            level = int(data["level"])
            department = self._department(data["department_id"])
            if level >= 3:
                accounts = remote.call(self.enterprise.leading_group_office)
            elif level == 2:
                accounts = department["leader_in_charge"]
            else:
                accounts = department["head"]
            if not accounts:
                return []
            message = templates.task_escalated(
                data, self._enterprise_name(data.get("enterprise_id")), department.get("name"))
            return [(f"user:{a}", "task_escalated", *message) for a in accounts]

        self._deliver_event(payload, "on_task_escalated", plan)

    @retrying_event_handler("ticketing", "rating_requested")
    def on_rating_requested(self, payload: Any) -> None:
        """Every task is done: ask the enterprise to rate (and remind it)."""
        self._deliver_event(payload, "on_rating_requested", lambda data: [(
            f"enterprise:{data['enterprise_id']}", "rating_requested",
            *templates.rating_requested(data))])

    @retrying_event_handler("ticketing", "demand_closed")
    def on_demand_closed(self, payload: Any) -> None:
        """销号: tell the enterprise its demand is closed, and how."""
        self._deliver_event(payload, "on_demand_closed", lambda data: [(
            f"enterprise:{data['enterprise_id']}", "demand_closed",
            *templates.demand_closed(data))])

    def _obligation(self, overdue: bool) -> Callable[[dict[str, Any]], list[Delivery]]:
        kind = "obligation_overdue" if overdue else "obligation_due"

        def plan(data: dict[str, Any]) -> list[Delivery]:
            department = self._department(data["department_id"])
            accounts = list(dict.fromkeys(department["liaison"] + department["head"]))
            if not accounts:
                return []
            message = templates.obligation(
                data, overdue, self._enterprise_name(data.get("enterprise_id")))
            return [(f"user:{a}", kind, *message) for a in accounts]

        return plan

    @retrying_event_handler("enterprise", "obligation_due")
    def on_obligation_due(self, payload: Any) -> None:
        """A committee obligation (管委履约事项) is near its due date: the owning department's
        liaison and head."""
        self._deliver_event(payload, "on_obligation_due", self._obligation(overdue=False))

    @retrying_event_handler("enterprise", "obligation_overdue")
    def on_obligation_overdue(self, payload: Any) -> None:
        """A committee obligation passed its due date unfulfilled."""
        self._deliver_event(payload, "on_obligation_overdue", self._obligation(overdue=True))

    # zone resources (区域资源): projects under construction -----------------------------------

    @retrying_event_handler("enterprise", "project_milestone_delayed")
    def on_project_milestone_delayed(self, payload: Any) -> None:
        """A project's milestone passed its planned day: the responsible department's liaison
        and head."""

        def plan(data: dict[str, Any]) -> list[Delivery]:
            department = self._department(data["department_id"])
            accounts = list(dict.fromkeys(department["liaison"] + department["head"]))
            message = templates.project_milestone_delayed(data)
            return [(f"user:{a}", "project_milestone_delayed", *message) for a in accounts]

        self._deliver_event(payload, "on_project_milestone_delayed", plan)

    @retrying_event_handler("enterprise", "project_in_production")
    def on_project_in_production(self, payload: Any) -> None:
        """A project started production and its investor entered scope: the grid staff of its
        grid (网格员报到)."""

        def plan(data: dict[str, Any]) -> list[Delivery]:
            enterprise = _enterprise_id(data["enterprise_id"])
            staff = remote.call(self.enterprise.enterprise_recipients, enterprise)["grid_staff"]
            message = templates.project_in_production(data)
            return [(f"user:{a}", "project_in_production", *message) for a in staff]

        self._deliver_event(payload, "on_project_in_production", plan)

    # supply/demand board (供求信息互通平台) and meetings (政企座谈) ----------------------------

    @retrying_event_handler("supplydemand", "listing_matched")
    def on_listing_matched(self, payload: Any) -> None:
        """智能匹配: each of the two enterprises hears that its listing matches the other's."""

        def plan(data: dict[str, Any]) -> list[Delivery]:
            first, second = _matched_pair(data["enterprise_ids"])
            mine, theirs = str(data["listing_title"]), str(data["matched_listing_title"])
            return [
                (f"enterprise:{first}", "listing_matched", *templates.listing_matched(
                    data, mine, theirs, str(data["listing_id"]))),
                (f"enterprise:{second}", "listing_matched", *templates.listing_matched(
                    data, theirs, mine, str(data["matched_listing_id"]))),
            ]

        self._deliver_event(payload, "on_listing_matched", plan)

    @retrying_event_handler("supplydemand", "docking_requested")
    def on_docking_requested(self, payload: Any) -> None:
        """点对点对接: the listing's owner hears who asks to dock, with the message."""

        def plan(data: dict[str, Any]) -> list[Delivery]:
            owner = _enterprise_id(data["owner_enterprise_id"])
            requester = _enterprise_id(data["requester_enterprise_id"])
            return [(f"enterprise:{owner}", "docking_requested",
                     *templates.docking_requested(data, self._enterprise_name(requester)))]

        self._deliver_event(payload, "on_docking_requested", plan)

    def _docking_answered(self, accepted: bool) -> Callable[[dict[str, Any]], list[Delivery]]:
        kind = "docking_accepted" if accepted else "docking_declined"

        def plan(data: dict[str, Any]) -> list[Delivery]:
            requester = _enterprise_id(data["requester_enterprise_id"])
            owner = _enterprise_id(data["owner_enterprise_id"])
            return [(f"enterprise:{requester}", kind, *templates.docking_answered(
                data, accepted, self._enterprise_name(owner)))]

        return plan

    @retrying_event_handler("supplydemand", "docking_accepted")
    def on_docking_accepted(self, payload: Any) -> None:
        """The owner accepted: the requester hears it."""
        self._deliver_event(payload, "on_docking_accepted", self._docking_answered(True))

    @retrying_event_handler("supplydemand", "docking_declined")
    def on_docking_declined(self, payload: Any) -> None:
        """The owner declined: the requester hears it."""
        self._deliver_event(payload, "on_docking_declined", self._docking_answered(False))

    @retrying_event_handler("enterprise", "meeting_invited")
    def on_meeting_invited(self, payload: Any) -> None:
        """政企座谈会: each invited enterprise gets the invitation (theme, time, place)."""
        self._deliver_event(payload, "on_meeting_invited",
                            _to_invitees("meeting_invited", templates.meeting_invited))

    @retrying_event_handler("enterprise", "meeting_cancelled")
    def on_meeting_cancelled(self, payload: Any) -> None:
        """An invited meeting was cancelled: each invitee hears it, with the reason."""
        self._deliver_event(payload, "on_meeting_cancelled",
                            _to_invitees("meeting_cancelled", templates.meeting_cancelled))

    # reading -------------------------------------------------------------------------------

    @rpc
    def list_inbox(self, query: dict[str, Any]) -> dict:
        principal = self.caller.principal
        parsed = load(InboxQuerySchema(), query)
        with self.db.transaction() as session:
            return InboxPageSchema().dump(inbox.page(session, principal, parsed))

    @rpc
    def mark_read(self, message_id: str) -> dict:
        """Mark one of my messages read; for a policy's message, also the enterprise's read
        receipt (已读回执)."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            message = inbox.mark_read(session, principal, message_id)
            first_read = policies.read_from_message(session, principal, message)
            result = InboxMessageSchema().dump(message)
        if first_read:
            READS.labels(first_read).inc()
        return result

    # other channels ------------------------------------------------------------------------

    @rpc
    def get_preferences(self) -> dict:
        """The caller's own channels (email, WeCom webhook) besides the inbox."""
        recipient = inbox.recipient_of(self.caller.principal)
        with self.db.transaction() as session:
            prefs = delivery.preferences(session, recipient)
        return ChannelPreferencesSchema().dump({"recipient": recipient, "channels": prefs})

    @rpc
    def set_preferences(self, payload: dict[str, Any]) -> dict:
        """Replace the caller's own channels; later messages are delivered there too."""
        recipient = inbox.recipient_of(self.caller.principal)
        data = load(ChannelPreferencesSchema(), payload)
        with self.db.transaction() as session:
            prefs = delivery.set_preferences(session, recipient, data["channels"])
        return ChannelPreferencesSchema().dump({"recipient": recipient, "channels": prefs})

    @rpc
    def list_deliveries(self, query: dict[str, Any]) -> dict:
        """Deliveries, newest first, by state and channel (admins)."""
        self.caller.principal.require(Role.ADMIN)
        parsed = load(DeliveryQuerySchema(), query)
        with self.db.transaction() as session:
            return DeliveryPageSchema().dump(delivery.page(session, parsed))

    @rpc
    def retry_delivery(self, delivery_id: str) -> dict:
        """A dead delivery back to the queue with its attempts reset (admins)."""
        self.caller.principal.require(Role.ADMIN)
        with self.db.transaction() as session:
            return DeliverySchema().dump(delivery.retry(session, delivery_id))

    @timer(interval=DELIVERY.sweep_seconds)
    def delivery_sweep_tick(self) -> None:
        """Send due deliveries (every replica; SKIP LOCKED claims split the work). Never
        raises: a failed sweep (e.g. the database away) is logged and retried next tick."""
        try:
            outcomes = delivery.run_once(
                self.db.transaction, DELIVERY, delivery.senders(DELIVERY))
            for (channel, outcome), n in outcomes.counts.items():
                SENT.labels(channel, outcome).inc(n)
            for channel, seconds in outcomes.latencies:
                DELIVERY_SECONDS.labels(channel).observe(max(seconds, 0.0))
            with self.db.transaction() as session:
                for channel, n in delivery.backlog(session).items():
                    BACKLOG.labels(channel).set(n)
                for channel, n in delivery.backlog(session, ("dead",)).items():
                    DEAD.labels(channel).set(n)
            if outcomes.counts:
                log.info("delivery sweep: %s", outcomes.as_dict())
        except Exception:
            SWEEP_FAILURES.inc()
            log.exception("delivery sweep failed; retrying on the next tick")
