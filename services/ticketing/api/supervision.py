"""RPC entrypoint of the supervision list (督办, :mod:`services.ticketing.supervision`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from common import remote
from common.entrypoints import rpc
from common.errors import DomainError
from common.validation import load
from services.ticketing import supervision
from services.ticketing.schemas import SupervisionPageSchema, SupervisionQuerySchema
from services.ticketing.sla_metrics import next_workday_horizon


class SupervisionApi:
    """Expects ``self.db``, ``self.caller``, ``self.calendar`` and ``self.enterprise``."""

    db: Any
    caller: Any
    calendar: Any
    enterprise: Any

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
        """Departments and grids by name (the registry's); ids stay when it cannot say."""
        departments = {r["department_id"] for r in result["items"] + result["by_department"]
                       if r.get("department_id")}
        grids = {r["grid_id"] for r in result["items"] + result["by_grid"] if r.get("grid_id")}
        try:
            names = remote.call(self.enterprise.names, [], sorted(grids), sorted(departments))
        except DomainError:
            names = {}
        grid_names, department_names = names.get("grids", {}), names.get("departments", {})
        for item in result["items"]:
            item["grid_name"] = grid_names.get(item["grid_id"])
            item["department_name"] = department_names.get(item["department_id"])
        for row in result["by_department"]:
            row["name"] = department_names.get(row["department_id"])
        for row in result["by_grid"]:
            row["name"] = grid_names.get(row["grid_id"])
