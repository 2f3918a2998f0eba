"""走访: grid workers' visits to enterprises, and who has not been visited lately.

"周周有走访": a grid worker or grid leader logs visits to the enterprises of their own grids;
coordinators and admins to any enterprise. Visits are read with the enterprise's own scope
rules (:mod:`services.enterprise.access`): grid staff see their grids' enterprises, department
staff, coordinators, leaders and admins all, an enterprise its own. The not-visited report
(未走访企业) lists in-scope enterprises without a visit in the last N days, never-visited ones
first.

Plain functions over a SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from common.auth import STAFF_ROLES, Principal, Role
from common.errors import Forbidden, NotFound, field_error, invalid_fields
from common.pagination import paginate
from services.enterprise import access
from services.enterprise.contracts import is_uuid
from services.enterprise.models import Enterprise, Visit

#: roles that log visits (grid roles only for their own grids)
VISITORS = access.GRID_ROLES | {Role.COORDINATOR, Role.ADMIN}
#: roles that see the not-visited report (scoped to their grids for grid roles)
REPORT_ROLES = STAFF_ROLES | {Role.SERVICE}


def record(
    session: Session,
    principal: Principal,
    data: dict[str, Any],
    today: date,
    now: datetime | None = None,
) -> Visit:
    """Log a visit; the visit keeps the grid the enterprise belongs to at that moment."""
    if principal.role not in VISITORS:
        raise Forbidden("{role} may not log visits", code="visit.create_forbidden",
                        params={"role": principal.role_label})
    enterprise_id = data["enterprise_id"]
    enterprise = session.get(Enterprise, enterprise_id) if is_uuid(enterprise_id) else None
    # grid staff: only their grids' enterprises; one they do not reach reads as unknown
    if enterprise is None or not access.can_read(principal, enterprise):
        raise invalid_fields({"enterprise_id": [field_error(
            "enterprise.not_found", "no such enterprise among those you may act for")]},
            code="enterprise.not_found")
    if data["visited_on"] > today:
        raise invalid_fields({"visited_on": [field_error(
            "visit.date_in_future", "may not lie in the future")]})
    visit = Visit(
        id=str(uuid.uuid4()),
        enterprise_id=enterprise.id,
        grid_id=enterprise.grid_id,
        visited_on=data["visited_on"],
        visitor_account_id=principal.user_id,
        topics=list(data.get("topics") or []),
        demands_raised=data.get("demands_raised"),
        note=data.get("note"),
        created_at=now or datetime.now(UTC),
    )
    session.add(visit)
    session.flush()
    return visit


def visible(query: Select, principal: Principal) -> Select:
    """Visits of the enterprises the caller may read (a query over Visit)."""
    return access.scoped(query.join(Enterprise, Enterprise.id == Visit.enterprise_id), principal)


def get_visible(session: Session, principal: Principal, visit_id: str) -> Visit:
    if not is_uuid(visit_id):
        raise NotFound("no such visit", code="visit.not_found")
    visit = session.execute(
        visible(select(Visit).where(Visit.id == visit_id), principal)
    ).scalar_one_or_none()
    if visit is None:
        raise NotFound("no such visit", code="visit.not_found")
    return visit


def list_visible(
    session: Session, principal: Principal, filters: dict[str, Any]
) -> tuple[list[Visit], int]:
    """Visits the caller may read, latest first; filters enterprise_id and grid_id (the grid at
    the time of the visit)."""
    query = visible(select(Visit), principal)
    if filters.get("enterprise_id"):
        if not is_uuid(filters["enterprise_id"]):
            raise invalid_fields({"enterprise_id": [field_error("field.not_id",
                                                                "not a valid id")]})
        query = query.where(Visit.enterprise_id == filters["enterprise_id"])
    if filters.get("grid_id"):
        query = query.where(Visit.grid_id == filters["grid_id"])
    found = paginate(session, query, filters, scalars=True, order_by=[
        Visit.visited_on.desc(), Visit.created_at.desc(), Visit.id])
    return found.items, found.total


def not_visited(
    session: Session, principal: Principal, filters: dict[str, Any], today: date
) -> tuple[list[dict[str, Any]], int]:
    """未走访: in-scope enterprises the caller may read without a visit in the last ``days``
    days (a visit on ``today - days`` or earlier no longer counts), never visited first, then
    the longest unvisited; ``grid_id`` narrows to one grid."""
    if principal.role not in REPORT_ROLES:
        raise Forbidden("{role} may not see the visit report", code="visit.report_forbidden",
                        params={"role": principal.role_label})
    cutoff = today - timedelta(days=filters["days"])
    last = (
        select(Visit.enterprise_id, func.max(Visit.visited_on).label("last_visited_on"))
        .group_by(Visit.enterprise_id)
        .subquery()
    )
    query = access.scoped(
        select(Enterprise.id, Enterprise.name, Enterprise.grid_id, last.c.last_visited_on)
        .outerjoin(last, last.c.enterprise_id == Enterprise.id)
        .where(Enterprise.in_scope.is_(True))
        .where(or_(last.c.last_visited_on.is_(None), last.c.last_visited_on <= cutoff)),
        principal,
    )
    if filters.get("grid_id"):
        query = query.where(Enterprise.grid_id == filters["grid_id"])
    found = paginate(session, query, filters, order_by=[
        last.c.last_visited_on.asc().nulls_first(), Enterprise.name, Enterprise.id])
    items = [
        {"enterprise_id": r.id, "name": r.name, "grid_id": r.grid_id,
         "last_visited_on": r.last_visited_on}
        for r in found.items
    ]
    return items, found.total
