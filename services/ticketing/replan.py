"""Re-planning the working-day deadlines after a calendar year is loaded (工作日历).

A deadline counted in working days is provisional while it falls in, or is counted across, a
year without a loaded table (Monday to Friday stands in). Loading the year
(:func:`services.ticketing.calendar_years.load_year`) re-plans each one that has not fired,
exactly as the 分理 deadlines are (``recompute_triage_deadlines``): the acceptance (受理确认)
and handling (办理时限) deadlines of open tasks with their reminders (提醒) and pending
escalation rungs (督办), and the rating reminder (提醒评价) and unrated closure (未评价销号) of
demands awaiting their rating. Each changed task gets a new ``version``, one
``task_deadline_changed`` event and one ledger line (``deadline_replanned``); each changed
demand one ``rating_deadline_changed`` and one line.

Plain functions over a SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from common.calendar import SHANGHAI, WorkCalendar
from services.ticketing import events, ladder, ledger, sla
from services.ticketing.models import Deadline, Demand, Extension, LedgerEntry, Task

#: the ledger line of a re-planned subject
ACTION = "deadline_replanned"


def _bounds(year: int) -> tuple[datetime, datetime]:
    return (datetime.combine(date(year, 1, 1), time(0), SHANGHAI),
            datetime.combine(date(year + 1, 1, 1), time(0), SHANGHAI))


def _touches(year: int, start: datetime | None, due: datetime | None) -> bool:
    """The deadline falls in ``year`` or is counted across it (start before its end, due on or
    after its first day)."""
    if start is None or due is None:
        return False
    first, end = _bounds(year)
    return start < end and due >= first


def _may_touch(subject_id: Any, first: datetime) -> Any:
    """SQL: the subject has a pending deadline a load of the year starting at ``first`` may
    move: provisional, or due on or after that day (a deadline due earlier was counted before
    the year began). Only those subjects are locked and looked at, so loading next year does
    not visit every open task of the zone."""
    return exists().where(Deadline.subject_id == subject_id, Deadline.fired_at.is_(None),
                          Deadline.cancelled_at.is_(None),
                          or_(Deadline.provisional.is_(True), Deadline.due_at >= first))


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment is not None else None


def _last(session: Session, task_id: str, actions: tuple[str, ...]) -> datetime | None:
    return session.execute(
        select(func.max(LedgerEntry.at)).where(LedgerEntry.task_id == task_id,
                                               LedgerEntry.action.in_(actions))
    ).scalar_one()


def _pending(session: Session, subject_id: str, kind: str) -> list[Deadline]:
    return list(session.execute(
        select(Deadline).where(Deadline.subject_id == subject_id, Deadline.kind == kind,
                               Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None))
        .order_by(Deadline.level, Deadline.id)
    ).scalars())


def _handling_basis(session: Session, task: Task) -> tuple[datetime, int]:
    """(start, working days) of the task's handling deadline: accepted (or last reopened) at,
    its handling days plus the extensions approved since."""
    assert task.accepted_at is not None
    reopened = _last(session, task.id, ("reopen",))
    start = max(task.accepted_at, reopened) if reopened else task.accepted_at
    extended = session.execute(
        select(func.coalesce(func.sum(Extension.workdays), 0))
        .where(Extension.task_id == task.id, Extension.status == "approved",
               Extension.decided_at >= start)
    ).scalar_one()
    return start, int(task.handling_workdays) + int(extended)


def _replan_task(session: Session, calendar: WorkCalendar, task: Task, year: int,
                 config: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The task's deadlines re-planned; what changed (name → (before, after))."""
    changes: dict[str, Any] = {}
    if task.status == "assigned" and task.accept_due_at is not None:
        start = _last(session, task.id, ("assign", "reassign")) or task.created_at
        if _pending(session, task.id, "acceptance") and (
                task.accept_due_provisional or _touches(year, start, task.accept_due_at)):
            due = calendar.deadline_after_workdays(start, int(config["acceptance_workdays"]))
            if (due.at, due.provisional) != (task.accept_due_at, task.accept_due_provisional):
                changes["accept_due_at"] = (_iso(task.accept_due_at), _iso(due.at))
                changes["accept_due_provisional"] = (task.accept_due_provisional,
                                                     due.provisional)
                task.accept_due_at, task.accept_due_provisional = due.at, due.provisional
                sla.replan(session, task.id, "acceptance", due.at, due.provisional)
    if task.status == "accepted" and task.due_at is not None and task.accepted_at is not None:
        start, workdays = _handling_basis(session, task)
        unfired = bool(_pending(session, task.id, "handling"))
        if unfired and (task.due_provisional or _touches(year, start, task.due_at)):
            due = calendar.deadline_after_workdays(start, workdays)
            if (due.at, due.provisional) != (task.due_at, task.due_provisional):
                changes["due_at"] = (_iso(task.due_at), _iso(due.at))
                changes["due_provisional"] = (task.due_provisional, due.provisional)
                task.due_at, task.due_provisional = due.at, due.provisional
                sla.replan(session, task.id, "handling", due.at, due.provisional)
                sla.cancel(session, task.id, ("reminder",))
                sla.schedule_reminders(session, calendar, task, now)
        base, base_provisional = task.due_at, bool(task.due_provisional)
        for rung in _pending(session, task.id, "escalation"):
            if rung.level == 3:
                fired = session.execute(
                    select(Deadline.due_at, Deadline.provisional)
                    .where(Deadline.subject_id == task.id, Deadline.kind == "escalation",
                           Deadline.level == 2)
                    .order_by(Deadline.id.desc()).limit(1)).one_or_none()
                if fired is not None:
                    base, base_provisional = fired.due_at, bool(fired.provisional)
            due_rung = ladder.rung_due(calendar, base, ladder.rung_workdays(config, rung.level),
                                       base_provisional)
            if (due_rung.at, due_rung.provisional) != (rung.due_at, rung.provisional) and (
                    rung.provisional or _touches(year, base, rung.due_at)):
                changes[f"escalation_{rung.level}_due_at"] = (_iso(rung.due_at),
                                                             _iso(due_rung.at))
                changes[f"escalation_{rung.level}_provisional"] = (rung.provisional,
                                                                   due_rung.provisional)
                rung.due_at, rung.provisional = due_rung.at, due_rung.provisional
    return changes


