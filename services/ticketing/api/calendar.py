"""RPC entrypoints of the working-day calendar (工作日历): the 分理 deadline of a receive time,
the working days of a range, and the years of the State Council schedule (staff read them,
admins load them; :mod:`services.ticketing.calendar_years`).
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.timer import timer

from common.auth import STAFF_ROLES, Role
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import NotFound, ValidationFailed
from common.validation import load
from services.ticketing import calendar_years, sla
from services.ticketing.api import lookup
from services.ticketing.calendar_years import CalendarCache
from services.ticketing.schemas import (
    CalendarYearListSchema,
    CalendarYearLoadedSchema,
    CalendarYearLoadSchema,
    CalendarYearPreviewSchema,
    CalendarYearSchema,
    TriageDeadlineQuerySchema,
    TriageDeadlineSchema,
    WorkdaysQuerySchema,
    WorkdaysSchema,
)

log = logging.getLogger(__name__)

#: how often every replica checks the calendar table when idle (the gauge, a new year)
CALENDAR_CHECK_SECONDS = 10


class CalendarApi:
    """Expects ``self.db``, ``self.caller`` and ``self.calendar`` (this process's
    :class:`CalendarCache`) from the service class."""

    db: WorkerDatabase
    caller: CallerContext
    calendar: CalendarCache

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

    @rpc
    def preview_calendar_year(self, year: str, payload: dict[str, Any]) -> dict:
        """The deadlines a load of this schedule would move (admin), 分理 and every other kind,
        with the departments' and enterprises' names; changes nothing."""
        self.caller.principal.require(Role.ADMIN)
        number = calendar_years.parse_year(year)
        data = load(CalendarYearLoadSchema(), payload)
        schedule, source = calendar_years.parse_schedule(number, data)
        with self.db.transaction() as session:
            result = CalendarYearPreviewSchema().dump(
                calendar_years.preview_year(session, schedule, source))
        lookup.named(self, result["replanned"])
        return result

    @timer(interval=CALENDAR_CHECK_SECONDS, eager=True)
    def calendar_tick(self) -> None:
        """Notice loads by other replicas or the file loader, and a new year, for the gauge
        ``gridsvc_calendar_year_missing``. Never raises: retried on the next tick."""
        try:
            with self.db.transaction() as session:
                self.calendar.get(session)
        except Exception:
            log.exception("checking the working-day calendar failed; retrying next tick")
