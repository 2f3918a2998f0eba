"""督办 (supervision list): the open work that needs someone's push, by department and grid.

A row is a demand waiting for triage (分理) or an open task waiting for acceptance (受理确认)
or being handled (办理), flagged

- ``overdue``: its deadline has passed;
- ``due_soon``: its deadline falls within one working day (until this time of day on the next
  working day, the metrics' window);
- ``escalated``: the task was escalated (督办升级, any level) and is not done.

Scoped by role: coordinators, leaders and admins see all; department staff their department's
tasks; grid staff their grids' demands and tasks; anyone else 403. Plain functions over a
SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import case, false, literal, null, or_, select, true
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.errors import Forbidden
from common.pagination import page_of
from services.ticketing.models import Demand, Task

READ_ALL = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
DEPARTMENT = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD})
GRID = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
STATES = ("overdue", "due_soon", "escalated")
#: the stage a row waits in, by the subject's status
STAGES = {"received": "triage", "assigned": "acceptance", "accepted": "handling"}


def _scope(principal: Principal) -> tuple[Any, Any]:
    """(WHERE over demands waiting for triage, WHERE over tasks) for this caller."""
    if principal.role in READ_ALL:
        return true(), true()
    if principal.role in DEPARTMENT and principal.department_id:
        return false(), Task.department_id == principal.department_id
    if principal.role in GRID:
        grids = list(principal.grid_ids) or [""]
        return Demand.grid_id.in_(grids), Demand.grid_id.in_(grids)
    raise Forbidden("{role} may not read the supervision list",
                    code="supervision.read_forbidden", params={"role": principal.role_label})


def rows(session: Session, principal: Principal, now: datetime, horizon: datetime,
         filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of the caller's scope that is overdue, due soon or escalated, most urgent
    first (earliest deadline)."""
    demands_where, tasks_where = _scope(principal)
    triage = (
        select(Demand.id.label("demand_id"), Demand.number, Demand.title, Demand.enterprise_id,
               Demand.grid_id, literal(None).label("task_id"),
               null().label("department_id"), Demand.status,
               Demand.triage_due_at.label("due_at"),
               Demand.triage_due_provisional.label("due_provisional"),
               literal(0).label("escalation_level"))
        .where(Demand.status == "received", Demand.triage_due_at <= horizon, demands_where)
    )
    tasks = (
        select(Demand.id.label("demand_id"), Demand.number, Demand.title, Demand.enterprise_id,
               Demand.grid_id, Task.id.label("task_id"), Task.department_id, Task.status,
               _due().label("due_at"), _due_provisional().label("due_provisional"),
               Task.escalation_level)
        .join(Demand, Demand.id == Task.demand_id)
        .where(Task.status.in_(("assigned", "accepted")), tasks_where,
               or_(_due() <= horizon, Task.escalation_level > 0))
    )
    wanted = []
    stage = filters.get("stage")
    if stage in (None, "triage") and filters.get("department_id") is None:
        wanted.append(triage)
    if stage != "triage":
        wanted.append(tasks)
    if not wanted:
        return []
    found = []
    for statement in wanted:
        statement = _filtered(statement, filters)
        found += session.execute(statement).mappings().all()
    out = []
    for row in found:
        item = dict(row)
        item["stage"] = STAGES[item["status"]]
        if stage and item["stage"] != stage:
            continue
        due = item["due_at"]
        item["overdue"] = due is not None and due <= now
        item["due_soon"] = due is not None and now < due <= horizon
        item["escalated"] = (item["escalation_level"] or 0) > 0
        if not (item["overdue"] or item["due_soon"] or item["escalated"]):
            continue
        if filters.get("state") and not item[filters["state"]]:
            continue
        out.append(item)
    out.sort(key=lambda r: (r["due_at"] is None, r["due_at"] or now, r["number"]))
    return out


def _due() -> Any:
    """A task's deadline by its status: acceptance while assigned, handling once accepted."""
    return case((Task.status == "assigned", Task.accept_due_at), else_=Task.due_at)


def _due_provisional() -> Any:
    """Whether that deadline is provisional (暂定)."""
    return case((Task.status == "assigned", Task.accept_due_provisional),
                else_=Task.due_provisional)


def _filtered(statement: Any, filters: dict[str, Any]) -> Any:
    if filters.get("grid_id"):
        statement = statement.where(Demand.grid_id == filters["grid_id"])
    if filters.get("department_id"):
        statement = statement.where(Task.department_id == filters["department_id"])
    if filters.get("q"):
        words = filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(or_(Demand.number.ilike(f"%{words}%"),
                                        Demand.title.ilike(f"%{words}%")))
    return statement


def summary(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Counts of overdue, due soon and escalated rows by ``key`` (department or grid),
    most overdue first."""
    counts: dict[Any, Counter] = {}
    for item in items:
        tally = counts.setdefault(item[key], Counter())
        for state in STATES:
            tally[state] += int(item[state])
    return sorted(({key: k, **{s: c[s] for s in STATES}} for k, c in counts.items()),
                  key=lambda r: (-r["overdue"], -r["escalated"], -r["due_soon"],
                                 r[key] or ""))


def page(session: Session, principal: Principal, now: datetime, horizon: datetime,
         filters: dict[str, Any]) -> dict[str, Any]:
    items = rows(session, principal, now, horizon, filters)
    return {
        "as_of": now, "horizon": horizon,
        "totals": {s: sum(int(i[s]) for i in items) for s in STATES},
        "by_department": summary([i for i in items if i["department_id"]], "department_id"),
        "by_grid": summary(items, "grid_id"),
        **page_of(items, filters).as_dict(),
    }

