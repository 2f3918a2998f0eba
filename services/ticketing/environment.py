"""营商环境: the platform's own service figures by month and by department, for the zone
resources module (区域资源).

Every figure is the appraisal's (:mod:`services.ticketing.appraisal`, its one home) for the
demands **received** in the month: 响应率 (accepted in time / acceptance due), 解决率
(closed by a satisfied rating / closed with the enterprise's verdict), 满意率 (satisfied
ratings / ratings), 平均办理用时 (working days from acceptance to completion, completed tasks)
and 督办升级 (escalations of those tasks). Departments are attributed as the appraisal
attributes them (by the task's department); the zone row counts each demand and task once.

Who sees what: every member of the staff sees the zone's rows; leaders, coordinators and
admins every department's; a department head or liaison their own department's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import WorkCalendar
from common.errors import Forbidden
from services.ticketing import appraisal
from services.ticketing.appraisal import DEPARTMENTS, ZONE, Period

#: the most months one request covers
MAX_MONTHS = 24
#: roles that see every department's rows
ALL_DEPARTMENTS = frozenset({Role.LEADER, Role.COORDINATOR, Role.ADMIN, Role.SERVICE})
OWN_DEPARTMENT = frozenset({Role.DEPARTMENT_HEAD, Role.LIAISON})


def check_reader(principal: Principal) -> None:
    if principal.role == Role.ENTERPRISE:
        raise Forbidden("{role} may not read the business environment",
                        code="zone.read_forbidden", params={"role": principal.role_label})


def months(first: date, last: date) -> list[Period]:
    """The calendar months from ``first``'s to ``last``'s, each as a Period of receipt days."""
    found = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        start = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        found.append(Period(start, following - timedelta(days=1)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _figures(row: dict[str, Any] | None, handling: tuple[int, int] | None,
             escalated: int) -> dict[str, Any]:
    row = row or {}
    tasks_done, days = handling or (0, 0)
    return {
        "demands": row.get("demands", 0), "tasks": row.get("tasks", 0),
        "acceptance_due": row.get("acceptance_due", 0),
        "accepted_on_time": row.get("accepted_on_time", 0),
        "response_rate": row.get("response_rate"),
        "judged": row.get("judged", 0), "resolved": row.get("resolved", 0),
        "resolution_rate": row.get("resolution_rate"),
        "ratings": row.get("ratings", 0), "satisfied": row.get("satisfied", 0),
        "satisfaction_rate": row.get("satisfaction_rate"),
        "completed_tasks": tasks_done,
        "avg_handling_workdays": round(days / tasks_done, 2) if tasks_done else None,
        "escalations": escalated,
    }


def visible_departments(principal: Principal, ids: Iterable[str]) -> list[str]:
    if principal.role in ALL_DEPARTMENTS:
        return sorted(ids)
    if principal.role in OWN_DEPARTMENT and principal.department_id:
        return [i for i in sorted(ids) if i == principal.department_id]
    return []


def business_environment(session: Session, principal: Principal, first: date, last: date,
                         calendar: WorkCalendar, departments: dict[str, str],
                         as_of: datetime) -> dict[str, Any]:
    """Month by month: the zone's figures and each visible department's."""
    check_reader(principal)
    items = []
    for period in months(first, last):
        zone = appraisal.appraise(session, ZONE, period, as_of)
        by_department = {r["subject_id"]: r for r in
                         appraisal.appraise(session, DEPARTMENTS, period, as_of)}
        handling = appraisal.handling_workdays(session, DEPARTMENTS, period, calendar)
        zone_handling = appraisal.handling_workdays(session, ZONE, period, calendar)
        escalated = appraisal.escalations(session, DEPARTMENTS, period)
        zone_escalated = appraisal.escalations(session, ZONE, period)
        shown = visible_departments(principal, set(by_department) | set(departments))
        items.append({
            "month": f"{period.start.year:04d}-{period.start.month:02d}",
            "zone": _figures(zone[0] if zone else None, zone_handling.get(ZONE),
                             zone_escalated.get(ZONE, 0)),
            "departments": [{"department_id": d, "department_name": departments.get(d),
                             **_figures(by_department.get(d), handling.get(d),
                                        escalated.get(d, 0))} for d in shown],
        })
    return {"from_": f"{first.year:04d}-{first.month:02d}",
            "to": f"{last.year:04d}-{last.month:02d}", "as_of": as_of, "items": items}
