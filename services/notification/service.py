"""Notification service: events in, messages out. Entrypoints only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy
from nameko.timer import timer

from common import remote
from common.auth import Role
from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import event_handler, retry_later, retrying_event_handler, rpc
from common.errors import (
    DomainError,
    InvalidValue,
    NotFound,
    Unavailable,
    ValidationFailed,
    invalid_fields,
)
from common.events import check_envelope
from common.health import health_report
from common.service_identity import ServiceIdentity
from common.validation import load
from services.notification import (
    delivery,
    inbox,
    metrics,
    policies,
    routing,
    templates,
    webhooks,
)
from services.notification.api.policies import PoliciesApi
from services.notification.routing import Delivery, Plan
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

#: SMTP and sweep settings, read once at import (the @timer interval needs them)
DELIVERY = delivery.load_delivery_settings()


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
                       plan: Plan) -> None:
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
            if inbox.handled(session, event_id, handler):
                return
        try:
            deliveries = plan(event["data"])
        except (Unavailable, UnknownService) as exc:
            retry_later(handler, event_id, exc)
        except (DomainError, KeyError, TypeError, ValueError) as exc:
            log.error("%s dropped event %s: %r", handler, event_id, exc)
            return
        with self.db.transaction() as session:
            inbox.deliver_all(session, event_id, handler, deliveries)

    def _department(self, department_id: str) -> dict[str, Any]:
        return remote.call(self.enterprise.department_recipients, department_id)

    def _enterprise_name(self, enterprise_id: str | None) -> str | None:
        if not enterprise_id:
            return None
        try:
            return remote.call(self.enterprise.enterprise_recipients, enterprise_id)["name"]
        except NotFound:
            return None

    def _to_liaison(self, kind: str, build: Callable[..., templates.Message]) -> Plan:
        def plan(data: dict[str, Any]) -> list[Delivery]:
            liaisons = self._department(data["department_id"])["liaison"]
            if not liaisons:
                return []
            message = build(data, self._enterprise_name(data.get("enterprise_id")))
            return routing.to_users(liaisons, kind, message)
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
            audience = routing.escalation_audience(int(data["level"]))
            department = self._department(data["department_id"])
            if audience == routing.LEADING_GROUP_OFFICE:
                accounts = remote.call(self.enterprise.leading_group_office)
            else:
                accounts = department[audience]
            if not accounts:
                return []
            message = templates.task_escalated(
                data, self._enterprise_name(data.get("enterprise_id")), department.get("name"))
            return routing.to_users(accounts, "task_escalated", message)

        self._deliver_event(payload, "on_task_escalated", plan)

    @retrying_event_handler("ticketing", "sla_breached")
    def on_sla_breached(self, payload: Any) -> None:
        """分理超时: a demand not triaged in time → the coordinators of the department owning
        its grid (经济发展部 geographic, 科技创新部 incubators). The other breaches are told by
        their own steps (a time-out to coordination, 督办 escalations)."""

        def plan(data: dict[str, Any]) -> list[Delivery]:
            if data.get("kind") != "triage":
                return []
            owner = remote.call(self.enterprise.grid_coordinators, data.get("grid_id"))
            if not owner["coordinators"]:
                return []
            message = templates.triage_overdue(
                data, self._enterprise_name(data.get("enterprise_id")), owner.get("name"))
            return routing.to_users(owner["coordinators"], "triage_overdue", message)

        self._deliver_event(payload, "on_sla_breached", plan)

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

    def _obligation(self, overdue: bool) -> Plan:
        kind = "obligation_overdue" if overdue else "obligation_due"

        def plan(data: dict[str, Any]) -> list[Delivery]:
            accounts = routing.liaisons_and_head(self._department(data["department_id"]))
            if not accounts:
                return []
            message = templates.obligation(
                data, overdue, self._enterprise_name(data.get("enterprise_id")))
            return routing.to_users(accounts, kind, message)

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
            accounts = routing.liaisons_and_head(self._department(data["department_id"]))
            message = templates.project_milestone_delayed(data)
            return routing.to_users(accounts, "project_milestone_delayed", message)

        self._deliver_event(payload, "on_project_milestone_delayed", plan)

    @retrying_event_handler("enterprise", "project_in_production")
    def on_project_in_production(self, payload: Any) -> None:
        """A project started production and its investor entered scope: the grid staff of its
        grid (网格员报到)."""

        def plan(data: dict[str, Any]) -> list[Delivery]:
            enterprise = routing.enterprise_id(data["enterprise_id"])
            staff = remote.call(self.enterprise.enterprise_recipients, enterprise)["grid_staff"]
            message = templates.project_in_production(data)
            return routing.to_users(staff, "project_in_production", message)

        self._deliver_event(payload, "on_project_in_production", plan)

    # supply/demand board (供求信息互通平台) and meetings (政企座谈) ----------------------------

    @retrying_event_handler("supplydemand", "listing_matched")
    def on_listing_matched(self, payload: Any) -> None:
        """智能匹配: each of the two enterprises hears that its listing matches the other's."""
        self._deliver_event(payload, "on_listing_matched", routing.listing_matched)

    @retrying_event_handler("supplydemand", "docking_requested")
    def on_docking_requested(self, payload: Any) -> None:
        """点对点对接: the listing's owner hears who asks to dock, with the message."""

        def plan(data: dict[str, Any]) -> list[Delivery]:
            owner = routing.enterprise_id(data["owner_enterprise_id"])
            requester = routing.enterprise_id(data["requester_enterprise_id"])
            return [(f"enterprise:{owner}", "docking_requested",
                     *templates.docking_requested(data, self._enterprise_name(requester)))]

        self._deliver_event(payload, "on_docking_requested", plan)

    def _docking_answered(self, accepted: bool) -> Plan:
        kind = "docking_accepted" if accepted else "docking_declined"

        def plan(data: dict[str, Any]) -> list[Delivery]:
            requester = routing.enterprise_id(data["requester_enterprise_id"])
            owner = routing.enterprise_id(data["owner_enterprise_id"])
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
                            routing.to_invitees("meeting_invited", templates.meeting_invited))

    @retrying_event_handler("enterprise", "meeting_cancelled")
    def on_meeting_cancelled(self, payload: Any) -> None:
        """An invited meeting was cancelled: each invitee hears it, with the reason."""
        self._deliver_event(payload, "on_meeting_cancelled",
                            routing.to_invitees("meeting_cancelled", templates.meeting_cancelled))

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
            metrics.READS.labels(first_read).inc()
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
        policy = webhooks.load_policy()
        refused: dict[str, Any] = {}
        for i, channel in enumerate(data["channels"]):
            if channel["channel"] != "wecom":
                continue
            try:  # https, an allowed host, every address public (checked again at delivery)
                webhooks.check(channel["address"], policy)
            except InvalidValue as exc:
                refused[str(i)] = {"address": [exc.item()]}
        if refused:
            raise invalid_fields({"channels": refused}, code="webhook.refused")
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
            metrics.record_sweep(outcomes)
            with self.db.transaction() as session:
                metrics.record_backlog(session)
            if outcomes.counts:
                log.info("delivery sweep: %s", outcomes.as_dict())
        except Exception:
            metrics.SWEEP_FAILURES.inc()
            log.exception("delivery sweep failed; retrying on the next tick")
