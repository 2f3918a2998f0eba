"""考评 figures of a period: every rate of every subject, one SQL aggregation each over
ticketing's own tables (see :mod:`services.ticketing.appraisal` for the definitions), and the
营商环境 figures (handling working days, escalations).

Each figure is defined once here (:func:`demand_counts`, :func:`task_counts`, the rating sums,
the ledger's moves, :func:`~.base.points`) and counted by the same statements over two sets of
demands: the period's demands directly, and a closed demand's once, when it closes, into the
rollup (:mod:`.rollup`). A period then reads its **full months** of closed demands from the
rollup and counts the rest directly (the demands not closed, and every demand of a partial
month at the period's edges), in one statement per kind of figure (``UNION ALL`` of the two
parts, summed per subject): the same figures, from about 100,000 rows instead of 1,000,000.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Numeric,
    and_,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
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
    category_points,
    difficulty_points,
    handling_due,
    points,
    rate,
    settings,
    task_late,
)
from services.ticketing.models import (
    AppraisalRollup,
    AppraisalRollupCategory,
    Demand,
    Escalation,
    LedgerEntry,
    Rating,
    Task,
)
from services.ticketing.schemas.base import DEMAND_STATES, DIFFICULTIES

#: the demand states before 销号: the direct part of a period with rolled-up months reads
#: these (an ``IN`` the status index serves)
OPEN_STATES = tuple(state for state in DEMAND_STATES if state != CLOSED)

# =========================================================================== subject maps
# ``scope``: WHERE clauses over Demand choosing the demands counted (the period's, or some
# closed ones for the rollup)


def _demand_owner(kind: str, scope: list[Any]) -> tuple[Any, list[Any]]:
    if kind == ZONE:
        return literal(ZONE), list(scope)
    if kind == GRIDS:
        return Demand.grid_id, [*scope, Demand.grid_id.is_not(None)]
    assert kind == GRID_WORKERS, kind
    return Demand.recorded_by, [*scope, Demand.recorded_role == str(Role.GRID_WORKER)]


def demand_owner(kind: str, period: Period) -> tuple[Any, list[Any]]:
    """(owner column, WHERE clauses over Demand) of a subject appraised per demand (grids,
    grid workers, the zone): the period's demands attributed to each subject."""
    return _demand_owner(kind, [period.received()])


def _task_owner(kind: str, scope: list[Any]) -> tuple[Any, list[Any]]:
    owner = {GRIDS: Demand.grid_id, GRID_WORKERS: Demand.recorded_by,
             DEPARTMENTS: Task.department_id, LIAISONS: Task.accepted_by,
             ZONE: literal(ZONE)}[kind]
    clauses = [*scope, Task.status != CANCELLED, owner.is_not(None)]
    if kind == GRID_WORKERS:
        clauses.append(Demand.recorded_role == str(Role.GRID_WORKER))
    return owner, clauses


def task_owner(kind: str, period: Period) -> tuple[Any, list[Any]]:
    """(owner column, WHERE clauses over Task joined to its Demand): the period's live tasks
    attributed to each subject."""
    return _task_owner(kind, [period.received()])


def _demand_map(kind: str, scope: list[Any]) -> Any:
    if kind in DEMAND_SUBJECTS:
        owner, clauses = _demand_owner(kind, scope)
        query = select(owner.label("subject_id"), Demand.id.label("demand_id")).where(*clauses)
    else:
        owner, clauses = _task_owner(kind, scope)
        query = select(owner.label("subject_id"), Task.demand_id.label("demand_id")).join(
            Demand, Demand.id == Task.demand_id).where(*clauses).distinct()
    return query.subquery("demand_map")


def demand_map(kind: str, period: Period) -> Any:
    """(subject_id, demand_id) of the period's demands attributed to each subject."""
    return _demand_map(kind, [period.received()])


def task_map(kind: str, period: Period) -> Any:
    """(subject_id, task_id) of the period's live tasks attributed to each subject."""
    owner, clauses = task_owner(kind, period)
    return select(owner.label("subject_id"), Task.id.label("task_id")).join(
        Demand, Demand.id == Task.demand_id).where(*clauses).subquery("task_map")


#: GROUP BY the select's ``subject_id`` (the zone's owner is a constant, which PostgreSQL
#: does not take in a GROUP BY)
BY_SUBJECT = literal_column("subject_id")


