"""SLA metrics of ticketing (时限、超时、升级督办), for the operators' Grafana dashboards.

Counters and the timer-delay histogram are fed by the sweep (:mod:`services.ticketing.sweep`)
after each committed batch, so a rolled-back batch counts nothing. Every labelled series is
created at zero when the process starts (:func:`prime`), for every kind, department and level,
with the departments from the registry (refreshed on its department and category events):
Prometheus sees each series at 0 before its first event, so ``increase()`` counts that event.

Open demands and tasks, the tasks overdue or due within a working day, and the age of the
oldest due deadline the sweep has not fired yet are read from the database at scrape time by
:class:`OpenWorkCollector`, so nothing drifts. Every replica reads the same rows and exports
the same figures: the queries aggregate them with ``max``, never ``sum``
(deploy/prometheus/rules.yml).

Labels are bounded: ``kind`` (the seven deadline kinds), ``department`` (about 14
departments; ``none`` for 分理 breaches, which have none yet), ``level`` (1-3), ``state``.
Never a demand, task or enterprise id. ``gridsvc_department_info{department, name}`` gives the
Chinese name of each department for the dashboards to join.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, CollectorRegistry
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from common.calendar import SHANGHAI, WorkCalendar
from common.gauges import SqlGaugeCollector, register_once

log = logging.getLogger(__name__)

#: ``department`` label of a breach without a department (分理 happens before routing)
NO_DEPARTMENT = "none"
#: its name for people (the dashboards join it like a department's)
NO_DEPARTMENT_NAME = "未分派（分理前）"
#: escalation levels (督办升级): 1 department head, 2 leader in charge, 3 leading group office
LEVELS = (1, 2, 3)
#: kinds breached and met per department; triage is breached and met before routing
DEPARTMENT_KINDS = ("acceptance", "handling")
#: states of a demand not yet closed, of a task still being worked on
OPEN_DEMAND_STATES = ("received", "triaged", "in_progress", "awaiting_rating")
OPEN_TASK_STATES = ("assigned", "coordination", "accepted")
#: ``due`` label of ``gridsvc_open_tasks_due``
DUE_WINDOWS = ("overdue", "next_workday")

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


#: department id → Chinese name, from the registry (:func:`prime`)
DEPARTMENTS: dict[str, str] = {}


def prime(kinds: Iterable[str], departments: Mapping[str, str] | None = None) -> None:
    """Create every labelled SLA series at zero: each kind; triage met and breached without a
    department; acceptance and handling per department; each escalation level. Remember the
    departments' names (``gridsvc_department_info``). Safe to call again (a series that exists
    keeps its value)."""
    for kind in kinds:
        DEADLINES_DUE.labels(kind)
        SWEEP_ERRORS.labels(kind)
        TIMER_DELAY.labels(kind)
    DEADLINES_MET.labels("triage", NO_DEPARTMENT)
    BREACHES.labels("triage", NO_DEPARTMENT)
    for level in LEVELS:
        ESCALATIONS.labels(str(level))
    if departments is not None:
        for department in departments:
            for kind in DEPARTMENT_KINDS:
                DEADLINES_MET.labels(kind, department)
                BREACHES.labels(kind, department)
        DEPARTMENTS.clear()
        DEPARTMENTS.update(departments)


def record_met(deadlines: Iterable[tuple[str, str | None]]) -> None:
    """Count deadlines ``(kind, department)`` cancelled before their due time; never raises."""
    try:
        for kind, department in deadlines:
            if kind in MET_KINDS:
                DEADLINES_MET.labels(kind, department or NO_DEPARTMENT).inc()
    except Exception:
        log.exception("recording SLA metrics failed")



@dataclass
class Counts:
    """What a sweep did (committed batches only): what :func:`record` adds to the metrics."""

    due: Tally[str] = field(default_factory=Tally)  # fired deadlines by kind
    breaches: Tally[tuple[str, str | None]] = field(default_factory=Tally)  # (kind, dept)
    escalations: Tally[int] = field(default_factory=Tally)  # by level
    reminders: int = 0
    errors: Tally[str] = field(default_factory=Tally)  # effects given up, by kind
    delays: list[tuple[str, float]] = field(default_factory=list)  # (kind, fired - due, s)

    def add(self, other: Counts) -> None:
        self.due.update(other.due)
        self.breaches.update(other.breaches)
        self.escalations.update(other.escalations)
        self.reminders += other.reminders
        self.errors.update(other.errors)
        self.delays.extend(other.delays)

    @property
    def fired(self) -> int:
        return sum(self.due.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (for ``sweep_now`` and the log)."""
        delays = [d for _, d in self.delays]
        return {
            "fired": self.fired,
            "due": dict(self.due),
            "breaches": sum(self.breaches.values()),
            "escalations": {str(level): n for level, n in sorted(self.escalations.items())},
            "reminders": self.reminders,
            "errors": sum(self.errors.values()),
            "max_delay_seconds": round(max(delays), 3) if delays else None,
        }


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


OPEN_DEMANDS_SQL = text(
    "SELECT status, count(*) FROM ticketing.demands WHERE status <> 'closed' GROUP BY status"
)
OPEN_TASKS_SQL = text(
    "SELECT status, department_id, count(*) FROM ticketing.tasks "
    "WHERE status NOT IN ('completed', 'cancelled') GROUP BY status, department_id"
)
#: the deadline a department is working against: acceptance while assigned, handling after
TASKS_DUE_SQL = text(
    "SELECT department_id, count(*) FILTER (WHERE due < now()), "
    "count(*) FILTER (WHERE due >= now() AND due < :horizon) FROM ("
    "  SELECT department_id, CASE status WHEN 'assigned' THEN accept_due_at ELSE due_at END AS due"
    "  FROM ticketing.tasks WHERE status IN ('assigned', 'accepted')) AS t "
    "WHERE due IS NOT NULL GROUP BY department_id"
)
#: seconds since the oldest deadline that is due and not fired came due (0: none); the sweep
#: fires them within seconds, so minutes mean it is stuck (index ix_deadlines_pending)
OLDEST_UNFIRED_SQL = text(
    "SELECT coalesce(extract(epoch FROM now() - min(due_at)), 0) FROM ticketing.deadlines "
    "WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= now()"
)


