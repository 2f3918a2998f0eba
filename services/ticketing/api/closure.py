"""RPC entrypoints of ticketing: rating and closure (评价, 自动销号, 内部销号), the enterprise's
timeline (办理进度) and the ledger (台账) with its three lists (their XLSX export:
:mod:`services.ticketing.api.exports`).

The rules live in :mod:`services.ticketing.closure` and :mod:`services.ticketing.views`.
"""

from __future__ import annotations

from typing import Any

from common import concurrency, remote
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import NotFound
from common.validation import load
from services.ticketing import closure, views
from services.ticketing.api import lookup
from services.ticketing.calendar_years import CalendarCache
from services.ticketing.models import Demand
from services.ticketing.schemas import (
    DemandSchema,
    DissatisfiedResolutionSchema,
    InternalReportSchema,
    LedgerQuerySchema,
    LedgerViewQuerySchema,
    RatedSchema,
    RatingCreateSchema,
    TaskSchema,
)


class ClosureApi:
    """Needs ``db``, ``caller``, ``calendar``, ``enterprise`` (an ``RpcProxy``) and
    ``identity`` (a ``CallingIdentity``) from the service class."""

    db: WorkerDatabase
    caller: CallerContext
    calendar: CalendarCache
    enterprise: Any
    identity: Any

    @rpc
    def rate_demand(self, demand_id: str, payload: dict[str, Any],
                    expected_version: Any = None) -> dict[str, Any]:
        """评价 by the owning enterprise (``RatingCreateSchema``); ``RatedSchema``.
        Satisfied closes the demand (自动销号); a second rating of a round is a Conflict."""
        principal = self.caller.principal
        data = load(RatingCreateSchema(), payload)
        expected = concurrency.expected_version(expected_version)
        with self.db.transaction() as session:
            concurrency.expect_version(session, Demand, demand_id, expected, "demand")
            rating = closure.rate(session, principal, demand_id, data,
                                  call_id=self.caller.call_id)
            demand = session.get(Demand, rating.demand_id)
            return RatedSchema().dump({"rating": rating, "demand": demand})

    @rpc
    def resolve_dissatisfied(self, demand_id: str, payload: dict[str, Any],
                             expected_version: Any = None) -> dict[str, Any]:
        """A coordinator's answer to a dissatisfied rating: ``reopen`` a task or
        ``close_internally`` with the written report (内部销号); the demand after it."""
        principal = self.caller.principal
        data = load(DissatisfiedResolutionSchema(), payload)
        expected = concurrency.expected_version(expected_version)
        owner = None
        if data["action"] in ("agree_report", "return_report"):
            owner = self._owner_department(demand_id)
        with self.db.transaction() as session:
            calendar = self.calendar.get(session)
            concurrency.expect_version(session, Demand, demand_id, expected, "demand")
            demand = closure.resolve(session, principal, demand_id, data, calendar,
                                     call_id=self.caller.call_id, owner_department=owner)
            return DemandSchema().dump(demand)

    def _owner_department(self, demand_id: str) -> str | None:
        """The department owning the demand's grid (the registry's, read with the caller's
        token): 经济发展部 for a geographic grid, 科技创新部 for an incubator; 经济发展部 (which
        runs the platform) for a demand without a grid."""
        with self.db.transaction() as session:
            demand = session.get(Demand, demand_id) if closure._is_uuid(demand_id) else None
            grid_id = demand.grid_id if demand is not None else None
        if demand is None:
            return None
        if not grid_id:
            return "economic_development"
        try:
            return remote.call(self.enterprise.get_grid, grid_id)["owner_department_id"]
        except NotFound:
            return "economic_development"

    @rpc
    def file_internal_report(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """书面报告 of the task's department on a dissatisfied demand (``InternalReportSchema``);
        the task after it."""
        principal = self.caller.principal
        data = load(InternalReportSchema(), payload)
        with self.db.transaction() as session:
            task = closure.file_report(session, principal, task_id, data,
                                       call_id=self.caller.call_id)
            return TaskSchema().dump(task)

    @rpc
    def demand_timeline(self, demand_id: str) -> dict[str, Any]:
        """办理进度 of a demand (``DemandTimelineSchema``) for whoever may read it."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            result = views.timeline(session, principal, demand_id)
        # departments, grids and the enterprise by name; never a staff member (a role instead)
        return lookup.named(self, [result], kinds=lookup.PUBLIC_KINDS)[0]

    @rpc
    def list_ledger(self, query: dict[str, Any]) -> dict[str, Any]:
        """台账 entries (``LedgerPageSchema``)."""
        principal = self.caller.principal
        filters = load(LedgerQuerySchema(), query)
        with self.db.transaction() as session:
            page = views.list_ledger(session, principal, filters)
        lookup.named(self, page["items"])
        return page

    @rpc
    def ledger_view(self, view: str, query: dict[str, Any]) -> dict[str, Any]:
        """One of the three lists: ``problems`` (问题清单), ``tasks`` (任务清单) or ``done``
        (落实清单), filtered and paginated (``LedgerViewQuerySchema``)."""
        principal = self.caller.principal
        filters = load(LedgerViewQuerySchema(), query)
        build = views.VIEWS.get(view)
        if build is None:
            raise NotFound("no ledger view {view}", code="ledger.view_not_found",
                           params={"view": repr(view)})
        ids = lookup.enterprise_ids(self, filters)
        with self.db.transaction() as session:
            page = build(session, principal, filters, enterprise_ids=ids)
        lookup.named(self, page["items"])
        return page
