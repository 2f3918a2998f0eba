"""考评 figures of a period: every rate of every subject, one SQL aggregation each over
ticketing's own tables (see :mod:`services.ticketing.appraisal` for the definitions), and the
营商环境 figures (handling working days, escalations)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Numeric, and_, cast, distinct, func, literal, literal_column, or_, select
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


def demand_owner(kind: str, period: Period) -> tuple[Any, list[Any]]:
    """(owner column, WHERE clauses over Demand) of a subject appraised per demand (grids,
    grid workers, the zone): the period's demands attributed to each subject."""
    if kind == ZONE:
        return literal(ZONE), [period.received()]
    if kind == GRIDS:
        return Demand.grid_id, [period.received(), Demand.grid_id.is_not(None)]
    assert kind == GRID_WORKERS, kind
    return Demand.recorded_by, [period.received(),
                                Demand.recorded_role == str(Role.GRID_WORKER)]


def task_owner(kind: str, period: Period) -> tuple[Any, list[Any]]:
    """(owner column, WHERE clauses over Task joined to its Demand): the period's live tasks
    attributed to each subject."""
    owner = {GRIDS: Demand.grid_id, GRID_WORKERS: Demand.recorded_by,
             DEPARTMENTS: Task.department_id, LIAISONS: Task.accepted_by,
             ZONE: literal(ZONE)}[kind]
    clauses = [period.received(), Task.status != CANCELLED, owner.is_not(None)]
    if kind == GRID_WORKERS:
        clauses.append(Demand.recorded_role == str(Role.GRID_WORKER))
    return owner, clauses


def demand_map(kind: str, period: Period) -> Any:
    """(subject_id, demand_id) of the period's demands attributed to each subject."""
    if kind in DEMAND_SUBJECTS:
        owner, clauses = demand_owner(kind, period)
        query = select(owner.label("subject_id"), Demand.id.label("demand_id")).where(*clauses)
    else:
        owner, clauses = task_owner(kind, period)
        query = select(owner.label("subject_id"), Task.demand_id.label("demand_id")).join(
            Demand, Demand.id == Task.demand_id).where(*clauses).distinct()
    return query.subquery("demand_map")


def task_map(kind: str, period: Period) -> Any:
    """(subject_id, task_id) of the period's live tasks attributed to each subject."""
    owner, clauses = task_owner(kind, period)
    return select(owner.label("subject_id"), Task.id.label("task_id")).join(
        Demand, Demand.id == Task.demand_id).where(*clauses).subquery("task_map")


#: GROUP BY the select's ``subject_id`` (the zone's owner is a constant, which PostgreSQL
#: does not take in a GROUP BY)
BY_SUBJECT = literal_column("subject_id")


def ledger_counts(session: Session, kind: str, period: Period) -> dict[str, dict[str, int]]:
    """Returns (退回) and time-outs (受理超时) per subject, from the ledger (台账): departments
    by the department the assignment named, liaisons by who returned, grids and grid workers
    by their demands' tasks. Lines of the period's live tasks only: the ledger's lines are
    joined to their task and its demand (where every line's task was looked up among a
    year's tasks)."""
    actions: tuple[str, ...] = ("return", "time_out")
    if kind == ZONE:
        owner = literal(ZONE)
    elif kind == DEPARTMENTS:
        owner = LedgerEntry.department_id
    elif kind == LIAISONS:
        owner = LedgerEntry.actor
        actions = ("return",)
    else:
        owner = Demand.grid_id if kind == GRIDS else Demand.recorded_by
    query = (
        select(owner.label("subject_id"), LedgerEntry.action, func.count())
        .select_from(LedgerEntry)
        .join(Task, Task.id == LedgerEntry.task_id)
        .join(Demand, Demand.id == Task.demand_id)
        .where(period.received(), Task.status != CANCELLED,
               LedgerEntry.action.in_(actions), owner.is_not(None))
        .group_by(BY_SUBJECT, LedgerEntry.action)
    )
    if kind == LIAISONS:
        query = query.where(LedgerEntry.actor_role == str(Role.LIAISON))
    elif kind == GRID_WORKERS:
        query = query.where(Demand.recorded_role == str(Role.GRID_WORKER))
    found: dict[str, dict[str, int]] = {}
    for subject_id, action, n in session.execute(query):
        found.setdefault(subject_id, {})[action] = int(n)
    return found


# =========================================================================== the period


def _per_demand(kind: str, period: Period, *columns: Any) -> Any:
    """SELECT subject_id, ``columns`` over the period's demands of each subject, grouped by
    subject: the demands themselves where a subject is appraised per demand (no join with a
    map of them), else the map of (subject, demand) of the subjects' tasks, joined to
    Demand."""
    if kind in DEMAND_SUBJECTS:
        owner, clauses = demand_owner(kind, period)
        query = select(owner.label("subject_id"), *columns).select_from(Demand).where(*clauses)
    else:
        dm = demand_map(kind, period)
        query = select(dm.c.subject_id, *columns).select_from(dm).join(
            Demand, Demand.id == dm.c.demand_id)
    return query.group_by(BY_SUBJECT)


