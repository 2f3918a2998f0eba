"""RPC entrypoints of the registry: contracts and obligations (协议合同、履约事项), the
obligation sweep timer, and grid visits (走访). Thin: the rules are in
:mod:`services.enterprise.contracts` and :mod:`services.enterprise.visits`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import date
from typing import Any

from nameko.timer import timer
from prometheus_client import Counter

from common.auth import STAFF_ROLES, Role
from common.concurrency import expected_version as checked_version
from common.config import seconds_from_env
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import event_handler, rpc
from common.errors import Forbidden, ValidationFailed, field_error, invalid_fields
from common.events import check_envelope, first_delivery
from common.validation import load
from services.enterprise import contracts, visits, workdays
from services.enterprise.models import processed_events
from services.enterprise.schemas import (
    ContractCreateSchema,
    ContractQuerySchema,
    ContractSchema,
    NotVisitedQuerySchema,
    NotVisitedSchema,
    ObligationQuerySchema,
    ObligationSchema,
    ObligationSettingsSchema,
    VisitCreateSchema,
    VisitQuerySchema,
    VisitSchema,
)

log = logging.getLogger(__name__)


def sweep_interval(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds between sweeps: ``OBLIGATION_SWEEP_SECONDS``, default 30."""
    return seconds_from_env("OBLIGATION_SWEEP_SECONDS", 30, dict(environ))


SWEEP_SECONDS = sweep_interval()
#: the working-day calendar the obligation dates follow (调休 included)

OBLIGATION_EVENTS = Counter(
    "gridsvc_obligation_events_total",
    "Obligation reminders (obligation_due) and breaches (obligation_overdue) recorded by sweeps",
    ["event"],
)
SWEEP_FAILURES = Counter(
    "gridsvc_obligation_sweep_failures_total", "Obligation sweeps that failed (retried next tick)"
)

contract_schema = ContractSchema()
obligation_schema = ObligationSchema()
visit_schema = VisitSchema()
not_visited_schema = NotVisitedSchema()


def page(items: list[Any], total: int, filters: dict[str, Any]) -> dict[str, Any]:
    return {"items": items, "total": total, "page": filters["page"],
            "per_page": filters["per_page"]}


