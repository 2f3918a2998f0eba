"""Ticketing service: entrypoints only; the rules live in the modules beside it."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy

from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import rpc
from common.health import health_report
from common.service_identity import CallingIdentity
from services.ticketing.api.appraisal import AppraisalApi
from services.ticketing.api.calendar import CalendarApi
from services.ticketing.api.closure import ClosureApi
from services.ticketing.api.exports import ExportsApi
from services.ticketing.api.handling import HandlingApi
from services.ticketing.api.intake import IntakeApi
from services.ticketing.api.settings import SettingsApi
from services.ticketing.api.supervision import SupervisionApi
from services.ticketing.api.sweeps import SweepApi
from services.ticketing.calendar_years import CalendarCache


class WorkCalendarProvider(DependencyProvider):
    """``self.calendar``: this process's working-day calendar (工作日历), built from
    ``chinese_calendar`` and ``ticketing.calendar_years``; see :class:`CalendarCache`."""

    def setup(self) -> None:
        self.cache = CalendarCache()

    def get_dependency(self, worker_ctx: Any) -> CalendarCache:
        return self.cache


class TicketingService(IntakeApi, HandlingApi, ClosureApi, ExportsApi, SweepApi, SettingsApi,
                       AppraisalApi, CalendarApi, SupervisionApi):
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