RATING_FIGURES = ("ratings", "satisfied", "avg_efficiency", "avg_attitude", "avg_quality")


def _rating_columns(per_demand: Any | None) -> list[Any]:
    """满意率 over every rating round of the subject's demands, and the average of each
    dimension over the same ratings: over Rating joined to the demands, or, with
    ``per_demand`` (:func:`_ratings_per_demand`), over each demand's sums."""
    if per_demand is None:
        return [func.count(Rating.id).label("ratings"),
                func.count(Rating.id).filter(Rating.satisfied.is_(True)).label("satisfied"),
                func.avg(Rating.efficiency).label("avg_efficiency"),
                func.avg(Rating.attitude).label("avg_attitude"),
                func.avg(Rating.quality).label("avg_quality")]
    ratings = func.sum(per_demand.c.ratings)

    def average(column: Any) -> Any:  # as avg() over the ratings themselves
        return cast(func.sum(column), Numeric) / ratings

    return [ratings.label("ratings"), func.sum(per_demand.c.satisfied).label("satisfied"),
            average(per_demand.c.efficiency).label("avg_efficiency"),
            average(per_demand.c.attitude).label("avg_attitude"),
            average(per_demand.c.quality).label("avg_quality")]


def _ratings_per_demand(period: Period) -> Any:
    """The rating rounds of the period's demands, summed per demand."""
    return (
        select(Rating.demand_id,
               func.count().label("ratings"),
               func.count().filter(Rating.satisfied.is_(True)).label("satisfied"),
               func.sum(Rating.efficiency).label("efficiency"),
               func.sum(Rating.attitude).label("attitude"),
               func.sum(Rating.quality).label("quality"))
        .join(Demand, Demand.id == Rating.demand_id).where(period.received())
        .group_by(Rating.demand_id).subquery("rated")
    )


def _demand_figures(session: Session, kind: str, period: Period, as_of: datetime,
                    config: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]],
                                                        dict[str, dict[str, Any]]]:
    """(demand figures, rating figures) per subject. Subjects appraised per task
    (departments, liaisons) get both from one pass over the map of their demands (a
    ``DISTINCT`` over a year's tasks, the costly part, built once), the others in two
    statements over the demands themselves."""
    # a demand with a reopened task: an IN over the (few) reopened tasks' demands, which
    # PostgreSQL hashes once, where an EXISTS per demand was planned as an index scan per
    # row (1,000,000 of them, 22 s of a department appraisal's 33 s)
    reopened = Demand.id.in_(select(Task.demand_id).where(Task.reopen_count > 0))
    triaged = Demand.triaged_at.is_not(None)
    counted = func.count().filter
    per_demand = None if kind in DEMAND_SUBJECTS else _ratings_per_demand(period)
    query = _per_demand(
        kind, period,
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
        *(_rating_columns(per_demand) if per_demand is not None else ()),
    )
    if per_demand is None:
        demands = {row.subject_id: row._asdict() for row in session.execute(query)}
        rated = _per_demand(kind, period, *_rating_columns(None)).join(
            Rating, Rating.demand_id == Demand.id)
        return demands, {row.subject_id: row._asdict() for row in session.execute(rated)}
    demands, rating_rows = {}, {}
    for row in session.execute(query.outerjoin(per_demand,
                                               per_demand.c.demand_id == Demand.id)):
        found = row._asdict()
        rated_row = {key: found.pop(key) for key in RATING_FIGURES}
        demands[row.subject_id] = found
        if rated_row["ratings"]:
            rated_row["ratings"] = int(rated_row["ratings"])
            rated_row["satisfied"] = int(rated_row["satisfied"])
            rating_rows[row.subject_id] = rated_row
    return demands, rating_rows


def _task_figures(session: Session, kind: str, period: Period, as_of: datetime,
                  config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    owner, clauses = task_owner(kind, period)
    counted = func.count().filter
    accepted = Task.accepted_at.is_not(None)
    query = (
        select(
            owner.label("subject_id"),
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
        .select_from(Task)
        .join(Demand, Demand.id == Task.demand_id)
        .where(*clauses)
        .group_by(BY_SUBJECT)
    )
    return {row.subject_id: row._asdict() for row in session.execute(query)}


def appraise(session: Session, kind: str, period: Period, as_of: datetime | None = None,
             config: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every subject of ``kind`` with its figures for the period (``AppraisalRowSchema``),
    sorted by subject id. Unscoped: callers narrow it with :func:`visible`."""
    assert kind in SUBJECTS, kind
    as_of = as_of or datetime.now(UTC)
    config = config or settings(session)
    demands, ratings = _demand_figures(session, kind, period, as_of, config)
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