class OpenWorkCollector(SqlGaugeCollector):
    """Read at scrape time, a few GROUP BY queries on indexed columns:
    ``gridsvc_open_demands{state}``, ``gridsvc_open_tasks{state,department}``,
    ``gridsvc_open_tasks_due{department,due}`` (``overdue``: past the deadline the department
    works against, acceptance or handling; ``next_workday``: due before this time on the next
    working day), ``gridsvc_sla_oldest_unfired_deadline_seconds`` and
    ``gridsvc_department_info{department,name}``. Every state and known department is
    exported, at 0 when it has nothing. Never raises: on a database error it yields only the
    department names (:class:`common.gauges.SqlGaugeCollector`). ``horizon(session, now)``
    gives the end of the "due within one working day" window."""

    what = "open demands and tasks"

    def __init__(self, engine: Engine, horizon: Callable[[Session, datetime], datetime],
                 statement_timeout_ms: int = 2000) -> None:
        super().__init__(engine, statement_timeout_ms)
        self.horizon = horizon

    def always(self) -> Iterator[GaugeMetricFamily]:
        yield self._department_info()

    def read(self, session: Session) -> tuple[list[Any], list[Any], list[Any], float]:
        now = session.execute(text("SELECT now()")).scalar_one()
        horizon = self.horizon(session, now)
        return (list(session.execute(OPEN_DEMANDS_SQL).all()),
                list(session.execute(OPEN_TASKS_SQL).all()),
                list(session.execute(TASKS_DUE_SQL, {"horizon": horizon}).all()),
                float(session.execute(OLDEST_UNFIRED_SQL).scalar_one()))

    def families(self, figures: tuple[list[Any], list[Any], list[Any], float]
                 ) -> Iterator[GaugeMetricFamily]:
        demands, tasks, due, oldest = figures
        departments = set(DEPARTMENTS) | {d for _s, d, _n in tasks if d} | {
            d for d, _o, _n in due if d}
        open_demands = GaugeMetricFamily(
            "gridsvc_open_demands", "Demands (诉求) not yet closed (销号), by state",
            labels=["state"],
        )
        counts = {state: 0 for state in OPEN_DEMAND_STATES} | {s: n for s, n in demands}
        for state, count in sorted(counts.items()):
            open_demands.add_metric([state], count)
        open_tasks = GaugeMetricFamily(
            "gridsvc_open_tasks",
            "Tasks (任务) neither completed nor cancelled, by state and department",
            labels=["state", "department"],
        )
        by_task = {(s, d): 0 for s in OPEN_TASK_STATES for d in departments}
        by_task |= {(s, d or NO_DEPARTMENT): n for s, d, n in tasks}
        for (state, department), count in sorted(by_task.items()):
            open_tasks.add_metric([state, department], count)
        tasks_due = GaugeMetricFamily(
            "gridsvc_open_tasks_due",
            "Tasks past the deadline their department works against (acceptance while "
            "assigned, handling once accepted: due=overdue) or due before this time on the "
            "next working day (due=next_workday), by department",
            labels=["department", "due"],
        )
        by_due = {(d, w): 0 for d in departments for w in DUE_WINDOWS}
        for department, overdue, soon in due:
            by_due[(department, "overdue")] = overdue
            by_due[(department, "next_workday")] = soon
        for (department, window), count in sorted(by_due.items()):
            tasks_due.add_metric([department, window], count)
        stuck = GaugeMetricFamily(
            "gridsvc_sla_oldest_unfired_deadline_seconds",
            "Seconds since the oldest deadline that is due and not yet fired by the sweep came "
            "due (0 when there is none); the sweep fires due deadlines within seconds",
        )
        stuck.add_metric([], max(oldest, 0.0))
        yield open_demands
        yield open_tasks
        yield tasks_due
        yield stuck

    @staticmethod
    def _department_info() -> GaugeMetricFamily:
        info = GaugeMetricFamily(
            "gridsvc_department_info",
            "1 for each department (部门), with its Chinese name, for dashboards to join on "
            "the department label",
            labels=["department", "name"],
        )
        names = {NO_DEPARTMENT: NO_DEPARTMENT_NAME} | DEPARTMENTS
        for department, name in sorted(names.items()):
            info.add_metric([department, name], 1)
        return info


def next_workday_horizon(calendar: Callable[[Session], WorkCalendar]
                         ) -> Callable[[Session, datetime], datetime]:
    """The end of the "due within one working day" window: this time of day (Shanghai) on
    the next working day, with the working-day calendar ``calendar(session)`` reads."""

    def horizon(session: Session, now: datetime) -> datetime:
        local = now.astimezone(SHANGHAI)
        day, _provisional = calendar(session).add_workdays(local.date(), 1)
        return datetime.combine(day, local.timetz())

    return horizon


def register_open_work(engine: Callable[[], Engine],
                       horizon: Callable[[Session, datetime], datetime],
                       registry: CollectorRegistry = REGISTRY) -> OpenWorkCollector:
    """Register the collector once per process (per registry), with an engine made by
    ``engine()`` on the first call only; later calls return the first collector."""
    return register_once(OpenWorkCollector, lambda: OpenWorkCollector(engine(), horizon),
                         registry)
