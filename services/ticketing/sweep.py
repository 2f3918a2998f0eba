"""The SLA sweep (时限巡检): fires due deadlines exactly once, from every replica.

:func:`run_once` claims due rows of ``ticketing.deadlines`` in batches with
``FOR UPDATE SKIP LOCKED`` (so replicas sweeping at the same moment split the work and never
fire a row twice), sets ``fired_at`` and applies the deadline's effect in the same
transaction. Each row runs in its own savepoint: a row whose effect fails is retried once and
then marked fired without its effect (logged, ``gridsvc_sla_sweep_errors_total``) so that one
bad row neither stops the sweep nor comes back on every tick. Unique constraints
(``breaches.deadline_id``, ``escalations (task_id, level, cause)``) are the last guard against
duplicates: inserts are ``ON CONFLICT DO NOTHING`` and the event follows only a new row.

What each due deadline does (its effects, its next rung, who is told) is decided by one
pure rule, :func:`services.ticketing.ladder.due_now`, on the locked subject; both paths below
apply its :class:`~services.ticketing.ladder.Action`.

The frequent kinds (``triage``, ``handling``, ``escalation`` at level 2 or 3, ``reminder``) are
applied set-wise (:func:`fire_batch`): one query locks the batch's demands, one its tasks (in
id order: demands first, as the lifecycle), the decisions are made in Python, then a few
multi-row statements write breaches and escalations (``ON CONFLICT DO NOTHING RETURNING``),
the next rungs, the outbox rows and the tasks' ``escalation_level``, and one ``UPDATE`` marks
the rows fired, all in one savepoint. If that savepoint fails, the batch is fired row by row
as above (:func:`fire`), so a bad row is still isolated. The other kinds always go row by row.

Plain functions over SQLAlchemy sessions; no broker in here. Metrics are recorded after each
batch commits (:mod:`services.ticketing.sla_metrics`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from common.calendar import Deadline as Due
from common.calendar import WorkCalendar
from common.outbox import envelope
from services.ticketing import closure, events, handling, ladder, ledger, sla, sla_metrics
from services.ticketing.ladder import OVERDUE, Action, rung_due
from services.ticketing.models import Breach, Deadline, Demand, Escalation, Task, outbox
from services.ticketing.sla_metrics import Counts

log = logging.getLogger(__name__)

#: most deadlines one transaction claims
BATCH = 500
#: most batches one run takes; the rest waits for the next tick (which follows at once if late)
MAX_BATCHES = 20

SessionFactory = Callable[[], AbstractContextManager[Session]]


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
            fast = [d for d in rows if _set_wise(d)]
            if fast and fire_batch(context, fast, lambda: _clock(now, started), part):
                rows_by_row = [d for d in rows if not _set_wise(d)]
            else:
                rows_by_row = rows
            for deadline in rows_by_row:
                fire(context, deadline, _clock(now, started), part)
        sla_metrics.record(part)  # committed
        total.add(part)
        if len(rows) < batch:
            break
    return total


def _clock(now: datetime, started: float) -> datetime:
    """``now`` plus the time this run has taken: the ``fired_at`` of what fires at this moment."""
    return now + timedelta(seconds=time.monotonic() - started)


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


# --------------------------------------------------------------------------- set-wise

#: kinds :func:`fire_batch` applies with multi-row statements (the others go row by row)
SET_WISE = frozenset({"triage", "handling", "escalation", "reminder"})


def _set_wise(deadline: Deadline) -> bool:
    if deadline.kind == "escalation":
        return deadline.level in (2, 3)  # anything else fails row by row, as it should
    return deadline.kind in SET_WISE


def fire_batch(context: _Batch, rows: list[Deadline], clock: Callable[[], datetime],
               counts: Counts) -> bool:
    """Apply the effects of ``rows`` (all :func:`_set_wise`, in claim order) with a few
    multi-row statements and mark them fired, in one savepoint. False (nothing done, logged)
    if anything failed: the caller then fires them row by row."""
    session = context.session
    part = Counts()
    try:
        with session.begin_nested():
            _apply_set_wise(context, rows, part)
            fired_at = clock()
            session.execute(
                update(Deadline.__table__)
                .where(Deadline.__table__.c.id.in_([d.id for d in rows]))
                .values(fired_at=fired_at)
            )
    except Exception:
        log.exception("SLA batch of %s deadlines failed set-wise; firing them row by row",
                      len(rows))
        return False
    for deadline in rows:
        set_committed_value(deadline, "fired_at", fired_at)
        part.due[deadline.kind] += 1
        part.delays.append((deadline.kind, (fired_at - deadline.due_at).total_seconds()))
    counts.add(part)
    return True


def _lock_subjects(session: Session, rows: list[Deadline]) -> tuple[dict[str, Any],
                                                                   dict[str, Any]]:
    """Lock the demands and tasks the rows are about, demands first (as the lifecycle), each
    in id order (so concurrent sweeps cannot deadlock on them); returns both by id."""
    task_ids = sorted({d.subject_id for d in rows if d.kind != "triage"})
    demand_ids = {d.subject_id for d in rows if d.kind == "triage"}
    if task_ids:
        demand_ids.update(session.execute(
            select(Task.demand_id).where(Task.id.in_(task_ids))
        ).scalars())
    demands: dict[str, Any] = {}
    if demand_ids:
        demands = {row.id: row for row in session.execute(
            select(Demand.id, Demand.number, Demand.enterprise_id, Demand.status,
                   Demand.grid_id)
            .where(Demand.id.in_(sorted(demand_ids)))
            .order_by(Demand.id).with_for_update()
        )}
    tasks: dict[str, Any] = {}
    if task_ids:
        tasks = {row.id: row for row in session.execute(
            select(Task.id, Task.demand_id, Task.department_id, Task.status, Task.due_at,
                   Task.escalation_level)
            .where(Task.id.in_(task_ids))
            .order_by(Task.id).with_for_update()
        ) if row.demand_id in demands}
    return demands, tasks


def _apply_set_wise(context: _Batch, rows: list[Deadline], counts: Counts) -> None:
    """The :func:`~services.ticketing.ladder.due_now` actions of a whole batch, with the same
    decisions, rows and events as :func:`_ladder` row by row."""
    session = context.session
    demands, tasks = _lock_subjects(session, rows)

    # what each row does, decided on the locked subjects
    actions: list[Action] = []
    breach_rows: list[tuple[Deadline, str | None]] = []  # (deadline, department)
    wanted: dict[tuple[str, int], int] = {}  # (task, level) → index of the first row asking
    rungs: list[tuple[int, Deadline, int]] = []  # (index, deadline, next level)
    for i, deadline in enumerate(rows):
        subject = (demands if deadline.kind == "triage" else tasks).get(deadline.subject_id)
        action = ladder.due_now(deadline.kind, deadline.level,
                                subject.status if subject is not None else None)
        actions.append(action)
        if action.breach:
            breach_rows.append((deadline, None if deadline.kind == "triage"
                                else subject.department_id))
        if action.escalate:
            wanted.setdefault((subject.id, action.escalate), i)
        if action.next_rung:
            rungs.append((i, deadline, action.next_rung))

    new_breaches: set[int] = set()
    if breach_rows:
        table = Breach.__table__
        new_breaches = set(session.execute(
            insert(table).on_conflict_do_nothing(index_elements=[table.c.deadline_id])
            .returning(table.c.deadline_id),
            [{"deadline_id": d.id, "kind": d.kind, "subject_id": d.subject_id,
              "department_id": department, "due_at": d.due_at}
             for d, department in breach_rows],
        ).scalars())
    new_escalations: set[tuple[str, int]] = set()
    if wanted:
        table = Escalation.__table__
        new_escalations = {(task_id, level) for task_id, level in session.execute(
            insert(table).on_conflict_do_nothing(constraint="uq_escalation")
            .returning(table.c.task_id, table.c.level),
            [{"task_id": task_id, "level": level, "cause": OVERDUE,
              "department_id": tasks[task_id].department_id}
             for task_id, level in wanted],
        ).all()}
    if rungs:
        _schedule_rungs(context, rows, tasks, rungs)
    ledger.write_lines(session, [  # each new breach and escalation in the demand's ledger
        *[_breach_line(d, department, demands, tasks)
          for d, department in breach_rows if d.id in new_breaches],
        *[ledger.escalation_line(level, tasks[task_id].demand_id, task_id,
                                 tasks[task_id].department_id, tasks[task_id].status)
          for task_id, level in sorted(new_escalations)]])

    # escalation_level = max(escalation_level, every new level), as _escalate does
    tops: dict[str, int] = {}
    for task_id, level in new_escalations:
        tops[task_id] = max(tops.get(task_id, 0), level)
    raised: dict[int, list[str]] = {}
    for task_id, top in tops.items():
        if top > (tasks[task_id].escalation_level or 0):
            raised.setdefault(top, []).append(task_id)
    for level, task_ids in sorted(raised.items()):
        session.execute(update(Task.__table__).where(Task.__table__.c.id.in_(task_ids))
                        .values(escalation_level=level))

    # the events, in the order the row-by-row sweep writes them
    out: list[dict[str, Any]] = []

    def publish(event_type: str, data: dict[str, Any]) -> None:
        env = envelope(events.SOURCE, event_type, data)
        out.append({"event_id": env["event_id"], "event_type": event_type, "payload": env,
                    "call_id": None})

    for i, (deadline, action) in enumerate(zip(rows, actions, strict=True)):
        kind = deadline.kind
        if kind == "triage":
            if action.breach and deadline.id in new_breaches:
                data = _demand_data(demands[deadline.subject_id])
                publish("sla_breached", _breach_data(deadline, None, data))
                counts.breaches[(kind, None)] += 1
            continue
        task = tasks.get(deadline.subject_id)
        if task is None:
            continue
        data = _task_data(task, demands[task.demand_id])
        if action.breach and deadline.id in new_breaches:
            publish("sla_breached", _breach_data(deadline, task.department_id, data))
            counts.breaches[(kind, task.department_id)] += 1
        level = action.escalate
        if level and wanted.get((task.id, level)) == i and (task.id, level) in new_escalations:
            publish("task_escalated", {**data, "level": level, "cause": OVERDUE,
                                       "due_at": _iso(task.due_at)})
            counts.escalations[level] += 1
        if action.remind:
            publish("deadline_reminder", {**data, "due_at": _iso(task.due_at)})
            counts.reminders += 1
    if out:
        session.execute(insert(outbox), out)
        session.info["outbox_pending"] = True


def _breach_line(deadline: Deadline, department_id: str | None, demands: dict[str, Any],
                 tasks: dict[str, Any]) -> dict | None:
    """The ledger line of a new breach of the batch, on its locked subject."""
    if deadline.kind == "triage":
        demand = demands[deadline.subject_id]
        return ledger.breach_line("triage", demand.id, None, None, demand.status)
    task = tasks[deadline.subject_id]
    return ledger.breach_line(deadline.kind, task.demand_id, task.id, department_id, task.status)


def _schedule_rungs(context: _Batch, rows: list[Deadline], tasks: dict[str, Any],
                    rungs: list[tuple[int, Deadline, int]]) -> None:
    """The next rungs, each unless one is pending for its task and level at that row's turn:
    a pending row outside the batch, a row of the batch still to come (the row-by-row sweep
    marks rows fired in turn), or one scheduled by an earlier row."""
    session = context.session
    batch_ids = {d.id for d in rows}
    pending = {
        (subject_id, level) for row_id, subject_id, level in session.execute(
            select(Deadline.id, Deadline.subject_id, Deadline.level).where(
                Deadline.subject_id.in_(sorted({d.subject_id for _, d, _ in rungs})),
                Deadline.kind == "escalation", Deadline.level.in_([2, 3]),
                Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None))
        ) if row_id not in batch_ids
    }
    last_in_batch = {(d.subject_id, d.level): i for i, d in enumerate(rows)
                     if d.kind == "escalation"}
    new: list[dict[str, Any]] = []
    # a busy day shares one due_at
    due_after: dict[tuple[datetime, int, bool], Due] = {}
    for i, deadline, level in rungs:
        key = (deadline.subject_id, level)
        if key in pending or last_in_batch.get(key, -1) > i:
            continue
        pending.add(key)
        workdays = ladder.rung_workdays(context.settings, level)
        basis = (deadline.due_at, workdays, bool(deadline.provisional))
        due = due_after.get(basis)
        if due is None:
            due = due_after[basis] = rung_due(context.calendar, *basis)
        task = tasks[deadline.subject_id]
        new.append({"kind": "escalation", "subject_id": task.id,
                    "department_id": task.department_id, "level": level, "due_at": due.at,
                    "provisional": due.provisional})
    if new:
        session.execute(insert(Deadline.__table__), new)


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


def _breach_data(deadline: Deadline, department_id: str | None,
                 data: dict[str, Any]) -> dict[str, Any]:
    """The ``sla_breached`` event's data."""
    return {**data, "kind": deadline.kind, "deadline_id": deadline.id,
            "due_at": _iso(deadline.due_at), "department_id": department_id}


