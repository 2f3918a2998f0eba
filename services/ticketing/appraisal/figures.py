"""考评 figures of a period: every rate of every subject, one SQL aggregation each over
ticketing's own tables (see :mod:`services.ticketing.appraisal` for the definitions), and the
营商环境 figures (handling working days, escalations)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, distinct, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from common.auth import Role
from common.calendar import MAX_RANGE_DAYS, SHANGHAI, WorkCalendar
from services.ticketing.appraisal.base import (
    CANCELLED,
    CLOSED,
    DEMAND_SUBJECTS,
    DEPARTMENTS,
    GRID_WORKERS,
    GRIDS,
    LIAISONS,
    SUBJECTS,
    ZONE,
    Period,
    _average,
    handling_due,
    points,
    rate,
    settings,
    task_late,
)
from services.ticketing.models import (
    Demand,
    Escalation,
    LedgerEntry,
    Rating,
    Task,
)

# =========================================================================== subject maps


def _cohort_tasks(period: Period) -> Any:
    return select(Task.id).join(Demand, Demand.id == Task.demand_id).where(
        period.received(), Task.status != CANCELLED)


def demand_map(kind: str, period: Period) -> Any:
    """(subject_id, demand_id) of the period's demands attributed to each subject."""
    if kind == ZONE:
        query = select(literal(ZONE).label("subject_id"), Demand.id.label("demand_id")).where(
            period.received())
    elif kind == GRIDS:
        query = select(Demand.grid_id.label("subject_id"), Demand.id.label("demand_id")).where(
            period.received(), Demand.grid_id.is_not(None))
    elif kind == GRID_WORKERS:
        query = select(Demand.recorded_by.label("subject_id"), Demand.id.label("demand_id")
                       ).where(period.received(), Demand.recorded_role == str(Role.GRID_WORKER))
    else:
        owner = Task.department_id if kind == DEPARTMENTS else Task.accepted_by
        query = select(owner.label("subject_id"), Task.demand_id.label("demand_id")).join(
            Demand, Demand.id == Task.demand_id).where(
            period.received(), Task.status != CANCELLED, owner.is_not(None)).distinct()
    return query.subquery("demand_map")


def task_map(kind: str, period: Period) -> Any:
    """(subject_id, task_id) of the period's live tasks attributed to each subject."""
    owner = {GRIDS: Demand.grid_id, GRID_WORKERS: Demand.recorded_by,
             DEPARTMENTS: Task.department_id, LIAISONS: Task.accepted_by,
             ZONE: literal(ZONE)}[kind]
    query = select(owner.label("subject_id"), Task.id.label("task_id")).join(
        Demand, Demand.id == Task.demand_id).where(
        period.received(), Task.status != CANCELLED, owner.is_not(None))
    if kind == GRID_WORKERS:
        query = query.where(Demand.recorded_role == str(Role.GRID_WORKER))
    return query.subquery("task_map")


def ledger_counts(session: Session, kind: str, period: Period) -> dict[str, dict[str, int]]:
    """Returns (退回) and time-outs (受理超时) per subject, from the ledger (台账): departments
    by the department the assignment named, liaisons by who returned, grids and grid workers
    by their demands' tasks."""
    tasks = _cohort_tasks(period).subquery("cohort_tasks")
    actions = ("return", "time_out")
    if kind == ZONE:
        owner = literal(ZONE)
        query = select(owner.label("subject_id"), LedgerEntry.action)
    elif kind == DEPARTMENTS:
        owner = LedgerEntry.department_id
        query = select(owner.label("subject_id"), LedgerEntry.action)
    elif kind == LIAISONS:
        owner = LedgerEntry.actor
        query = select(owner.label("subject_id"), LedgerEntry.action).where(
            LedgerEntry.actor_role == str(Role.LIAISON))
        actions = ("return",)
    else:
        owner = Demand.grid_id if kind == GRIDS else Demand.recorded_by
        query = select(owner.label("subject_id"), LedgerEntry.action).join(
            Demand, Demand.id == LedgerEntry.demand_id)
        if kind == GRID_WORKERS:
            query = query.where(Demand.recorded_role == str(Role.GRID_WORKER))
    query = query.where(LedgerEntry.task_id.in_(select(tasks.c.id)),
                        LedgerEntry.action.in_(actions), owner.is_not(None))
    inner = query.subquery("moves")
    found: dict[str, dict[str, int]] = {}
    for subject_id, action, n in session.execute(
        select(inner.c.subject_id, inner.c.action, func.count())
        .group_by(inner.c.subject_id, inner.c.action)
    ):
        found.setdefault(subject_id, {})[action] = int(n)
    return found


# =========================================================================== the period


