"""Intake (信息收集): who may record a demand for which enterprise, and idempotent submission.

Plain functions over a SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, or_, select, text, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import SHANGHAI, WorkCalendar
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from common.outbox import record_event
from services.ticketing import sla
from services.ticketing.models import Demand, Task, outbox

#: roles that record demands on an enterprise's behalf (grid workers, the service window...)
RECORDING_STAFF = {Role.GRID_WORKER, Role.GRID_LEADER, Role.COORDINATOR, Role.ADMIN}
#: roles that read every demand
READ_ALL = {Role.COORDINATOR, Role.LEADER, Role.ADMIN}


def resolve_enterprise(principal: Principal, requested: str | None) -> str:
    """The enterprise a new demand belongs to; enterprises may only file their own."""
    if principal.role == Role.ENTERPRISE:
        if not principal.enterprise_id:
            raise Forbidden("this account is not linked to an enterprise")
        if requested and requested != principal.enterprise_id:
            raise Forbidden("an enterprise may only file its own demands")
        return principal.enterprise_id
    if principal.role not in RECORDING_STAFF:
        raise Forbidden(f"role {principal.role} may not record demands")
    if not requested:
        raise ValidationFailed("enterprise_id is required", {"enterprise_id": ["required"]})
    return requested


def request_hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def next_number(session: Session, received_local: datetime) -> str:
    seq = session.execute(text("SELECT nextval('ticketing.demand_number_seq')")).scalar_one()
    return f"SQ{received_local:%Y%m%d}-{seq:05d}"


def find_by_key(session: Session, principal: Principal, key: str) -> Demand | None:
    return session.execute(
        select(Demand).where(Demand.recorded_by == principal.user_id, Demand.idempotency_key == key)
    ).scalar_one_or_none()


def check_enterprise(enterprise: dict[str, Any] | None) -> dict[str, Any]:
    """The enterprise as the registry showed it to the caller; demands are taken only for
    enterprises in the service scope (服务范围)."""
    if enterprise is None:
        raise ValidationFailed("no such enterprise, or not one you may record for",
                               {"enterprise_id": ["unknown or not yours"]})
    if not enterprise.get("in_scope"):
        raise ValidationFailed("the enterprise is not in the service scope",
                               {"enterprise_id": ["out of the service scope (服务范围)"]})
    return enterprise


def submit(
    session: Session,
    principal: Principal,
    data: dict[str, Any],
    idempotency_key: str | None,
    calendar: WorkCalendar,
    call_id: str | None = None,
    now: datetime | None = None,
    enterprise: dict[str, Any] | None = None,
) -> tuple[Demand, bool]:
    """Record a demand and its ``demand_received`` event; returns (demand, created).

    The same Idempotency-Key from the same caller returns the first demand; reused with a
    different body it is a conflict. ``enterprise`` is the registry's record (for its grid);
    ``calendar`` comes from ``CalendarCache.get(session,
    lock=True)``, so that a concurrent calendar load (调休) either sees this demand and
    re-plans its provisional deadline, or is seen by it.
    """
    enterprise_id = resolve_enterprise(principal, data.get("enterprise_id"))
    digest = request_hash(data)
    if idempotency_key:
        existing = find_by_key(session, principal, idempotency_key)
        if existing is not None:
            return same_request(existing, digest), False
    received_at = now or datetime.now(UTC)
    deadline = calendar.triage_deadline(received_at)
    demand = Demand(
        id=str(uuid.uuid4()),
        number=next_number(session, received_at.astimezone(SHANGHAI)),
        enterprise_id=enterprise_id,
        channel=data["channel"],
        category=data.get("category"),
        title=data["title"],
        description=data["description"],
        urgency=data["urgency"],
        attachments=data["attachments"],
        status="received",
        received_at=received_at,
        triage_due_at=deadline.at,
        triage_due_provisional=deadline.provisional,
        recorded_by=principal.user_id,
        recorded_role=str(principal.role),
        idempotency_key=idempotency_key,
        request_hash=digest,
        version=1,
        grid_id=(enterprise or {}).get("grid_id"),
    )
    try:
        with session.begin_nested():
            session.add(demand)
            session.flush()
    except IntegrityError:
        # a concurrent request with the same key won the race: answer with its demand
        existing = find_by_key(session, principal, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return same_request(existing, digest), False
    sla.schedule(session, "triage", demand.id, deadline.at)
    record_event(
        session,
        outbox,
        "ticketing",
        "demand_received",
        {
            "demand_id": demand.id,
            "number": demand.number,
            "enterprise_id": enterprise_id,
            "grid_id": demand.grid_id,
            "title": demand.title,
            "channel": demand.channel,
            "received_at": received_at.isoformat(),
            "triage_due_at": deadline.at.isoformat(),
            "triage_due_provisional": deadline.provisional,
        },
        call_id=call_id,
    )
    return demand, True


def same_request(existing: Demand, digest: str) -> Demand:
    if existing.request_hash != digest:
        raise Conflict("Idempotency-Key was already used for a different request")
    return existing


GRID_ROLES = {Role.GRID_WORKER, Role.GRID_LEADER}
DEPARTMENT_ROLES = {Role.LIAISON, Role.DEPARTMENT_HEAD}


def visibility(principal: Principal) -> Any:
    """A WHERE clause over Demand: what this caller may see.

    Enterprises their own; grid staff their grids' (and what they recorded); department staff
    the demands with a task of their department; coordinators, leaders, admins all.
    """
    if principal.role in READ_ALL:
        return true()
    if principal.role == Role.ENTERPRISE:
        return Demand.enterprise_id == (principal.enterprise_id or "")
    mine = Demand.recorded_by == principal.user_id
    if principal.role in GRID_ROLES:
        return or_(Demand.grid_id.in_(principal.grid_ids or ("",)), mine)
    if principal.role in DEPARTMENT_ROLES and principal.department_id:
        has_task = exists().where(Task.demand_id == Demand.id,
                                  Task.department_id == principal.department_id)
        return or_(has_task, mine)
    return mine


def can_read(session: Session, principal: Principal, demand: Demand) -> bool:
    if principal.role in READ_ALL:
        return True
    return session.execute(
        select(Demand.id).where(Demand.id == demand.id, visibility(principal))
    ).first() is not None


def get_visible(session: Session, principal: Principal, demand_id: str) -> Demand:
    """The demand if the caller may see it; otherwise NotFound, so existence does not leak."""
    try:
        uuid.UUID(demand_id)
    except ValueError as exc:
        raise NotFound("no such demand") from exc
    demand = session.get(Demand, demand_id)
    if demand is None or not can_read(session, principal, demand):
        raise NotFound("no such demand")
    return demand


def list_visible(
    session: Session, principal: Principal, filters: dict[str, Any]
) -> tuple[list[Demand], int]:
    query = select(Demand).where(visibility(principal))
    for field in ("enterprise_id", "status", "channel"):
        if filters.get(field):
            query = query.where(getattr(Demand, field) == filters[field])
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page, per_page = filters["page"], filters["per_page"]
    rows = session.execute(
        query.order_by(Demand.received_at.desc(), Demand.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).scalars().all()
    return list(rows), total
