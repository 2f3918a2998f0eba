"""领导总览: zone-wide figures of a period for the leaders (分管领导, 领导小组), the platform's
coordinators and admins; department heads get their department's part, grid leaders their
grids'.

Plain functions over a SQLAlchemy session; no broker in here. Two kinds of figure, named so:

- flows, counted by the date of the event: ``received`` (收到, by ``received_at``) and
  ``closed`` (销号, by ``closed_at``, whenever the demand was received);
- states of the demands **received in the period**, judged at ``as_of`` (now): ``open``,
  ``overdue`` (a task completed after its handling deadline, open past it, or breached:
  :func:`services.ticketing.appraisal.task_late`), ``overdue_open`` (a task open past it now)
  and ``triage_late``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal_column, or_, select, true, tuple_
from sqlalchemy.orm import Session, aliased

from common.auth import Principal, Role
from common.errors import Forbidden
from services.ticketing.appraisal import READ_ALL, Period, handling_due, rate, task_late
from services.ticketing.models import Demand, Escalation, Rating, Task

#: how many grids and enterprises the two top lists show (by_grid: the most demands)
TOP_GRIDS = 10
BY_GRID = 30
TOP_ENTERPRISES = 20
#: an enterprise with at least this many demands in the period is listed as repeated
REPEATED = 2
OPEN_TASK_STATES = ("assigned", "coordination", "accepted")


def scope(principal: Principal) -> tuple[Any, Any]:
    """(WHERE over Demand, WHERE over Task) of what the caller's overview covers."""
    if principal.role in READ_ALL:
        return true(), true()
    if principal.role == Role.DEPARTMENT_HEAD and principal.department_id:
        department = principal.department_id
        theirs = aliased(Task)  # the queries that use this clause join Task themselves
        has_task = exists().where(theirs.demand_id == Demand.id,
                                  theirs.department_id == department,
                                  theirs.status != "cancelled")
        return has_task, Task.department_id == department
    if principal.role == Role.GRID_LEADER:
        grids = Demand.grid_id.in_(list(principal.grid_ids) or [""])
        return grids, true()
    raise Forbidden("{role} may not read the overview", code="overview.read_forbidden",
                    params={"role": principal.role_label})


def _month(column: Any) -> Any:
    return func.to_char(func.timezone(literal_column("'Asia/Shanghai'"), column),
                        literal_column("'YYYY-MM'"))


def months(start: date, end: date) -> list[str]:
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def demand_facts(cohort: Any, live: Any, as_of: datetime) -> Any:
    """One row per demand of the cohort with what the overview counts of it: its grouping
    columns, whether its 分理 was late (or came into play at all) and how many of its live
    tasks there are, how many of them missed their handling deadline
    (:func:`services.ticketing.appraisal.task_late`) and how many are open past it. A demand
    is overdue when one of its live tasks is late, overdue now when one is open past its
    deadline. One pass over the demands and their tasks (a join grouped by the demand), where
    each figure used to ask its own ``EXISTS`` per demand."""
    late = and_(Task.accepted_at.is_not(None), task_late(as_of))
    late_open = and_(Task.status == "accepted", Task.due_at <= as_of)
    task_count = func.count(Task.id)
    return (
        select(
            Demand.id, Demand.category, Demand.grid_id, Demand.status,
            _month(Demand.received_at).label("month"),
            or_(Demand.triaged_at > Demand.triage_due_at,
                and_(Demand.triaged_at.is_(None), Demand.triage_due_at <= as_of))
            .label("triage_late"),
            or_(Demand.triaged_at.is_not(None), Demand.triage_due_at <= as_of)
            .label("triage_due"),
            task_count.label("live_tasks"),
            task_count.filter(late).label("late_tasks"),
            task_count.filter(late_open).label("late_open_tasks"),
            task_count.filter(handling_due(as_of)).label("handling_due"),
            task_count.filter(and_(handling_due(as_of), task_late(as_of))).label("handling_late"),
        )
        .select_from(Demand)
        .outerjoin(Task, and_(Task.demand_id == Demand.id, live))
        .where(cohort)
        .group_by(Demand.id)
        .subquery("facts")
    )