class ContractsApi:
    """Expects ``self.db`` and ``self.caller`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext

    # ------------------------------------------------------------------ contracts

    @rpc
    def create_contract(self, payload: dict[str, Any]) -> dict:
        """Record a contract and its obligations (协议合同)."""
        principal = self.caller.principal
        data = load(ContractCreateSchema(), payload)
        with self.db.transaction() as session:
            calendar = workdays.calendar(session)
            contract, obligations = contracts.create(session, principal, data, calendar)
            today = contracts.today_in_shanghai()
            return contract_schema.dump(contracts.contract_view(contract, obligations, today))

    @rpc
    def list_contracts(self, query: dict[str, Any]) -> dict:
        principal = self.caller.principal
        filters = load(ContractQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = contracts.list_visible(session, principal, filters)
            obligations = contracts.obligations_of(session, [c.id for c in rows])
            today = contracts.today_in_shanghai()
            items = [contracts.contract_view(c, obligations[c.id], today) for c in rows]
            return page(contract_schema.dump(items, many=True), total, filters)

    @rpc
    def get_contract(self, contract_id: str) -> dict:
        principal = self.caller.principal
        with self.db.transaction() as session:
            contract = contracts.get_visible(session, principal, contract_id)
            obligations = contracts.obligations_of(session, [contract.id])[contract.id]
            today = contracts.today_in_shanghai()
            return contract_schema.dump(contracts.contract_view(contract, obligations, today))

    # ------------------------------------------------------------------ obligations

    @rpc
    def fulfil_obligation(self, contract_id: str, obligation_id: str,
                          expected_version: Any = None) -> dict:
        """履约: the owning department (or a coordinator, an admin) marks it fulfilled; with
        ``expected_version``, only while the contract is still at that version (412)."""
        principal = self.caller.principal
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            ob = contracts.fulfil(session, principal, contract_id, obligation_id,
                                  expected=expected)
            today = contracts.today_in_shanghai()
            return obligation_schema.dump(contracts.obligation_view(ob, today))

    @rpc
    def list_obligations(self, query: dict[str, Any]) -> dict:
        """预先消除违约事项: what is open, due soon, overdue or fulfilled."""
        principal = self.caller.principal
        filters = load(ObligationQuerySchema(), query)
        today = contracts.today_in_shanghai()
        with self.db.transaction() as session:
            rows, total = contracts.list_obligations(session, principal, filters, today)
            items = [contracts.obligation_view(ob, today) for ob in rows]
            return page(obligation_schema.dump(items, many=True), total, filters)

    @rpc
    def get_obligation_settings(self) -> dict:
        if self.caller.principal.role not in STAFF_ROLES | {Role.SERVICE}:
            raise Forbidden("only staff see the obligation settings",
                            code="obligation.settings_forbidden")
        with self.db.transaction() as session:
            return ObligationSettingsSchema().dump(self._obligation_settings(session))

    @rpc
    def update_obligation_settings(self, payload: dict[str, Any],
                                   expected_version: Any = None) -> dict:
        """Admins set the reminder lead time; open obligations are re-planned. The version
        last read (``expected_version``, or the body's ``version``) must still be current."""
        principal = self.caller.principal.require(Role.ADMIN)
        data = load(ObligationSettingsSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        expected = in_body if expected is None else expected
        with self.db.transaction() as session:
            contracts.update_settings(session, principal, data, workdays.calendar(session),
                                      expected)
            return ObligationSettingsSchema().dump(self._obligation_settings(session))

    @staticmethod
    def _obligation_settings(session: Any) -> dict[str, Any]:
        """The settings with their version (one row of ``settings``: the ETag)."""
        return {**contracts.obligation_settings(session),
                "version": contracts.setting_version(session, contracts.SETTINGS_KEY)}

    @rpc
    def sweep_obligations(self, today: str | None = None) -> dict:
        """Run one obligation sweep now (admins; for tests and operations). ``today``
        (YYYY-MM-DD) defaults to today in Asia/Shanghai and may not be later than it, so that
        no reminder or breach is ever recorded ahead of time."""
        self.caller.principal.require(Role.ADMIN)
        actual = contracts.today_in_shanghai()
        day = actual if today is None else parse_day(today)
        if day > actual:
            raise invalid_fields({"today": [field_error(
                "obligation.day_in_future", "later than today ({today})",
                today=actual.isoformat())]})
        counts = self._sweep_obligations_as_of(day)
        return {**counts, "today": day.isoformat()}

    @timer(interval=SWEEP_SECONDS)
    def obligation_sweep_tick(self) -> None:
        """Every replica sweeps; SKIP LOCKED claims keep each event to exactly one. Never
        raises: a failed sweep (e.g. the database away) is logged and retried next tick."""
        try:
            self._sweep_obligations_as_of(contracts.today_in_shanghai())
        except Exception:
            SWEEP_FAILURES.inc()
            log.exception("obligation sweep failed; retrying on the next tick")

    def _sweep_obligations_as_of(self, today: date) -> dict[str, Any]:
        with self.db.transaction() as session:
            calendar = workdays.calendar(session)
        counts = contracts.run_sweep(self.db.transaction, calendar, today)
        if counts["reminded"] or counts["overdue"]:
            OBLIGATION_EVENTS.labels("obligation_due").inc(counts["reminded"])
            OBLIGATION_EVENTS.labels("obligation_overdue").inc(counts["overdue"])
            log.info("obligation sweep for %s: %s reminded, %s overdue",
                     today.isoformat(), counts["reminded"], counts["overdue"])
        return counts

    @event_handler("ticketing", "calendar_year_loaded")
    def on_calendar_year_loaded(self, payload: Any) -> None:
        """An operator loaded a year's schedule: keep it, and re-plan open reminders (one
        ``obligation_deadline_changed`` event and one audit line each)."""
        try:
            event = check_envelope(payload)
        except ValidationFailed as exc:
            log.error("dropped a malformed calendar_year_loaded event: %s", exc)
            return
        with self.db.transaction() as session:
            if not first_delivery(session, processed_events, event["event_id"],
                                  "on_calendar_year_loaded"):
                return
            try:
                workdays.store_year(session, event["data"])
            except (KeyError, TypeError, ValueError) as exc:
                log.error("dropped a calendar_year_loaded event with bad data: %s", exc)
                return
            contracts.replan_after_load(session, workdays.calendar(session),
                                        int(event["data"]["year"]), event["event_id"])

    # ------------------------------------------------------------------ visits

    @rpc
    def create_visit(self, payload: dict[str, Any]) -> dict:
        """走访: a grid worker logs a visit to an enterprise of their grid."""
        principal = self.caller.principal
        data = load(VisitCreateSchema(), payload)
        with self.db.transaction() as session:
            visit = visits.record(session, principal, data, contracts.today_in_shanghai())
            return visit_schema.dump(visit)

    @rpc
    def get_visit(self, visit_id: str) -> dict:
        principal = self.caller.principal
        with self.db.transaction() as session:
            return visit_schema.dump(visits.get_visible(session, principal, visit_id))

    @rpc
    def list_visits(self, query: dict[str, Any]) -> dict:
        principal = self.caller.principal
        filters = load(VisitQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = visits.list_visible(session, principal, filters)
            return page(visit_schema.dump(rows, many=True), total, filters)

    @rpc
    def list_not_visited(self, query: dict[str, Any]) -> dict:
        """未走访企业: in-scope enterprises without a visit in the last N days."""
        principal = self.caller.principal
        filters = load(NotVisitedQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = visits.not_visited(
                session, principal, filters, contracts.today_in_shanghai()
            )
            return page(not_visited_schema.dump(rows, many=True), total, filters)


def parse_day(value: object) -> date:
    """A YYYY-MM-DD string, or ValidationFailed naming ``today``."""
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise invalid_fields({"today": [field_error(
            "field.not_date", "not a date in the form YYYY-MM-DD")]}) from None
