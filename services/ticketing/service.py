"""Ticketing service: entrypoints only; the rules live in the modules beside it."""

from __future__ import annotations

import logging
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from nameko.timer import timer

from common import remote
from common.auth import STAFF_ROLES, Role
from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import rpc
from common.errors import NotFound, ValidationFailed
from common.health import health_report
from common.service_identity import CallingIdentity
from common.validation import load
from services.ticketing import calendar_years, intake, sla
from services.ticketing.api import lookup
from services.ticketing.api.appraisal import AppraisalApi
from services.ticketing.api.closure import ClosureApi
from services.ticketing.api.handling import HandlingApi
from services.ticketing.api.intake import IntakeApi
from services.ticketing.api.settings import SettingsApi
from services.ticketing.api.sweeps import SweepApi
from services.ticketing.calendar_years import CalendarCache
from services.ticketing.schemas import (
    CalendarYearListSchema,
    CalendarYearLoadedSchema,
    CalendarYearLoadSchema,
    CalendarYearSchema,
    DemandCreateSchema,
    DemandListQuerySchema,
    DemandSchema,
    TriageDeadlineQuerySchema,
    TriageDeadlineSchema,
    WorkdaysQuerySchema,
    WorkdaysSchema,
)

log = logging.getLogger(__name__)

demand_schema = DemandSchema()
#: how often every replica checks the calendar table when idle (the gauge, a new year)
CALENDAR_CHECK_SECONDS = 10


class WorkCalendarProvider(DependencyProvider):
    """``self.calendar``: this process's working-day calendar (工作日历), built from
    ``chinese_calendar`` and ``ticketing.calendar_years``; see :class:`CalendarCache`."""

    def setup(self) -> None:
        self.cache = CalendarCache()

    def get_dependency(self, worker_ctx: Any) -> CalendarCache:
        return self.cache