def overview(session: Session, principal: Principal, period: Period,
             as_of: datetime | None = None) -> dict[str, Any]:
    """The overview of ``period`` (``OverviewSchema``) for this caller."""
    as_of = as_of or datetime.now(UTC)
    demand_scope, task_scope = scope(principal)
    live = and_(Task.status != "cancelled", task_scope)
    late = and_(Task.accepted_at.is_not(None), task_late(as_of))
    late_open = and_(Task.status == "accepted", Task.due_at <= as_of)
    cohort = and_(period.received(), demand_scope)
    closed_in = and_(Demand.closed_at >= period.start_at, Demand.closed_at < period.end_at,
                     demand_scope)
    counted = func.count().filter

    # the cohort's figures, every grouping in one statement over the per-demand facts
    facts = demand_facts(cohort, live, as_of)
    overdue, overdue_open = facts.c.late_tasks > 0, facts.c.late_open_tasks > 0
    keys = (facts.c.category, facts.c.month, facts.c.status, facts.c.grid_id)
    grouping = func.grouping(*keys)
    n = func.count()
    grid_late, grid_late_open = func.sum(facts.c.late_tasks), func.sum(facts.c.late_open_tasks)
    rows = session.execute(
        select(
            grouping.label("grouping"), *keys,
            n.label("received"),
            counted(facts.c.status != "closed").label("open"),
            counted(overdue).label("overdue"),
            counted(overdue_open).label("overdue_open"),
            counted(facts.c.triage_late).label("triage_late"),
            counted(facts.c.triage_due).label("triage_due"),
            counted(facts.c.live_tasks > 0).label("with_tasks"),
            func.coalesce(grid_late, 0).label("late_tasks"),
            func.coalesce(grid_late_open, 0).label("late_open_tasks"),
            func.coalesce(func.sum(facts.c.handling_due), 0).label("handling_due"),
            func.coalesce(func.sum(facts.c.handling_late), 0).label("handling_late"),
            # the two grid lists' orders, as SQL orders them
            func.row_number().over(partition_by=grouping, order_by=(
                n.desc(), facts.c.grid_id)).label("by_count"),
            func.row_number().over(partition_by=grouping, order_by=(
                func.coalesce(grid_late_open, 0).desc(), func.coalesce(grid_late, 0).desc(),
                facts.c.grid_id)).label("by_late"),
        )
        .group_by(func.grouping_sets(tuple_(), tuple_(facts.c.category),
                                     tuple_(facts.c.month), tuple_(facts.c.status),
                                     tuple_(facts.c.grid_id)))
    ).all()
    sets: dict[int, list[Any]] = {}
    for row in rows:
        sets.setdefault(row.grouping, []).append(row)
    whole = sets[0b1111][0]
    totals = {"received": whole.received, "open": whole.open, "overdue": whole.overdue,
              "overdue_open": whole.overdue_open, "triage_late": whole.triage_late}

    # flows by the day they happened: closed in the period, whenever received
    closed_month = _month(Demand.closed_at)
    closed_keys = (Demand.category, closed_month)
    closed_sets: dict[int, list[Any]] = {}
    for row in session.execute(
        select(func.grouping(*closed_keys).label("grouping"), *closed_keys, func.count())
        .where(closed_in)
        .group_by(func.grouping_sets(tuple_(), tuple_(Demand.category), tuple_(closed_month)))
    ):
        closed_sets.setdefault(row[0], []).append(row)
    totals["closed"] = closed_sets[0b11][0][3] if 0b11 in closed_sets else 0

    by_category: dict[Any, dict[str, Any]] = {}

    def category_row(category: Any) -> dict[str, Any]:
        return by_category.setdefault(category, {"category": category, "received": 0,
                                                 "closed": 0, "overdue": 0})

    for row in sets.get(0b0111, []):
        category_row(row.category).update(received=row.received, overdue=row.overdue)
    for _, category, _, closed in closed_sets.get(0b01, []):
        category_row(category)["closed"] = closed

    by_department = [row._asdict() for row in session.execute(
        select(Task.department_id, func.count().label("tasks"),
               counted(Task.status == "completed").label("completed"),
               counted(Task.status.in_(OPEN_TASK_STATES)).label("open"),
               counted(late).label("overdue"), counted(late_open).label("overdue_open"))
        .join(Demand, Demand.id == Task.demand_id).where(cohort, live)
        .group_by(Task.department_id)
        .order_by(counted(late_open).desc(), counted(late).desc(), Task.department_id)
    )]

    trend = {month: {"month": month, "received": 0, "closed": 0, "overdue": 0}
             for month in months(period.start, period.end)}
    for row in sets.get(0b1011, []):
        trend[row.month].update(received=row.received, overdue=row.overdue)
    for _, _, month, closed in closed_sets.get(0b10, []):
        trend[month]["closed"] = closed

    grids = [row for row in sets.get(0b1110, []) if row.grid_id is not None]
    top_grids = [{"grid_id": row.grid_id, "demands": row.with_tasks,
                  "overdue": int(row.late_tasks), "overdue_open": int(row.late_open_tasks)}
                 for row in sorted(grids, key=lambda r: r.by_late)
                 if row.late_tasks > 0][:TOP_GRIDS]
    by_status = [{"status": row.status, "demands": row.received}
                 for row in sorted(sets.get(0b1101, []), key=lambda r: r.status)]
    by_grid = [{"grid_id": row.grid_id, "demands": row.received, "overdue": row.overdue}
               for row in sorted(grids, key=lambda r: r.by_count)][:BY_GRID]

    return {
        "from_": period.start, "to": period.end, "as_of": as_of, "totals": totals,
        "by_status": by_status, "by_grid": by_grid,
        "rates": rates(session, cohort, live, whole),
        "by_category": sorted(by_category.values(),
                              key=lambda r: (-r["received"], r["category"] or "")),
        "by_department": by_department,
        "trend": list(trend.values()),
        "top_overdue_grids": top_grids,
        "repeated_enterprises": repeated_enterprises(session, cohort),
    }


