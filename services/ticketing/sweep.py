"""The SLA sweep (时限巡检): fires due deadlines exactly once, from every replica.

:func:`run_once` claims due rows of ``ticketing.deadlines`` in batches with
``FOR UPDATE SKIP LOCKED`` (so replicas sweeping at the same moment split the work and never
fire a row twice), sets ``fired_at`` and applies the deadline's effect in the same
transaction. Each row runs in its own savepoint: a row whose effect fails is retried once and
then marked fired without its effect (logged, ``gridsvc_sla_sweep_errors_total``) so that one
bad row neither stops the sweep nor comes back on every tick. Unique constraints
(``breaches.deadline_id``, ``escalations (task_id, level, cause)``) are the last guard against
duplicates: inserts are ``ON CONFLICT DO NOTHING`` and the event follows only a new row.

Effects, each only if the subject has not moved on (else the row is just marked fired):

- ``triage``: the demand is still ``received`` → 超时 breach (no department), ``sla_breached``.
- ``acceptance``: the task is still ``assigned`` → breach, the task times out to
  ``coordination`` (:func:`services.ticketing.handling.time_out_acceptance`), ``sla_breached``.
- ``handling``: the task is still ``accepted`` → breach, ``sla_breached``, 督办升级 level 1
  (department head), ``task_escalated``, and the level-2 deadline
  ``escalate_to_leader_workdays`` working days later.
- ``escalation`` (level 2 or 3): the task is not completed → escalation at that level,
  ``task_escalated``; level 2 schedules level 3 ``escalate_to_group_workdays`` later.
- ``reminder``: the task is still ``accepted`` → ``deadline_reminder``.
- ``rating_reminder`` / ``close_unrated``: :mod:`services.ticketing.closure` decides.

Plain functions over SQLAlchemy sessions; no broker in here. Metrics are recorded after each
batch commits (:mod:`services.ticketing.sla_metrics`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.calendar import SHANGHAI, WorkCalendar
from services.ticketing import closure, events, handling, sla, sla_metrics
from services.ticketing.models import Breach, Deadline, Demand, Escalation, Task
from services.ticketing.workflow import DemandState, TaskState

log = logging.getLogger(__name__)

#: most deadlines one transaction claims
BATCH = 500
#: most batches one run takes; the rest waits for the next tick (which follows at once if late)
MAX_BATCHES = 20
#: escalation cause of the SLA ladder (the other cause, ``reopened``, is the lifecycle's)
OVERDUE = "overdue"
#: task states that end the 督办 ladder
TASK_DONE = frozenset({TaskState.COMPLETED.value, TaskState.CANCELLED.value})

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass
class Counts:
    """What a sweep did (committed batches only)."""

    due: Counter[str] = field(default_factory=Counter)  # fired deadlines by kind
    breaches: Counter[tuple[str, str | None]] = field(default_factory=Counter)  # (kind, dept)
    escalations: Counter[int] = field(default_factory=Counter)  # by level
    reminders: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # effects given up, by kind
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


class _Batch:
    """What the effects of one claimed batch share: session, calendar, settings (read once)."""

    def __init__(self, session: Session, calendar: WorkCalendar) -> None:
        self.session = session
        self.calendar = calendar
        self.now: datetime | None = None  # fired_at of the deadline being fired
        self._settings: dict[str, Any] | None = None

    @property
    def settings(self) -> dict[str, Any]:
        if self._settings is None:
            self._settings = sla.settings(self.session)
        return self._settings


# --------------------------------------------------------------------------- the loop


def claim(session: Session, now: datetime, limit: int = BATCH) -> list[Deadline]:
    """Lock up to ``limit`` due, pending deadlines that no other sweep holds, oldest first."""
    return list(session.execute(
        select(Deadline)
        .where(Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None),
               Deadline.due_at <= now)
        .order_by(Deadline.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars())


def run_once(session_factory: SessionFactory, calendar: WorkCalendar, now: datetime, *,
             batch: int = BATCH, max_batches: int = MAX_BATCHES) -> Counts:
    """Fire every deadline due at ``now`` (up to ``batch * max_batches``); one transaction per
    batch. ``session_factory()`` must give a session in a transaction committed on exit
    (``sessionmaker.begin`` or ``self.db.transaction``). ``fired_at`` is ``now`` plus the time
    this run has taken, so ``fired_at - due_at`` is the real timer delay (延迟)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    started = time.monotonic()
    total = Counts()
    for _ in range(max_batches):
        part = Counts()
        with session_factory() as session:
            rows = claim(session, now, batch)
            context = _Batch(session, calendar)
            for deadline in rows:
                fired_at = now + timedelta(seconds=time.monotonic() - started)
                fire(context, deadline, fired_at, part)
        sla_metrics.record(part)  # committed
        total.add(part)
        if len(rows) < batch:
            break
    return total


