"""RPC entrypoints of ticketing: the SLA sweep (时限巡检) timer, its admin trigger, and the
SLA metrics (the open-work gauges, every labelled series created at zero), and the refresh of
the answers kept as computed, the leaders' overview and the province's appraisal
(:mod:`services.ticketing.snapshots`). The rules are in
:mod:`services.ticketing.sweep` and :mod:`services.ticketing.sla_metrics`.

Every replica runs the timer every ``SLA_SWEEP_SECONDS`` (default 5); SKIP LOCKED claims keep
each breach, escalation (督办升级) and reminder to exactly one replica.

The departments of the SLA series come from the registry (``enterprise.list_departments``):
asked at start until it answers, again on every ``department_changed`` and
``category_changed`` event (each replica hears each one: broadcast handlers) and every
``DEPARTMENTS_REFRESH_SECONDS`` in case an event was missed.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nameko.events import BROADCAST
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from common import remote
from common.auth import Role
from common.config import load_settings, seconds_from_env
from common.db import WorkerDatabase, make_engine
from common.dependencies import CallerContext
from common.entrypoints import event_handler, rpc
from services.ticketing import calendar_years, sla, sla_metrics, snapshots, sweep
from services.ticketing.appraisal import rollup
from services.ticketing.calendar_years import CalendarCache

log = logging.getLogger(__name__)


def sweep_interval(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds between sweeps: ``SLA_SWEEP_SECONDS``, default 5."""
    return seconds_from_env("SLA_SWEEP_SECONDS", 5, dict(environ))


SLA_SWEEP_SECONDS = sweep_interval()
#: how often a replica checks whether it still has to read the departments (until it has them)
DEPARTMENTS_CHECK_SECONDS = 5
#: how often each replica looks for closures the appraisal rollup lacks (rollup.catch_up)
ROLLUP_CATCH_UP_SECONDS = 600
#: and reads them again anyway, in case a department or category event was missed
DEPARTMENTS_REFRESH_SECONDS = 600


class OpenWorkMetrics(DependencyProvider):
    """Creates every labelled SLA series at zero, and registers the open-work gauges (read at
    scrape time) once per process, on a small engine of its own so a scrape never waits for a
    worker's pool. ``self.sla_series.stale`` says the departments must be read (again)."""

    def setup(self) -> None:
        sla_metrics.prime(sla.KINDS)
        self.loaded_at: float | None = None
        self.stale = True
        sla_metrics.register_open_work(
            lambda: make_engine(load_settings().database_url, "ticketing", "ticketing-metrics",
                                pool_size=1),
            sla_metrics.next_workday_horizon(lambda s: calendar_years.read_calendar(s)[0]),
        )

    def due(self, now: float) -> bool:
        return self.stale or self.loaded_at is None or \
            now - self.loaded_at >= DEPARTMENTS_REFRESH_SECONDS

    def loaded(self, departments: list[dict[str, Any]], now: float) -> None:
        sla_metrics.prime(sla.KINDS, {d["id"]: d["name"] for d in departments})
        self.loaded_at = now
        self.stale = False

    def get_dependency(self, worker_ctx: Any) -> OpenWorkMetrics:
        return self


class SweepApi:
    """Expects ``self.db``, ``self.caller`` and ``self.calendar`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext
    calendar: CalendarCache
    enterprise: Any  # RpcProxy("enterprise"), called with the service's identity

    sla_series = OpenWorkMetrics()

    @timer(interval=DEPARTMENTS_CHECK_SECONDS, eager=True)
    def departments_tick(self) -> None:
        """Read the departments for the SLA series when due (never raises)."""
        if self.sla_series.due(time.monotonic()):
            self._read_departments()

    @event_handler("enterprise", "department_changed", handler_type=BROADCAST,
                   reliable_delivery=False)
    def on_department_changed(self, _payload: Any) -> None:
        self.sla_series.stale = True
        self._read_departments()

    @event_handler("enterprise", "category_changed", handler_type=BROADCAST,
                   reliable_delivery=False)
    def on_category_changed(self, _payload: Any) -> None:
        self.sla_series.stale = True
        self._read_departments()

    def _read_departments(self) -> None:
        try:
            departments = remote.call(self.enterprise.list_departments)
        except Exception as exc:  # the registry may not run yet: the next tick asks again
            log.info("departments for the SLA series not read yet: %r", exc)
            return
        self.sla_series.loaded(departments, time.monotonic())
        log.info("SLA series primed for %d departments", len(departments))

    @timer(interval=ROLLUP_CATCH_UP_SECONDS, eager=True)
    def rollup_catch_up_tick(self) -> None:
        """考评 rollup: record the last days' closures it lacks (an upgrade's former replicas
        closed them). Never raises: retried on the next tick."""
        try:
            with self.db.transaction() as session:
                added = rollup.catch_up(session)
            if added:
                log.warning("appraisal rollup: %d closed demands recorded late", added)
        except Exception:
            log.exception("appraisal rollup catch-up failed; retrying on the next tick")

    @timer(interval=snapshots.REFRESH_SECONDS)
    def overview_refresh_tick(self) -> None:
        """领导总览 and 考评: recompute the kept answers read recently before they go stale,
        so that a leader's read is answered from one, and delete those nobody read for a week. Never
        raises (refresh_due logs each failure; the
        previous snapshot stays and the next tick tries again)."""
        try:
            done = snapshots.refresh_due(self.db.transaction)
            if done["failed"]:
                log.warning("overview snapshots: %s", done)
        except Exception:
            log.exception("overview snapshot refresh failed; retrying on the next tick")

    @rpc
    def sweep_now(self) -> dict[str, Any]:
        """Run one SLA sweep now (admins and services; for operations and tests)."""
        self.caller.principal.require(Role.ADMIN, Role.SERVICE)
        return self._sla_sweep(datetime.now(UTC)).as_dict()

    @timer(interval=SLA_SWEEP_SECONDS)
    def sla_sweep_tick(self) -> None:
        """超时/升级 sweep of every replica. Never raises: a failed run (e.g. the database
        away) is logged and retried on the next tick."""
        try:
            self._sla_sweep(datetime.now(UTC))
        except Exception:
            sla_metrics.SWEEP_FAILURES.inc()
            log.exception("SLA sweep failed; retrying on the next tick")

    def _sla_sweep(self, now: datetime) -> sweep.Counts:
        with self.db.transaction() as session:
            calendar = self.calendar.get(session)
        started = time.monotonic()
        counts = sweep.run_once(self.db.transaction, calendar, now)
        if counts.fired:
            log.info("SLA sweep in %.2fs: %s", time.monotonic() - started, counts.as_dict())
        return counts