def _demand_data(demand: Any) -> dict[str, Any]:
    return {"demand_id": demand.id, "number": demand.number, "enterprise_id": demand.enterprise_id,
            "grid_id": demand.grid_id}


def _task_data(task: Any, demand: Any) -> dict[str, Any]:
    return {"demand_id": demand.id, "number": demand.number, "enterprise_id": demand.enterprise_id,
            "task_id": task.id, "department_id": task.department_id}


def _record_breach(session: Session, deadline: Deadline, department_id: str | None,
                   data: dict[str, Any], counts: Counts, state: str | None = None) -> bool:
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
    ledger.write_lines(session, [ledger.breach_line(
        deadline.kind, data["demand_id"], data.get("task_id"), department_id, state)])
    events.publish(session, "sla_breached", _breach_data(deadline, department_id, data))
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
    ledger.write_lines(session, [ledger.escalation_line(level, demand.id, task.id,
                                                        task.department_id, task.status)])
    events.publish(session, "task_escalated", {
        **_task_data(task, demand), "level": level, "cause": OVERDUE,
        "due_at": _iso(task.due_at),
    })
    counts.escalations[level] += 1
    return True


def _schedule_next_rung(context: _Batch, task: Task, deadline: Deadline, level: int) -> None:
    """The escalation deadline to ``level`` after the configured working days, unless one is
    already pending for this task."""
    session = context.session
    pending = session.execute(select(exists().where(
        Deadline.subject_id == task.id, Deadline.kind == "escalation", Deadline.level == level,
        Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None),
    ))).scalar_one()
    if pending:
        return
    due = rung_due(context.calendar, deadline.due_at,
                   ladder.rung_workdays(context.settings, level), bool(deadline.provisional))
    sla.schedule(session, "escalation", task.id, due.at, department_id=task.department_id,
                 level=level, provisional=due.provisional)