def fire(context: _Batch, deadline: Deadline, fired_at: datetime, counts: Counts) -> None:
    """Mark one claimed deadline fired and apply its effect in a savepoint (retried once)."""
    session = context.session
    deadline.fired_at = context.now = fired_at
    session.flush()  # the mark belongs to the batch, whatever the effect does
    counts.due[deadline.kind] += 1
    counts.delays.append((deadline.kind, (fired_at - deadline.due_at).total_seconds()))
    effect = EFFECTS.get(deadline.kind)
    for attempt in (1, 2):
        part = Counts()
        try:
            with session.begin_nested():
                if effect is None:
                    raise ValueError(f"unknown deadline kind {deadline.kind!r}")
                effect(context, deadline, part)
        except Exception:
            log.exception("SLA deadline %s (%s of %s) failed, attempt %s", deadline.id,
                          deadline.kind, deadline.subject_id, attempt)
            continue
        counts.add(part)
        return
    counts.errors[deadline.kind] += 1
    log.error("SLA deadline %s (%s of %s) marked fired without its effect", deadline.id,
              deadline.kind, deadline.subject_id)


# --------------------------------------------------------------------------- helpers


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _lock_demand(session: Session, demand_id: str) -> Demand | None:
    return session.get(Demand, demand_id, with_for_update=True, populate_existing=True)


def _task_and_demand(session: Session, task_id: str) -> tuple[Task, Demand] | None:
    """The task and its demand, both locked against concurrent moves in the lifecycle's order
    (demand first, then task: see :mod:`services.ticketing.handling`)."""
    demand_id = session.execute(
        select(Task.demand_id).where(Task.id == task_id)
    ).scalar_one_or_none()
    if demand_id is None:
        return None
    demand = _lock_demand(session, demand_id)
    task = session.get(Task, task_id, with_for_update=True, populate_existing=True)
    if demand is None or task is None:
        return None
    return task, demand


def _task_data(task: Task, demand: Demand) -> dict[str, Any]:
    return {"demand_id": demand.id, "number": demand.number, "enterprise_id": demand.enterprise_id,
            "task_id": task.id, "department_id": task.department_id}


def _record_breach(session: Session, deadline: Deadline, department_id: str | None,
                   data: dict[str, Any], counts: Counts) -> bool:
    """超时: one breach per deadline (unique ``deadline_id``) and its ``sla_breached`` event."""
    inserted = session.execute(
        insert(Breach).values(deadline_id=deadline.id, kind=deadline.kind,
                              subject_id=deadline.subject_id, department_id=department_id,
                              due_at=deadline.due_at)
        .on_conflict_do_nothing(index_elements=[Breach.deadline_id])
        .returning(Breach.id)
    ).scalar_one_or_none()
    if inserted is None:
        return False
    events.publish(session, "sla_breached", {
        **data, "kind": deadline.kind, "deadline_id": deadline.id,
        "due_at": _iso(deadline.due_at), "department_id": department_id,
    })
    counts.breaches[(deadline.kind, department_id)] += 1
    return True


def _escalate(session: Session, task: Task, demand: Demand, level: int,
              counts: Counts) -> bool:
    """督办升级 to ``level`` (unique per task, level and cause) and ``task_escalated``."""
    inserted = session.execute(
        insert(Escalation).values(task_id=task.id, level=level, cause=OVERDUE,
                                  department_id=task.department_id)
        .on_conflict_do_nothing(constraint="uq_escalation")
        .returning(Escalation.id)
    ).scalar_one_or_none()
    if inserted is None:
        return False
    task.escalation_level = max(task.escalation_level or 0, level)
    events.publish(session, "task_escalated", {
        **_task_data(task, demand), "level": level, "cause": OVERDUE,
        "due_at": _iso(task.due_at),
    })
    counts.escalations[level] += 1
    return True