# =========================================================================== the figures


def demand_counts(as_of: datetime, among: tuple[Any, ...] = ()) -> dict[str, Any]:
    """The figures counted per demand of a subject: name → the condition a demand meets
    (None: every demand). ``among``: WHERE clauses over Task narrowing the reopened tasks
    looked at to those of the demands counted (the rollup's few), else all are."""
    # a demand with a reopened task: an IN over the (few) reopened tasks' demands, which
    # PostgreSQL hashes once, where an EXISTS per demand was planned as an index scan per
    # row (1,000,000 of them, 22 s of a department appraisal's 33 s)
    reopened = Demand.id.in_(select(Task.demand_id).where(Task.reopen_count > 0, *among))
    triaged = Demand.triaged_at.is_not(None)
    return {
        "demands": None,
        "triage_due": or_(triaged, Demand.triage_due_at <= as_of),
        "triage_on_time": Demand.triaged_at <= Demand.triage_due_at,
        "closed": Demand.status == CLOSED,
        "resolved": Demand.closure == "rated",
        "judged": Demand.closure.in_(("rated", "internal")),
        "unrated": Demand.closure == "unrated",
        "completed_once": or_(Demand.status.in_(("awaiting_rating", CLOSED)), reopened),
        "reopened": reopened,
    }


def task_counts(as_of: datetime) -> dict[str, Any]:
    """The figures counted per live task of a subject: name → the condition a task meets."""
    return {
        "tasks": None,
        "accepted": Task.accepted_at.is_not(None),
        "accepted_on_time": Task.accepted_at <= Task.accept_due_at,
        "waiting_overdue": and_(Task.status == "assigned", Task.accept_due_at <= as_of),
        "handling_due": handling_due(as_of),
        "handling_on_time": and_(handling_due(as_of), ~task_late(as_of)),
        "tasks_completed_once": or_(Task.status == "completed", Task.reopen_count > 0),
        "tasks_reopened": Task.reopen_count > 0,
    }


#: what a closed demand adds nothing to, so the rollup has no column of it: its live tasks
#: are all completed (``awaiting_rating`` needs that, and only a reopen, before 销号, moves
#: a completed task), so none waits for acceptance
NOT_ROLLED_UP = frozenset({"waiting_overdue"})
#: the sums over the rating rounds of a subject's demands (every round counts)
RATING_SUMS = ("ratings", "satisfied", "efficiency", "attitude", "quality")
DEMAND_FIGURES = (*demand_counts(datetime.now(UTC)), "pointed")
TASK_FIGURES = tuple(task_counts(datetime.now(UTC)))
MOVES = ("returned", "timed_out")


def pointed(kind: str) -> tuple[Any, Any]:
    """(condition, difficulty) of the items a subject's 难度分 counts: a demand subject's
    triaged demands, a department's or liaison's accepted tasks."""
    if kind in DEMAND_SUBJECTS:
        return Demand.triaged_at.is_not(None), Demand.difficulty
    return Task.accepted_at.is_not(None), Task.difficulty


def _count(condition: Any) -> Any:
    return func.count() if condition is None else func.count().filter(condition)


def _ratings_per_demand(scope: list[Any]) -> Any:
    """The rating rounds of the demands in ``scope``, summed per demand."""
    return (
        select(Rating.demand_id,
               func.count().label("ratings"),
               func.count().filter(Rating.satisfied.is_(True)).label("satisfied"),
               func.sum(Rating.efficiency).label("efficiency"),
               func.sum(Rating.attitude).label("attitude"),
               func.sum(Rating.quality).label("quality"))
        .join(Demand, Demand.id == Rating.demand_id).where(*scope)
        .group_by(Rating.demand_id).subquery("rated")
    )


