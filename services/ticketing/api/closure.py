"""RPC entrypoints of ticketing: rating and closure (评价, 自动销号, 内部销号), the enterprise's
timeline (办理进度) and the ledger (台账) with its three lists (their XLSX export:
:mod:`services.ticketing.api.exports`).

The rules live in :mod:`services.ticketing.closure` and :mod:`services.ticketing.views`.
"""

from __future__ import annotations

from typing import Any

from common import concurrency
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
    LedgerQuerySchema,
    LedgerViewQuerySchema,
    RatedSchema,
    RatingCreateSchema,
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
        with self.db.transaction() as session:
            calendar = self.calendar.get(session)
            concurrency.expect_version(session, Demand, demand_id, expected, "demand")
            demand = closure.resolve(session, principal, demand_id, data, calendar,
                                     call_id=self.caller.call_id)
            return DemandSchema().dump(demand)

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