def _demand_figures(session: Session, kind: str, period: Period, as_of: datetime,
                    config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    dm = demand_map(kind, period)
    reopened = exists().where(Task.demand_id == Demand.id, Task.reopen_count > 0)
    triaged = Demand.triaged_at.is_not(None)
    counted = func.count().filter
    query = (
        select(
            dm.c.subject_id,
            func.count().label("demands"),
            counted(or_(triaged, Demand.triage_due_at <= as_of)).label("triage_due"),
            counted(Demand.triaged_at <= Demand.triage_due_at).label("triage_on_time"),
            counted(Demand.status == CLOSED).label("closed"),
            counted(Demand.closure == "rated").label("resolved"),
            counted(Demand.closure.in_(("rated", "internal"))).label("judged"),
            counted(Demand.closure == "unrated").label("unrated"),
            counted(or_(Demand.status.in_(("awaiting_rating", CLOSED)), reopened)
                    ).label("completed_once"),
            counted(reopened).label("reopened"),
            func.sum(points(config, Demand.difficulty, Demand.category)).filter(triaged)
            .label("points"),
            counted(triaged).label("pointed"),
            func.array_agg(distinct(Demand.grid_id)).label("grid_ids"),
        )
        .join(Demand, Demand.id == dm.c.demand_id)
        .group_by(dm.c.subject_id)
    )
    return {row.subject_id: row._asdict() for row in session.execute(query)}


def _rating_figures(session: Session, kind: str, period: Period) -> dict[str, dict[str, Any]]:
    dm = demand_map(kind, period)
    query = (
        select(
            dm.c.subject_id,
            func.count().label("ratings"),
            func.count().filter(Rating.satisfied.is_(True)).label("satisfied"),
            func.avg(Rating.efficiency).label("avg_efficiency"),
            func.avg(Rating.attitude).label("avg_attitude"),
            func.avg(Rating.quality).label("avg_quality"),
        )
        .join(Rating, Rating.demand_id == dm.c.demand_id)
        .group_by(dm.c.subject_id)
    )
    return {row.subject_id: row._asdict() for row in session.execute(query)}


def _task_figures(session: Session, kind: str, period: Period, as_of: datetime,
                  config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    tm = task_map(kind, period)
    counted = func.count().filter
    accepted = Task.accepted_at.is_not(None)
    query = (
        select(
            tm.c.subject_id,
            func.count().label("tasks"),
            counted(accepted).label("accepted"),
            counted(Task.accepted_at <= Task.accept_due_at).label("accepted_on_time"),
            counted(Task.accepted_at > Task.accept_due_at).label("accepted_late"),
            counted(and_(Task.status == "assigned", Task.accept_due_at <= as_of))
            .label("waiting_overdue"),
            counted(handling_due(as_of)).label("handling_due"),
            counted(and_(handling_due(as_of), ~task_late(as_of))).label("handling_on_time"),
            counted(or_(Task.status == "completed", Task.reopen_count > 0))
            .label("tasks_completed_once"),
            counted(Task.reopen_count > 0).label("tasks_reopened"),
            func.sum(points(config, Task.difficulty, Demand.category)).filter(accepted)
            .label("task_points"),
            func.max(Task.department_id).label("department_id"),
        )
        .join(Task, Task.id == tm.c.task_id)
        .join(Demand, Demand.id == Task.demand_id)
        .group_by(tm.c.subject_id)
    )
    return {row.subject_id: row._asdict() for row in session.execute(query)}


def appraise(session: Session, kind: str, period: Period, as_of: datetime | None = None,
             config: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every subject of ``kind`` with its figures for the period (``AppraisalRowSchema``),
    sorted by subject id. Unscoped: callers narrow it with :func:`visible`."""
    assert kind in SUBJECTS, kind
    as_of = as_of or datetime.now(UTC)
    config = config or settings(session)
    demands = _demand_figures(session, kind, period, as_of, config)
    ratings = _rating_figures(session, kind, period)
    tasks = _task_figures(session, kind, period, as_of, config)
    moves = ledger_counts(session, kind, period)
    subjects = sorted(set(demands) | set(tasks) | set(moves))
    return [subject_row(kind, subject, demands.get(subject, {}), ratings.get(subject, {}),
                 tasks.get(subject, {}), moves.get(subject, {})) for subject in subjects]


def subject_row(kind: str, subject: str, d: Mapping[str, Any], r: Mapping[str, Any],
         t: Mapping[str, Any], m: Mapping[str, int]) -> dict[str, Any]:
    per_demand = kind in DEMAND_SUBJECTS
    on_time, returned = t.get("accepted_on_time", 0), m.get("return", 0)
    timed_out = m.get("time_out", 0)
    acceptance_due = (t.get("accepted", 0) + returned + timed_out + t.get("waiting_overdue", 0))
    triage_due = d.get("triage_due", 0) if per_demand else 0
    triage_on_time = d.get("triage_on_time", 0) if per_demand else 0
    completed_once = d.get("completed_once", 0) if per_demand else t.get("tasks_completed_once",
                                                                         0)
    reopened = d.get("reopened", 0) if per_demand else t.get("tasks_reopened", 0)
    if per_demand:
        handled, pointed, total_points = d.get("demands", 0), d.get("pointed", 0), d.get("points")
    else:
        handled = pointed = t.get("accepted", 0)
        total_points = t.get("task_points")
    ratings, satisfied = r.get("ratings", 0), r.get("satisfied", 0)
    return {
        "subject_id": subject,
        "department_id": t.get("department_id") if kind == LIAISONS else None,
        "grid_ids": sorted(g for g in d.get("grid_ids") or [] if g) if kind == GRID_WORKERS
        else [],
        "handled": handled,
        "demands": d.get("demands", 0),
        "tasks": t.get("tasks", 0),
        "closed": d.get("closed", 0),
        "triage_due": triage_due,
        "triage_on_time": triage_on_time,
        "triage_on_time_rate": rate(triage_on_time, triage_due),
        "acceptance_due": acceptance_due,
        "accepted_on_time": on_time,
        "returned": returned,
        "timed_out": timed_out,
        "acceptance_on_time_rate": rate(on_time + returned, acceptance_due),
        "response_rate": rate(on_time, acceptance_due),
        "handling_due": t.get("handling_due", 0),
        "handling_on_time": t.get("handling_on_time", 0),
        "handling_on_time_rate": rate(t.get("handling_on_time", 0), t.get("handling_due", 0)),
        "judged": d.get("judged", 0),
        "resolved": d.get("resolved", 0),
        "resolution_rate": rate(d.get("resolved", 0), d.get("judged", 0)),
        "ratings": ratings,
        "satisfied": satisfied,
        "satisfaction_rate": rate(satisfied, ratings),
        "avg_efficiency": _average(r.get("avg_efficiency")),
        "avg_attitude": _average(r.get("avg_attitude")),
        "avg_quality": _average(r.get("avg_quality")),
        "unrated": d.get("unrated", 0),
        "unrated_share": rate(d.get("unrated", 0), d.get("closed", 0)),
        "completed_once": completed_once,
        "reopened": reopened,
        "reopen_rate": rate(reopened, completed_once),
        # for the yearly score
        "_pointed": pointed,
        "_points": float(total_points or 0),
    }


# =========================================================================== 营商环境 figures


def handling_workdays(session: Session, kind: str, period: Period, calendar: WorkCalendar
                      ) -> dict[str, tuple[int, int]]:
    """办理用时 per subject: (tasks completed, their working days in all). A task's handling
    time is the number of working days (调休 included) after the day it was accepted up to and
    including the day it was (last) completed, local dates: completed the day it was accepted
    is 0. Tasks of the period's demands, attributed as :func:`task_map` does."""
    tm = task_map(kind, period)
    rows = session.execute(
        select(tm.c.subject_id, Task.accepted_at, Task.completed_at)
        .join(Task, Task.id == tm.c.task_id)
        .where(Task.accepted_at.is_not(None), Task.completed_at.is_not(None))
    ).all()
    if not rows:
        return {}
    spans = [(r.subject_id, r.accepted_at.astimezone(SHANGHAI).date(),
              r.completed_at.astimezone(SHANGHAI).date()) for r in rows]
    counter = WorkdayCounter(calendar, min(s for _, s, _ in spans),
                             max(e for _, _, e in spans))
    found: dict[str, tuple[int, int]] = {}
    for subject, accepted, completed in spans:
        tasks, days = found.get(subject, (0, 0))
        found[subject] = (tasks + 1, days + counter.after(accepted, completed))
    return found


class WorkdayCounter:
    """Working days between two local dates, over a span read from the calendar once."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        self.first = first
        self.cumulative: list[int] = []
        day, total = first, 0
        while day <= last:
            chunk_end = min(last, day + timedelta(days=MAX_RANGE_DAYS - 1))
            workdays, _ = calendar.workdays_between(day, chunk_end)
            working = set(workdays)
            while day <= chunk_end:
                total += day in working
                self.cumulative.append(total)
                day += timedelta(days=1)

    def upto(self, day: date) -> int:
        """Working days from the span's first day to ``day`` included."""
        index = (day - self.first).days
        return self.cumulative[index] if index >= 0 else 0

    def after(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        return max(self.upto(end) - self.upto(start), 0)


def escalations(session: Session, kind: str, period: Period) -> dict[str, int]:
    """督办升级 per subject: escalations (every level and cause) of the period's tasks."""
    tm = task_map(kind, period)
    return {subject: int(n) for subject, n in session.execute(
        select(tm.c.subject_id, func.count(Escalation.id))
        .join(Escalation, Escalation.task_id == tm.c.task_id)
        .group_by(tm.c.subject_id))}
