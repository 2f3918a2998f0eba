"""The board's view of the registry (企业信息): looking an enterprise up for a caller, and the
registry's events that keep :mod:`services.supplydemand.directory` current."""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import UnknownService

from common import remote
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import event_handler, retry_later, retrying_event_handler
from common.errors import NotFound, Unavailable, ValidationFailed, field_error, invalid_fields
from common.events import check_envelope, first_delivery
from services.supplydemand import access, directory
from services.supplydemand.models import Enterprise, processed_events

log = logging.getLogger(__name__)

class RegistryApi:
    db: WorkerDatabase
    caller: CallerContext
    enterprise: Any

    def _synced_enterprise(self, enterprise_id: str) -> dict[str, Any]:
        """The registry's record of an enterprise the caller may act for, looked up with the
        caller's own token so that the registry applies the caller's scope."""
        invalid = invalid_fields({"enterprise_id": [field_error(
            "enterprise.not_found", "no such enterprise among those you may act for")]})
        try:
            record = remote.call(self.enterprise.get_enterprise, enterprise_id)
        except NotFound as exc:
            raise invalid from exc
        if not access.acts_for(self.caller.principal, record["id"], record.get("grid_id")):
            raise invalid
        return record

    def _refresh(self, session: Any, record: dict[str, Any]) -> Enterprise:
        return directory.upsert(session, record)

    def _apply(self, payload: Any, handler: str, apply: Any) -> None:
        try:
            event = check_envelope(payload)
            data = event["data"]
        except (ValidationFailed, KeyError, TypeError) as exc:
            log.error("%s dropped a malformed event: %r", handler, exc)
            return
        with self.db.transaction() as session:
            if not first_delivery(session, processed_events, str(event["event_id"]), handler):
                return
            try:
                apply(session, data)
            except (KeyError, TypeError, ValueError) as exc:
                log.error("%s dropped event %s with bad data: %r", handler,
                          event["event_id"], exc)

    @event_handler("enterprise", "enterprise_registered")
    def on_enterprise_registered(self, payload: Any) -> None:
        self._apply(payload, "on_enterprise_registered", directory.upsert)

    @event_handler("enterprise", "scope_changed")
    def on_scope_changed(self, payload: Any) -> None:
        """Leaving scope takes the enterprise's listings off the board at once."""
        self._apply(payload, "on_scope_changed", directory.set_scope)

    @event_handler("enterprise", "grid_changed")
    def on_grid_changed(self, payload: Any) -> None:
        self._apply(payload, "on_grid_changed", directory.set_grid)

    @retrying_event_handler("enterprise", "profile_updated")
    def on_profile_updated(self, payload: Any) -> None:
        """The industry code changed: read the record again (the event names fields only)."""
        try:
            event = check_envelope(payload)
            data = event["data"]
            enterprise_id = str(data["enterprise_id"])
        except (ValidationFailed, KeyError, TypeError) as exc:
            log.error("on_profile_updated dropped a malformed event: %r", exc)
            return
        if not directory.profile_matters(data):
            return
        with self.db.transaction() as session:
            if not directory.known(session, enterprise_id):
                return  # read in full when it first publishes
        try:
            record = remote.call(self.enterprise.get_enterprise, enterprise_id)
        except NotFound:
            return
        except (Unavailable, UnknownService) as exc:
            retry_later("on_profile_updated", event["event_id"], exc)
        self._apply(payload, "on_profile_updated", lambda session, _data: directory.upsert(
            session, record))