class TicketingService(IntakeApi, HandlingApi, ClosureApi, SweepApi, SettingsApi, AppraisalApi):
    """诉求: intake, triage, routing, deadlines, escalation, rating and closure."""

    name = "ticketing"

    db = Database("ticketing")
    caller = Caller()
    metrics = Metrics()
    calendar = WorkCalendarProvider()
    enterprise = RpcProxy("enterprise")
    # timers and event handlers call the registry as the service, RPC workers some calls
    identity = CallingIdentity()

    @rpc
    def health(self) -> dict[str, Any]:
        return health_report(self.name, self.db)

    @rpc
    def submit_demand(self, payload: dict[str, Any], idempotency_key: str | None = None) -> dict:
        principal = self.caller.principal
        data = load(DemandCreateSchema(), payload)
        enterprise_id = intake.resolve_enterprise(principal, data.get("enterprise_id"),
                                                  data.get("channel"))
        data["enterprise_id"] = enterprise_id
        if idempotency_key:  # a retry is answered even while the registry is unreachable
            with self.db.transaction() as session:
                existing = intake.find_by_key(session, principal, idempotency_key)
                if existing is not None:
                    same = intake.same_request(existing, intake.request_hash(data))
                    return {"demand": demand_schema.dump(same), "created": False}
        enterprise = intake.check_enterprise(self._enterprise_seen_by_caller(enterprise_id))
        with self.db.transaction() as session:
            calendar = self.calendar.get(session, lock=True)
            demand, created = intake.submit(
                session, principal, data, idempotency_key, calendar, self.caller.call_id,
                enterprise=enterprise,
            )
            result = demand_schema.dump(demand)
        return {"demand": result, "created": created}

    def _enterprise_seen_by_caller(self, enterprise_id: str) -> dict | None:
        """The registry's record, looked up with the caller's own token (its scope)."""
        try:
            return remote.call(self.enterprise.get_enterprise, enterprise_id)
        except NotFound:
            return None

    @rpc
    def get_demand(self, demand_id: str) -> dict:
        principal = self.caller.principal
        with self.db.transaction() as session:
            return demand_schema.dump(intake.get_visible(session, principal, demand_id))

    @rpc
    def list_demands(self, query: dict[str, Any]) -> dict:
        principal = self.caller.principal
        filters = load(DemandListQuerySchema(), query)
        ids = lookup.enterprise_ids(self, filters)
        with self.db.transaction() as session:
            rows, total = intake.list_visible(session, principal, filters, enterprise_ids=ids)
            return {
                "items": demand_schema.dump(rows, many=True),
                "total": total,
                "page": filters["page"],
                "per_page": filters["per_page"],
            }

    @rpc
    def triage_deadline(self, received_at: str) -> dict:
        """分理时限 of a demand received at ``received_at`` (ISO 8601 with offset)."""
        self.caller.principal  # noqa: B018 -- any authenticated caller
        parsed = load(TriageDeadlineQuerySchema(), {"received_at": received_at})["received_at"]
        with self.db.transaction() as session:
            deadline = sla.triage_deadline(self.calendar.get(session), parsed)
        return TriageDeadlineSchema().dump(
            {"deadline": deadline.at, "provisional": deadline.provisional}
        )

    # ------------------------------------------------------------------ calendar (工作日历)

    @rpc
    def workdays(self, query: dict[str, Any]) -> dict:
        """工作日 in an inclusive range, 调休 included; any authenticated caller."""
        self.caller.principal  # noqa: B018 -- any authenticated caller
        data = load(WorkdaysQuerySchema(), query)
        with self.db.transaction() as session:
            days, provisional = self.calendar.get(session).workdays_between(
                data["from_"], data["to"]
            )
        return WorkdaysSchema().dump({"workdays": days, "provisional": provisional})

    @rpc
    def list_calendar_years(self) -> dict:
        """Every year with data, and the current and next year, with their origin (staff)."""
        self.caller.principal.require(*STAFF_ROLES)
        with self.db.transaction() as session:
            items = calendar_years.year_summaries(session)
        return CalendarYearListSchema().dump({"items": items})

    @rpc
    def get_calendar_year(self, year: str) -> dict:
        """The schedule in force for a year (staff); 404 for a year without data."""
        self.caller.principal.require(*STAFF_ROLES)
        try:
            number = calendar_years.parse_year(year)
        except ValidationFailed as exc:
            raise NotFound("no calendar year {year}", code="calendar.year_not_found",
                           params={"year": repr(year)}) from exc
        with self.db.transaction() as session:
            detail = calendar_years.year_detail(session, number)
        if detail is None:
            raise NotFound(
                "no schedule for {year}: Monday-Friday is assumed and its deadlines are "
                "provisional until it is loaded", code="calendar.year_not_loaded",
                params={"year": number})
        return CalendarYearSchema().dump(detail)

    @rpc
    def load_calendar_year(self, year: str, payload: dict[str, Any]) -> dict:
        """Load (or replace) a year of the State Council schedule (admin) and re-plan the
        deadlines it changes, in one transaction."""
        principal = self.caller.principal.require(Role.ADMIN)
        number = calendar_years.parse_year(year)
        data = load(CalendarYearLoadSchema(), payload)
        schedule, source = calendar_years.parse_schedule(number, data)
        with self.db.transaction() as session:
            outcome = calendar_years.load_year(
                session, schedule, source, principal.user_id, self.caller.call_id
            )
        self.calendar.invalidate()
        return CalendarYearLoadedSchema().dump(outcome.as_dict())

    @timer(interval=CALENDAR_CHECK_SECONDS, eager=True)
    def calendar_tick(self) -> None:
        """Notice loads by other replicas or the file loader, and a new year, for the gauge
        ``gridsvc_calendar_year_missing``. Never raises: retried on the next tick."""
        try:
            with self.db.transaction() as session:
                self.calendar.get(session)
        except Exception:
            log.exception("checking the working-day calendar failed; retrying next tick")