def _replan_rating(session: Session, calendar: WorkCalendar, demand: Demand, year: int,
                   config: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if demand.completed_at is None:
        return changes
    days = {"rating_reminder": int(config["rating_reminder_workdays"]),
            "close_unrated": int(config["close_unrated_workdays"])}
    for kind, workdays in days.items():
        for deadline in _pending(session, demand.id, kind):
            if not (deadline.provisional
                    or _touches(year, demand.completed_at, deadline.due_at)):
                continue
            due = calendar.deadline_after_workdays(demand.completed_at, workdays)
            if (due.at, due.provisional) != (deadline.due_at, deadline.provisional):
                changes[f"{kind}_at"] = (_iso(deadline.due_at), _iso(due.at))
                changes[f"{kind}_provisional"] = (deadline.provisional, due.provisional)
                deadline.due_at, deadline.provisional = due.at, due.provisional
    return changes


def _line(demand_id: str, task: Task | None) -> dict[str, Any]:
    state = task.status if task is not None else "awaiting_rating"
    return {"demand_id": demand_id, "task_id": task.id if task is not None else None,
            "department_id": task.department_id if task is not None else None,
            "action": ACTION, "from_state": state, "to_state": state,
            "actor": ledger.PLATFORM_ACTOR, "actor_role": ledger.PLATFORM_ROLE,
            "reason": None, "channel": None}


@dataclass
class Replanned:
    """A subject whose deadlines a load moves: a task (``task`` set) or a demand awaiting its
    rating; ``changes``: name → (before, after), as :func:`_replan_task` and
    :func:`_replan_rating` report them."""

    demand_id: str
    number: str
    enterprise_id: str
    task: Task | None
    changes: dict[str, Any]


def plan(session: Session, calendar: WorkCalendar, year: int,
         now: datetime | None = None) -> list[Replanned]:
    """Re-plan every unfired working-day deadline of open tasks and of demands awaiting their
    rating that ``year`` touches (the rows, the deadlines, the reminders), and say what
    moved. Writes no event, ledger line or version: :func:`replan_after_load` does, and
    :func:`preview` undoes the whole of it."""
    config = sla.settings(session)
    moment = now or datetime.now(UTC)
    first, _ = _bounds(year)
    found: list[Replanned] = []
    tasks = session.execute(
        select(Task, Demand.number, Demand.enterprise_id)
        .join(Demand, Demand.id == Task.demand_id)
        .where(Task.status.in_(("assigned", "accepted")),
               or_(Task.due_provisional.is_(True), Task.accept_due_provisional.is_(True),
                   _may_touch(Task.id, first)))
        .order_by(Task.demand_id, Task.id).with_for_update(of=Task)
    ).all()
    for task, number, enterprise_id in tasks:
        changes = _replan_task(session, calendar, task, year, config, moment)
        if changes:
            found.append(Replanned(task.demand_id, number, enterprise_id, task, changes))
    demands = session.execute(
        select(Demand).where(Demand.status == "awaiting_rating", _may_touch(Demand.id, first))
        .order_by(Demand.id).with_for_update()
    ).scalars().all()
    for demand in demands:
        changes = _replan_rating(session, calendar, demand, year, config)
        if changes:
            found.append(Replanned(demand.id, demand.number, demand.enterprise_id, None,
                                   changes))
    return found


def replan_after_load(session: Session, calendar: WorkCalendar, year: int,
                      call_id: str | None = None, now: datetime | None = None) -> int:
    """Re-plan (:func:`plan`), then one new ``version``, one event and one ledger line per
    changed subject; returns how many subjects changed."""
    found = plan(session, calendar, year, now)
    lines = []
    for moved in found:
        changes = {name: {"before": before, "after": after}
                   for name, (before, after) in moved.changes.items()}
        task = moved.task
        if task is not None:
            task.version += 1
            lines.append(_line(task.demand_id, task))
            events.publish(session, "task_deadline_changed", {
                "demand_id": task.demand_id, "number": moved.number,
                "enterprise_id": moved.enterprise_id, "task_id": task.id,
                "department_id": task.department_id, "calendar_year": year,
                "changes": changes}, call_id)
            continue
        demand = session.get(Demand, moved.demand_id)
        assert demand is not None
        demand.version += 1
        lines.append(_line(demand.id, None))
        events.publish(session, "rating_deadline_changed", {
            "demand_id": demand.id, "number": demand.number,
            "enterprise_id": demand.enterprise_id, "calendar_year": year,
            "changes": changes}, call_id)
    ledger.write_lines(session, lines)
    session.flush()
    return len(found)


#: a deadline's name in ``changes`` → (kind of deadline, escalation level, its flag's name)
_KINDS: dict[str, tuple[str, int | None, str]] = {
    "accept_due_at": ("acceptance", None, "accept_due_provisional"),
    "due_at": ("handling", None, "due_provisional"),
    **{f"escalation_{level}_due_at": ("escalation", level, f"escalation_{level}_provisional")
       for level in (1, 2, 3)},
    "rating_reminder_at": ("rating_reminder", None, "rating_reminder_provisional"),
    "close_unrated_at": ("close_unrated", None, "close_unrated_provisional"),
}


def preview(session: Session, calendar: WorkCalendar, year: int,
            now: datetime | None = None) -> list[dict[str, Any]]:
    """What :func:`replan_after_load` would move with ``calendar``, each deadline on its own
    (``ReplannedDeadlineSchema``), changing nothing: the same re-planning inside a savepoint
    that is rolled back. Ordered by the demand's number, then the kind."""
    savepoint = session.begin_nested()
    try:
        found = plan(session, calendar, year, now)
        rows = []
        for moved in found:
            task = moved.task
            for name, (before, after) in moved.changes.items():
                if name not in _KINDS:
                    continue  # the provisional flags go with their deadline
                kind, level, flag = _KINDS[name]
                was, will = moved.changes.get(flag, (None, None))
                rows.append({
                    "demand_id": moved.demand_id, "number": moved.number,
                    "enterprise_id": moved.enterprise_id,
                    "task_id": task.id if task is not None else None,
                    "department_id": task.department_id if task is not None else None,
                    "kind": kind, "level": level,
                    "due_at": datetime.fromisoformat(before) if before else None,
                    "provisional": bool(was),
                    "new_due_at": datetime.fromisoformat(after) if after else None,
                    "new_provisional": bool(will)})
    finally:
        savepoint.rollback()
    order = [(kind, level) for kind, level, _ in _KINDS.values()]
    return sorted(rows, key=lambda r: (r["number"], order.index((r["kind"], r["level"]))))
