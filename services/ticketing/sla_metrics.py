"""SLA metrics of ticketing (时限、超时、升级督办), for the operators' Grafana dashboards.

Counters and the timer-delay histogram are fed by the sweep (:mod:`services.ticketing.sweep`)
after each committed batch, so a rolled-back batch counts nothing. Open demands and tasks by
state are read from the database at scrape time by :class:`OpenWorkCollector`, so every
replica reports the same truth and nothing drifts.

Labels are bounded: ``kind`` (the seven deadline kinds), ``department`` (about 14
departments; ``none`` for 分理 breaches, which have none yet), ``level`` (1-3), ``state``.
Never a demand, task or enterprise id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from services.ticketing.sweep import Counts

log = logging.getLogger(__name__)

#: ``department`` label of a breach without a department (分理 happens before routing)
NO_DEPARTMENT = "none"

DEADLINES_DUE = Counter(
    "gridsvc_sla_deadlines_due_total",
    "SLA deadlines (时限) that came due and were fired by a sweep, by kind",
    ["kind"],
)
DEADLINES_MET = Counter(
    "gridsvc_sla_deadlines_met_total",
    "SLA deadlines (triage, acceptance, handling) cancelled before coming due: the step was "
    "done in time. Counted when the cancellation is written (a rolled-back request overcounts)",
    ["kind", "department"],
)
#: the kinds whose on-time share the dashboards show (met / (met + breached))
MET_KINDS = frozenset({"triage", "acceptance", "handling"})
BREACHES = Counter(
    "gridsvc_sla_breaches_total",
    "SLA breaches (超时) recorded, by deadline kind and responsible department",
    ["kind", "department"],
)
ESCALATIONS = Counter(
    "gridsvc_sla_escalations_total",
    "Overdue escalations (督办升级) recorded: 1 department head, 2 leader in charge, "
    "3 leading group office",
    ["level"],
)
REMINDERS = Counter(
    "gridsvc_sla_reminders_total", "Reminders (办理时限提醒) sent before a handling deadline"
)
SWEEP_ERRORS = Counter(
    "gridsvc_sla_sweep_errors_total",
    "Deadlines whose effect failed twice and were marked fired without it (see the log)",
    ["kind"],
)
SWEEP_FAILURES = Counter(
    "gridsvc_sla_sweep_failures_total", "Whole sweep runs that failed (retried on the next tick)"
)
TIMER_DELAY = Histogram(
    "gridsvc_sla_timer_delay_seconds",
    "Time from a deadline's due_at to the sweep firing it (fired_at - due_at), by kind",
    ["kind"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 86400),
)


def record_met(deadlines: Iterable[tuple[str, str | None]]) -> None:
    """Count deadlines ``(kind, department)`` cancelled before their due time; never raises."""
    try:
        for kind, department in deadlines:
            if kind in MET_KINDS:
                DEADLINES_MET.labels(kind, department or NO_DEPARTMENT).inc()
    except Exception:
        log.exception("recording SLA metrics failed")


def record(counts: Counts) -> None:
    """Add a committed batch's counts to the metrics; never raises."""
    try:
        for kind, n in counts.due.items():
            DEADLINES_DUE.labels(kind).inc(n)
        for (kind, department), n in counts.breaches.items():
            BREACHES.labels(kind, department or NO_DEPARTMENT).inc(n)
        for level, n in counts.escalations.items():
            ESCALATIONS.labels(str(level)).inc(n)
        if counts.reminders:
            REMINDERS.inc(counts.reminders)
        for kind, n in counts.errors.items():
            SWEEP_ERRORS.labels(kind).inc(n)
        for kind, delay in counts.delays:
            TIMER_DELAY.labels(kind).observe(max(delay, 0.0))
    except Exception:  # metrics must never undo a committed sweep
        log.exception("recording SLA metrics failed")


#: demand states that are still open (not 销号), and task states still being worked on
OPEN_DEMANDS_SQL = text(
    "SELECT status, count(*) FROM ticketing.demands WHERE status <> 'closed' GROUP BY status"
)
OPEN_TASKS_SQL = text(
    "SELECT status, department_id, count(*) FROM ticketing.tasks "
    "WHERE status NOT IN ('completed', 'cancelled') GROUP BY status, department_id"
)


class OpenWorkCollector(Collector):
    """``gridsvc_open_demands{state}`` and ``gridsvc_open_tasks{state,department}``, read with
    two GROUP BY queries at scrape time. Never raises: on a database error it yields nothing
    (the series go stale, which a dashboard shows as a gap, not as a false zero)."""

    def __init__(self, engine: Engine, statement_timeout_ms: int = 2000) -> None:
        self.engine = engine
        self.statement_timeout_ms = int(statement_timeout_ms)

    def describe(self) -> list:
        return []  # no query at registration time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text(f"SET LOCAL statement_timeout = {self.statement_timeout_ms}"))
                demands = conn.execute(OPEN_DEMANDS_SQL).all()
                tasks = conn.execute(OPEN_TASKS_SQL).all()
                conn.rollback()
        except Exception as exc:
            log.warning("reading open demands and tasks for /metrics failed: %s", exc)
            return
        open_demands = GaugeMetricFamily(
            "gridsvc_open_demands", "Demands (诉求) not yet closed (销号), by state",
            labels=["state"],
        )
        for state, count in demands:
            open_demands.add_metric([state], count)
        open_tasks = GaugeMetricFamily(
            "gridsvc_open_tasks",
            "Tasks (任务) neither completed nor cancelled, by state and department",
            labels=["state", "department"],
        )
        for state, department, count in tasks:
            open_tasks.add_metric([state, department or NO_DEPARTMENT], count)
        yield open_demands
        yield open_tasks


_registered: dict[int, OpenWorkCollector] = {}


def register_open_work(engine: Callable[[], Engine],
                       registry: CollectorRegistry = REGISTRY) -> OpenWorkCollector:
    """Register the collector once per process (per registry), with an engine made by
    ``engine()`` on the first call only; later calls return the first collector."""
    key = id(registry)
    if key not in _registered:
        collector = OpenWorkCollector(engine())
        registry.register(collector)
        _registered[key] = collector
    return _registered[key]