def demand_select(kind: str, scope: list[Any], as_of: datetime, keys: Mapping[str, Any],
                  extra: Mapping[str, Any], among: tuple[Any, ...] = ()) -> Any:
    """SELECT subject_id, ``keys``, the demand figures and rating sums, ``extra`` over the
    demands in ``scope`` of each subject, grouped by subject and ``keys``: the demands
    themselves where a subject is appraised per demand, else the map of (subject, demand) of
    the subjects' tasks (a demand once per subject), joined to Demand."""
    rated = _ratings_per_demand(scope)
    columns = [*(value.label(name) for name, value in keys.items()),
               *(_count(condition).label(name)
                 for name, condition in demand_counts(as_of, among).items()),
               *(func.coalesce(func.sum(rated.c[name]), 0).label(name)
                 for name in RATING_SUMS),
               *(value.label(name) for name, value in extra.items())]
    if kind in DEMAND_SUBJECTS:
        owner, clauses = _demand_owner(kind, scope)
        query = select(owner.label("subject_id"), *columns).select_from(Demand).where(*clauses)
    else:
        dm = _demand_map(kind, scope)
        query = select(dm.c.subject_id, *columns).select_from(dm).join(
            Demand, Demand.id == dm.c.demand_id).where(*scope)  # (the map's, for the plan)
    return query.outerjoin(rated, rated.c.demand_id == Demand.id).group_by(
        BY_SUBJECT, *keys.values())


def task_select(kind: str, scope: list[Any], as_of: datetime, keys: Mapping[str, Any],
                extra: Mapping[str, Any]) -> Any:
    """SELECT subject_id, ``keys``, the task figures, ``extra`` over the live tasks of the
    demands in ``scope``, grouped by subject and ``keys``."""
    owner, clauses = _task_owner(kind, scope)
    return (
        select(owner.label("subject_id"),
               *(value.label(name) for name, value in keys.items()),
               *(_count(condition).label(name)
                 for name, condition in task_counts(as_of).items()),
               *(value.label(name) for name, value in extra.items()),
               func.max(Task.department_id).label("department_id"))
        .select_from(Task)
        .join(Demand, Demand.id == Task.demand_id)
        .where(*clauses)
        .group_by(BY_SUBJECT, *keys.values())
    )


def ledger_select(kind: str, scope: list[Any], keys: Mapping[str, Any]) -> Any:
    """SELECT subject_id, ``keys``, returned, timed_out: returns (退回) and time-outs (受理超时)
    from the ledger (台账), of the live tasks of the demands in ``scope``: departments by the
    department the assignment named, liaisons by who returned, grids and grid workers by
    their demands' tasks."""
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
        select(owner.label("subject_id"),
               *(value.label(name) for name, value in keys.items()),
               func.count().filter(LedgerEntry.action == "return").label("returned"),
               func.count().filter(LedgerEntry.action == "time_out").label("timed_out"))
        # a line's demand by its own demand_id (its task's demand: ledger.record is given
        # both), so PostgreSQL goes from the demands in scope to their few lines and then to
        # those lines' tasks by primary key; joined through the task, it scanned all the
        # tasks (at 1,000,000: 392-571 ms against 167-304 ms a statement)
        .select_from(LedgerEntry)
        .join(Demand, Demand.id == LedgerEntry.demand_id)
        .join(Task, Task.id == LedgerEntry.task_id)
        .where(*scope, Task.status != CANCELLED, LedgerEntry.action.in_(actions),
               owner.is_not(None))
        .group_by(BY_SUBJECT, *keys.values())
    )
    if kind == LIAISONS:
        query = query.where(LedgerEntry.actor_role == str(Role.LIAISON))
    elif kind == GRID_WORKERS:
        query = query.where(Demand.recorded_role == str(Role.GRID_WORKER))
    return query


def ledger_counts(session: Session, kind: str, period: Period) -> dict[str, dict[str, int]]:
    """Returns (退回) and time-outs (受理超时) per subject (:func:`ledger_select`) of the
    period's live tasks, counted directly."""
    return _moves(session, [ledger_select(kind, [period.received()], {})])


# =========================================================================== rolled-up months


