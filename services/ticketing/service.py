"""Ticketing service: entrypoints only; the rules live in the modules beside it."""

from __future__ import annotations

from typing import Any

from common.calendar import WorkCalendar
from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import rpc
from common.health import health_report
from common.validation import load
from services.ticketing import intake
from services.ticketing.schemas import (
    DemandCreateSchema,
    DemandListQuerySchema,
    DemandSchema,
    TriageDeadlineQuerySchema,
    TriageDeadlineSchema,
)

demand_schema = DemandSchema()


class TicketingService:
    """诉求: intake, triage, routing, deadlines, escalation, rating and closure."""

    name = "ticketing"

    db = Database("ticketing")
    caller = Caller()
    metrics = Metrics()
    calendar = WorkCalendar()

    @rpc
    def health(self) -> dict[str, Any]:
        return health_report(self.name, self.db)

    @rpc
    def submit_demand(self, payload: dict[str, Any], idempotency_key: str | None = None) -> dict:
        principal = self.caller.principal
        data = load(DemandCreateSchema(), payload)
        with self.db.transaction() as session:
            demand, created = intake.submit(
                session, principal, data, idempotency_key, self.calendar, self.caller.call_id
            )
            result = demand_schema.dump(demand)
        return {"demand": result, "created": created}

    @rpc
    def get_demand(self, demand_id: str) -> dict:
        principal = self.caller.principal
        with self.db.transaction() as session:
            return demand_schema.dump(intake.get_visible(session, principal, demand_id))

    @rpc
    def list_demands(self, query: dict[str, Any]) -> dict:
        principal = self.caller.principal
        filters = load(DemandListQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = intake.list_visible(session, principal, filters)
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
        deadline = self.calendar.triage_deadline(parsed)
        return TriageDeadlineSchema().dump(
            {"deadline": deadline.at, "provisional": deadline.provisional}
        )
