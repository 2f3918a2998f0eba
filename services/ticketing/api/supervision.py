"""RPC entrypoint of the supervision list (督办, :mod:`services.ticketing.supervision`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from common.entrypoints import rpc
from common.validation import load
from services.ticketing import supervision
from services.ticketing.api.lookup import PUBLIC_KINDS, named
from services.ticketing.schemas import SupervisionPageSchema, SupervisionQuerySchema
from services.ticketing.sla_metrics import next_workday_horizon


class SupervisionApi:
    """Expects ``self.db``, ``self.caller``, ``self.calendar``, ``self.enterprise`` and
    ``self.identity``."""

    db: Any
    caller: Any
    calendar: Any
    enterprise: Any
    identity: Any

    @rpc
    def supervision(self, query: Any = None) -> dict[str, Any]:
        """督办: overdue, due within one working day and escalated work, by department and
        grid, in the caller's scope (``SupervisionPageSchema``)."""
        filters = load(SupervisionQuerySchema(), query or {})
        principal = self.caller.principal
        now = datetime.now(UTC)
        with self.db.transaction() as session:
            horizon = next_workday_horizon(self.calendar.get)(session, now)
            result = supervision.page(session, principal, now, horizon, filters)
        self._name(result)
        return SupervisionPageSchema().dump(result)

    def _name(self, result: dict[str, Any]) -> None:
        """Enterprises, departments and grids by name, read from the registry as the service
        (a liaison may not read a grid there); the ids stay when it cannot say."""
        counts = result["by_department"] + result["by_grid"]
        named(self, result["items"] + counts, kinds=PUBLIC_KINDS)
        for row in result["by_department"]:
            row["name"] = row.get("department_name")
        for row in result["by_grid"]:
            row["name"] = row.get("grid_name")