# --------------------------------------------------------------------------- effects


def _ladder(context: _Batch, deadline: Deadline, counts: Counts) -> None:
    """The :func:`~services.ticketing.ladder.due_now` action of one deadline, on its locked
    subject (the demand for ``triage``, else the task and its demand)."""
    session = context.session
    if deadline.kind == "triage":
        demand = _lock_demand(session, deadline.subject_id)
        action = ladder.due_now(deadline.kind, deadline.level,
                                demand.status if demand is not None else None)
        if action.breach and demand is not None:
            _record_breach(session, deadline, None, _demand_data(demand), counts,
                           demand.status)
        return
    found = _task_and_demand(session, deadline.subject_id)
    action = ladder.due_now(deadline.kind, deadline.level,
                            found[0].status if found is not None else None)
    if found is None:
        return
    task, demand = found
    if action.breach:
        new = _record_breach(session, deadline, task.department_id, _task_data(task, demand),
                             counts, task.status)
        if new and action.time_out:
            # 受理超时 → 待协调: the lifecycle's own transition (ledger, task_returned, state)
            handling.time_out_acceptance(session, task.id, context.calendar, now=context.now)
    if action.escalate:
        _escalate(session, task, demand, action.escalate, counts)
    if action.next_rung:
        _schedule_next_rung(context, task, deadline, action.next_rung)
    if action.remind:
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
    "triage": _ladder,
    "acceptance": _ladder,
    "handling": _ladder,
    "escalation": _ladder,
    "reminder": _ladder,
    "rating_reminder": _rating_reminder,
    "close_unrated": _close_unrated,
}
assert set(EFFECTS) == set(sla.KINDS)
