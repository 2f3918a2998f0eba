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

from sqlalchemy import and_, distinct, exists, func, literal_column, or_, select, true
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


def overview(session: Session, principal: Principal, period: Period,
             as_of: datetime | None = None) -> dict[str, Any]:
    """The overview of ``period`` (``OverviewSchema``) for this caller."""
    as_of = as_of or datetime.now(UTC)
    demand_scope, task_scope = scope(principal)
    live = and_(Task.status != "cancelled", task_scope)
    late = and_(Task.accepted_at.is_not(None), task_late(as_of))
    late_open = and_(Task.status == "accepted", Task.due_at <= as_of)
    overdue = exists().where(Task.demand_id == Demand.id, live, late)
    overdue_open = exists().where(Task.demand_id == Demand.id, live, late_open)
    cohort = and_(period.received(), demand_scope)
    closed_in = and_(Demand.closed_at >= period.start_at, Demand.closed_at < period.end_at,
                     demand_scope)
    counted = func.count().filter

    totals = session.execute(select(
        func.count().label("received"),
        counted(Demand.status != "closed").label("open"),
        counted(overdue).label("overdue"),
        counted(overdue_open).label("overdue_open"),
        counted(or_(Demand.triaged_at > Demand.triage_due_at,
                    and_(Demand.triaged_at.is_(None), Demand.triage_due_at <= as_of)))
        .label("triage_late"),
    ).where(cohort)).one()._asdict()
    totals["closed"] = session.execute(select(func.count()).where(closed_in)).scalar_one()

    by_category: dict[Any, dict[str, Any]] = {}

    def category_row(category: Any) -> dict[str, Any]:
        return by_category.setdefault(category, {"category": category, "received": 0,
                                                 "closed": 0, "overdue": 0})

    for category, received, late_count in session.execute(
        select(Demand.category, func.count(), counted(overdue)).where(cohort)
        .group_by(Demand.category)
    ):
        category_row(category).update(received=received, overdue=late_count)
    for category, closed in session.execute(
        select(Demand.category, func.count()).where(closed_in).group_by(Demand.category)
    ):
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
    received_month, closed_month = _month(Demand.received_at), _month(Demand.closed_at)
    for month, received, late_count in session.execute(
        select(received_month, func.count(), counted(overdue)).where(cohort)
        .group_by(received_month)
    ):
        trend[month].update(received=received, overdue=late_count)
    for month, closed in session.execute(
        select(closed_month, func.count()).where(closed_in).group_by(closed_month)
    ):
        trend[month]["closed"] = closed

    grid_late, grid_late_open = counted(late), counted(late_open)
    top_grids = [row._asdict() for row in session.execute(
        select(Demand.grid_id, func.count(distinct(Demand.id)).label("demands"),
               grid_late.label("overdue"), grid_late_open.label("overdue_open"))
        .join(Task, and_(Task.demand_id == Demand.id, live))
        .where(cohort, Demand.grid_id.is_not(None))
        .group_by(Demand.grid_id).having(grid_late > 0)
        .order_by(grid_late_open.desc(), grid_late.desc(), Demand.grid_id)
        .limit(TOP_GRIDS)
    )]

    by_status = [{"status": status, "demands": n} for status, n in session.execute(
        select(Demand.status, func.count()).where(cohort).group_by(Demand.status)
        .order_by(Demand.status))]
    grid_overdue = counted(overdue)
    by_grid = [row._asdict() for row in session.execute(
        select(Demand.grid_id, func.count().label("demands"), grid_overdue.label("overdue"))
        .where(cohort, Demand.grid_id.is_not(None)).group_by(Demand.grid_id)
        .order_by(func.count().desc(), Demand.grid_id).limit(BY_GRID))]

    return {
        "from_": period.start, "to": period.end, "as_of": as_of, "totals": totals,
        "by_status": by_status, "by_grid": by_grid,
        "rates": rates(session, cohort, live, as_of, totals["triage_late"]),
        "by_category": sorted(by_category.values(),
                              key=lambda r: (-r["received"], r["category"] or "")),
        "by_department": by_department,
        "trend": list(trend.values()),
        "top_overdue_grids": top_grids,
        "repeated_enterprises": repeated_enterprises(session, cohort),
    }


def rates(session: Session, cohort: Any, live: Any, as_of: datetime,
          triage_late: int) -> dict[str, Any]:
    """The service rates of the demands received in the period (definitions as the
    appraisal's): 分理及时率 over the demands whose 分理时限 came into play, 办理及时率 over the
    tasks whose handling deadline did, 满意率 over every rating round; and the escalations
    (督办升级) of their tasks."""
    counted = func.count().filter
    triage_due = session.execute(select(func.count()).where(cohort, or_(
        Demand.triaged_at.is_not(None), Demand.triage_due_at <= as_of))).scalar_one()
    handling = session.execute(
        select(counted(handling_due(as_of)).label("due"),
               counted(and_(handling_due(as_of), task_late(as_of))).label("late"))
        .join(Demand, Demand.id == Task.demand_id).where(cohort, live)).one()
    ratings = session.execute(
        select(func.count().label("ratings"),
               counted(Rating.satisfied.is_(True)).label("satisfied"))
        .join(Demand, Demand.id == Rating.demand_id).where(cohort)).one()
    escalations = session.execute(
        select(func.count(Escalation.id)).join(Task, Task.id == Escalation.task_id)
        .join(Demand, Demand.id == Task.demand_id).where(cohort, live)).scalar_one()
    return {
        "triage_due": triage_due, "triage_on_time_rate": rate(triage_due - triage_late,
                                                               triage_due),
        "handling_due": handling.due,
        "handling_on_time_rate": rate(handling.due - handling.late, handling.due),
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