def after_workdays(calendar: WorkCalendar, due_at: datetime, workdays: int) -> datetime:
    """The same local time (Asia/Shanghai) ``workdays`` working days after ``due_at``'s day,
    调休 included (as :meth:`WorkCalendar.deadline_after_workdays`, keeping the hour)."""
    local = due_at.astimezone(SHANGHAI)
    day, _provisional = calendar.add_workdays(local.date(), int(workdays))
    return datetime.combine(day, local.time(), SHANGHAI)


def _schedule_next_rung(context: _Batch, task: Task, deadline: Deadline, level: int) -> None:
    """The escalation deadline to ``level`` after the configured working days, unless one is
    already pending for this task."""
    session = context.session
    key = "escalate_to_leader_workdays" if level == 2 else "escalate_to_group_workdays"
    pending = session.execute(select(exists().where(
        Deadline.subject_id == task.id, Deadline.kind == "escalation", Deadline.level == level,
        Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None),
    ))).scalar_one()
    if pending:
        return
    due = after_workdays(context.calendar, deadline.due_at, context.settings[key])
    sla.schedule(session, "escalation", task.id, due, department_id=task.department_id,
                 level=level)


# --------------------------------------------------------------------------- effects


def _triage(context: _Batch, deadline: Deadline, counts: Counts) -> None:
    session = context.session
    demand = _lock_demand(session, deadline.subject_id)
    if demand is None or demand.status != DemandState.RECEIVED:
        return
    data = {"demand_id": demand.id, "number": demand.number,
            "enterprise_id": demand.enterprise_id}
    _record_breach(session, deadline, None, data, counts)


def _acceptance(context: _Batch, deadline: Deadline, counts: Counts) -> None:
    session = context.session
    found = _task_and_demand(session, deadline.subject_id)
    if found is None or found[0].status != TaskState.ASSIGNED:
        return
    task, demand = found
    if _record_breach(session, deadline, task.department_id, _task_data(task, demand), counts):
        # 受理超时 → 待协调: the lifecycle's own transition (ledger, task_returned, demand state)
        handling.time_out_acceptance(session, task.id, context.calendar, now=context.now)


def _handling(context: _Batch, deadline: Deadline, counts: Counts) -> None:
    session = context.session
    found = _task_and_demand(session, deadline.subject_id)
    if found is None or found[0].status != TaskState.ACCEPTED:
        return
    task, demand = found
    _record_breach(session, deadline, task.department_id, _task_data(task, demand), counts)
    _escalate(session, task, demand, 1, counts)
    _schedule_next_rung(context, task, deadline, 2)


def _escalation(context: _Batch, deadline: Deadline, counts: Counts) -> None:
    if deadline.level not in (2, 3):
        raise ValueError(f"escalation deadline {deadline.id} has level {deadline.level}")
    session = context.session
    found = _task_and_demand(session, deadline.subject_id)
    if found is None or found[0].status in TASK_DONE:
        return
    task, demand = found
    _escalate(session, task, demand, deadline.level, counts)
    if deadline.level == 2:
        _schedule_next_rung(context, task, deadline, 3)


def _reminder(context: _Batch, deadline: Deadline, counts: Counts) -> None:
    session = context.session
    found = _task_and_demand(session, deadline.subject_id)
    if found is None or found[0].status != TaskState.ACCEPTED:
        return
    task, demand = found
    events.publish(session, "deadline_reminder",
                   {**_task_data(task, demand), "due_at": _iso(task.due_at)})
    counts.reminders += 1


def _rating_reminder(context: _Batch, deadline: Deadline, counts: Counts) -> None:
    """待评价提醒: :func:`services.ticketing.closure.remind_rating` decides and records."""
    closure.remind_rating(context.session, deadline.subject_id, now=context.now)


def _close_unrated(context: _Batch, deadline: Deadline, counts: Counts) -> None:
    """逾期未评价 → closed as unrated: :func:`services.ticketing.closure.close_unrated`."""
    closure.close_unrated(context.session, deadline.subject_id, now=context.now)


Effect = Callable[[_Batch, Deadline, Counts], None]

EFFECTS: dict[str, Effect] = {
    "triage": _triage,
    "acceptance": _acceptance,
    "handling": _handling,
    "escalation": _escalation,
    "reminder": _reminder,
    "rating_reminder": _rating_reminder,
    "close_unrated": _close_unrated,
}
assert set(EFFECTS) == set(sla.KINDS)