def full_months(period: Period) -> Period | None:
    """The period's whole months, first day to last (None if it has none)."""
    first = period.start if period.start.day == 1 else (
        period.start.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (period.end + timedelta(days=1)).replace(day=1) - timedelta(days=1)
    return Period(first, last) if first < last else None


def month_of_receipt() -> Any:
    """The local (Asia/Shanghai) month a demand was received in, as its first day."""
    return cast(func.date_trunc("month", func.timezone(literal_column("'Asia/Shanghai'"),
                                                       Demand.received_at)), Date)


def _rolled_up(table: Any, kind: str, months: Period) -> list[Any]:
    return [table.subject == kind, table.month >= months.start, table.month <= months.end]


def _rolled_up_points(config: Mapping[str, Any], kind: str, months: Period, name: str
                      ) -> tuple[Any, list[Any]]:
    """(the difficulties' part of the 难度分 of the rollup's rows of ``kind`` in ``months``,
    an aggregate; SELECTs of subject_id and the categories' part as ``name``, if categories
    carry points): :func:`~.base.points` over the counts, exactly."""
    rollup = AppraisalRollup.__table__.c
    by_difficulty = sum((difficulty_points(config, literal(level))
                         * func.sum(rollup[f"pointed_{level}"]) for level in DIFFICULTIES),
                        start=literal(0, Numeric))
    extras = sorted(config.get("category_points", {}))
    if not extras:
        return by_difficulty, []
    table = AppraisalRollupCategory
    return by_difficulty, [
        select(table.subject_id,
               func.sum(category_points(config, table.category) * table.pointed).label(name))
        .where(*_rolled_up(table, kind, months), table.category.in_(extras))
        .group_by(table.subject_id)]


#: columns a part of a ``UNION ALL`` may lack that are NULL, not 0, there
NULLABLE = frozenset({"grid_id", "department_id"})


def _aligned(query: Any, names: tuple[str, ...]) -> Any:
    """``query`` (a SELECT with ``subject_id`` and some of ``names``) with exactly
    subject_id and ``names``, in that order (0, or NULL, for a name it lacks): a part of a
    ``UNION ALL``."""
    have = {column.name: column for column in query.selected_columns}
    return query.with_only_columns(have["subject_id"], *(
        have[name] if name in have
        else (null() if name in NULLABLE else literal(0)).label(name) for name in names))


def _union(parts: list[Any], names: tuple[str, ...]) -> Any:
    aligned = [_aligned(part, names) for part in parts]
    return (aligned[0] if len(aligned) == 1 else union_all(*aligned)).subquery("parts")


def _total(column: Any) -> Any:
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


# =========================================================================== the period


def _demand_figures(session: Session, kind: str, scope: list[Any], months: Period | None,
                    as_of: datetime, config: Mapping[str, Any]
                    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(demand figures, rating figures) per subject: one pass over the demands in ``scope``
    (for subjects appraised per task, over the map of their demands, a ``DISTINCT`` over
    the tasks, built once) and the rollup's rows of ``months``."""
    per_demand = kind in DEMAND_SUBJECTS
    grid = kind == GRID_WORKERS
    extra: dict[str, Any] = {}
    if per_demand:  # (a department's or liaison's are its accepted tasks': _task_figures)
        condition, difficulty = pointed(kind)
        extra = {"pointed": _count(condition), "points": func.sum(
            points(config, difficulty, Demand.category)).filter(condition)}
    parts = [demand_select(kind, scope, as_of, {"grid_id": Demand.grid_id} if grid else {},
                           extra)]
    if months is not None:
        rollup = AppraisalRollup.__table__.c
        by_difficulty, by_category = _rolled_up_points(config, kind, months, "points")
        group = [rollup.subject_id, *([rollup.grid_id] if grid else [])]
        parts.append(
            select(*group, *(func.sum(rollup[name]).label(name)
                             for name in (*DEMAND_FIGURES, *RATING_SUMS)
                             if per_demand or name != "pointed"),
                   *([by_difficulty.label("points")] if per_demand else []))
            .where(*_rolled_up(AppraisalRollup, kind, months)).group_by(*group))
        if per_demand:
            parts.extend(by_category)
    names = (*(["grid_id"] if grid else []), *DEMAND_FIGURES, *RATING_SUMS, "points")
    union = _union(parts, names)
    ratings = func.nullif(func.sum(union.c.ratings), 0)

    def average(name: str) -> Any:  # as avg() over the ratings themselves
        return (cast(func.sum(union.c[name]), Numeric) / ratings).label(f"avg_{name}")

    query = select(
        union.c.subject_id,
        *(_total(union.c[name]).label(name) for name in (*DEMAND_FIGURES, *RATING_SUMS[:2])),
        func.sum(union.c.points).label("points"),
        (func.array_agg(distinct(union.c.grid_id)) if grid else null()).label("grid_ids"),
        *(average(name) for name in RATING_SUMS[2:]),
    ).group_by(union.c.subject_id)
    demands, rating_rows = {}, {}
    for row in session.execute(query):
        found = row._asdict()
        rated = {key: found.pop(key) for key in (
            "ratings", "satisfied", "avg_efficiency", "avg_attitude", "avg_quality")}
        demands[row.subject_id] = found
        if rated["ratings"]:
            rating_rows[row.subject_id] = rated
    return demands, rating_rows


def _task_figures(session: Session, kind: str, scope: list[Any], months: Period | None,
                  as_of: datetime, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The task figures per subject: the live tasks of the demands in ``scope`` and the
    rollup's rows of ``months``."""
    per_task = kind not in DEMAND_SUBJECTS
    condition, difficulty = pointed(kind)
    extra = {"task_points": func.sum(points(config, difficulty, Demand.category)).filter(
        condition)} if per_task else {}
    parts = [task_select(kind, scope, as_of, {}, extra)]
    if months is not None:
        rollup = AppraisalRollup.__table__.c
        by_difficulty, by_category = _rolled_up_points(config, kind, months, "task_points")
        parts.append(
            select(rollup.subject_id,
                   *(func.sum(rollup[name]).label(name) for name in TASK_FIGURES
                     if name not in NOT_ROLLED_UP),
                   *([by_difficulty.label("task_points")] if per_task else []),
                   func.max(rollup.department_id).label("department_id"))
            .where(*_rolled_up(AppraisalRollup, kind, months)).group_by(rollup.subject_id))
        if per_task:
            parts.extend(by_category)
    union = _union(parts, (*TASK_FIGURES, "task_points", "department_id"))
    query = select(union.c.subject_id, *(_total(union.c[name]).label(name)
                                         for name in TASK_FIGURES),
                   func.sum(union.c.task_points).label("task_points"),
                   func.max(union.c.department_id).label("department_id"),
                   ).group_by(union.c.subject_id)
    return {row.subject_id: row._asdict() for row in session.execute(query)}


def _moves(session: Session, parts: list[Any]) -> dict[str, dict[str, int]]:
    union = _union(parts, MOVES)
    found: dict[str, dict[str, int]] = {}
    for subject, returned, timed_out in session.execute(
            select(union.c.subject_id, _total(union.c.returned), _total(union.c.timed_out))
            .group_by(union.c.subject_id)):
        found[subject] = {"return": returned, "time_out": timed_out}
    return found


def appraise(session: Session, kind: str, period: Period, as_of: datetime | None = None,
             config: Mapping[str, Any] | None = None, rollup: bool = True
             ) -> list[dict[str, Any]]:
    """Every subject of ``kind`` with its figures for the period (``AppraisalRowSchema``),
    sorted by subject id. Unscoped: callers narrow it with :func:`visible`. ``rollup``
    False counts every demand directly (the rollup's reference, in tests and the bench)."""
    assert kind in SUBJECTS, kind
    as_of = as_of or datetime.now(UTC)
    config = config or settings(session)
    months = full_months(period) if rollup else None
    scope = [period.received()]
    # the closed demands of the full months are rolled up: a period of whole months (a year)
    # counts its open demands directly, which ix_demands_open_figures holds with every column
    # counted (no heap page read); one with partial months also counts every demand of those
    if months == period:
        scope.append(Demand.status.in_(OPEN_STATES))
    elif months is not None:
        scope.append(or_(Demand.status.in_(OPEN_STATES), Demand.received_at < months.start_at,
                         Demand.received_at >= months.end_at))
    demands, ratings = _demand_figures(session, kind, scope, months, as_of, config)
    tasks = _task_figures(session, kind, scope, months, as_of, config)
    moves = [ledger_select(kind, scope, {})]
    if months is not None:
        table = AppraisalRollup.__table__.c
        moves.append(select(table.subject_id, func.sum(table.returned).label("returned"),
                            func.sum(table.timed_out).label("timed_out"))
                     .where(*_rolled_up(AppraisalRollup, kind, months))
                     .group_by(table.subject_id))
    moved = _moves(session, moves)
    subjects = sorted(set(demands) | set(tasks) | set(moved))
    return [subject_row(kind, subject, demands.get(subject, {}), ratings.get(subject, {}),
                        tasks.get(subject, {}), moved.get(subject, {}))
            for subject in subjects]


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