def rates(session: Session, cohort: Any, live: Any, whole: Any) -> dict[str, Any]:
    """The service rates of the demands received in the period (definitions as the
    appraisal's): 分理及时率 over the demands whose 分理时限 came into play, 办理及时率 over the
    tasks whose handling deadline did, 满意率 over every rating round; and the escalations
    (督办升级) of their tasks. ``whole``: the cohort's row of :func:`overview`'s statement
    (its 分理 and handling counts)."""
    counted = func.count().filter
    ratings = session.execute(
        select(func.count().label("ratings"),
               counted(Rating.satisfied.is_(True)).label("satisfied"))
        .join(Demand, Demand.id == Rating.demand_id).where(cohort)).one()
    escalations = session.execute(
        select(func.count(Escalation.id)).join(Task, Task.id == Escalation.task_id)
        .join(Demand, Demand.id == Task.demand_id).where(cohort, live)).scalar_one()
    triage_due, handling_due_, handling_late = (int(whole.triage_due), int(whole.handling_due),
                                                int(whole.handling_late))
    return {
        "triage_due": triage_due,
        "triage_on_time_rate": rate(triage_due - int(whole.triage_late), triage_due),
        "handling_due": handling_due_,
        "handling_on_time_rate": rate(handling_due_ - handling_late, handling_due_),
        "ratings": ratings.ratings, "satisfaction_rate": rate(ratings.satisfied,
                                                              ratings.ratings),
        "escalations": escalations,
    }


def repeated_enterprises(session: Session, cohort: Any,
                         minimum: int = REPEATED) -> list[dict[str, Any]]:
    """Enterprises with at least ``minimum`` demands received in the period, most first: their
    categories and the most demands of one category (the same problem again)."""
    per_category = (
        select(Demand.enterprise_id, Demand.category, func.count().label("n"))
        .where(cohort).group_by(Demand.enterprise_id, Demand.category).subquery()
    )
    same = func.max(per_category.c.n).filter(per_category.c.category.is_not(None))
    query = (
        select(per_category.c.enterprise_id, func.sum(per_category.c.n).label("demands"),
               func.array_remove(func.array_agg(per_category.c.category), None)
               .label("categories"),
               func.coalesce(same, 0).label("max_same_category"))
        .group_by(per_category.c.enterprise_id)
        .having(func.sum(per_category.c.n) >= minimum)
        .order_by(func.sum(per_category.c.n).desc(), func.coalesce(same, 0).desc(),
                  per_category.c.enterprise_id)
        .limit(TOP_ENTERPRISES)
    )
    return [{"enterprise_id": row.enterprise_id, "demands": int(row.demands),
             "categories": sorted(row.categories or []),
             "max_same_category": int(row.max_same_category)}
            for row in session.execute(query)]

