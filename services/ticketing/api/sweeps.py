"""RPC entrypoints of ticketing: the SLA sweep (时限巡检) timer, its admin trigger, and the
open-work gauges. The rules are in :mod:`services.ticketing.sweep`.

Every replica runs the timer every ``SLA_SWEEP_SECONDS`` (default 5); SKIP LOCKED claims keep
each breach, escalation (督办升级) and reminder to exactly one replica.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from common.auth import Role
from common.config import load_settings, seconds_from_env
from common.db import make_engine
from common.entrypoints import rpc
from services.ticketing import sla_metrics, sweep

log = logging.getLogger(__name__)


def sweep_interval(environ: Mapping[str, str] = os.environ) -> float:
    """Seconds between sweeps: ``SLA_SWEEP_SECONDS``, default 5."""
    return seconds_from_env("SLA_SWEEP_SECONDS", 5, dict(environ))


SLA_SWEEP_SECONDS = sweep_interval()


class OpenWorkMetrics(DependencyProvider):
    """Registers ``gridsvc_open_demands`` / ``gridsvc_open_tasks`` (read at scrape time) once
    per process, on a small engine of its own so a scrape never waits for a worker's pool."""

    def setup(self) -> None:
        sla_metrics.register_open_work(
            lambda: make_engine(load_settings().database_url, "ticketing", "ticketing-metrics",
                                pool_size=1)
        )

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class SweepApi:
    """Expects ``self.db``, ``self.caller`` and ``self.calendar`` from the service class."""

    db: Any
    caller: Any
    calendar: Any

    open_work_metrics = OpenWorkMetrics()

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
