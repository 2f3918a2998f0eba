"""Intake (信息收集): who may record a demand for which enterprise, and idempotent submission.

Plain functions over a SQLAlchemy session; no broker in here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import SHANGHAI, WorkCalendar
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from common.outbox import record_event
from services.ticketing.models import Demand, outbox

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


def submit(
    session: Session,
    principal: Principal,
    data: dict[str, Any],
    idempotency_key: str | None,
    calendar: WorkCalendar,
    call_id: str | None = None,
    now: datetime | None = None,
) -> tuple[Demand, bool]:
    """Record a demand and its ``demand_received`` event; returns (demand, created).

    The same Idempotency-Key from the same caller returns the first demand; reused with a
    different body it is a conflict. ``calendar`` comes from ``CalendarCache.get(session,
    lock=True)``, so that a concurrent calendar load (调休) either sees this demand and
    re-plans its provisional deadline, or is seen by it.
    """
    enterprise_id = resolve_enterprise(principal, data.get("enterprise_id"))
    digest = request_hash(data)
    if idempotency_key:
        existing = find_by_key(session, principal, idempotency_key)
        if existing is not None:
            return _same_request(existing, digest), False
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
        return _same_request(existing, digest), False
    record_event(
        session,
        outbox,
        "ticketing",
        "demand_received",
        {
            "demand_id": demand.id,
            "number": demand.number,
            "enterprise_id": enterprise_id,
            "title": demand.title,
            "channel": demand.channel,
            "received_at": received_at.isoformat(),
            "triage_due_at": deadline.at.isoformat(),
            "triage_due_provisional": deadline.provisional,
        },
        call_id=call_id,
    )
    return demand, True


def _same_request(existing: Demand, digest: str) -> Demand:
    if existing.request_hash != digest:
        raise Conflict("Idempotency-Key was already used for a different request")
    return existing


def can_read(principal: Principal, demand: Demand) -> bool:
    if principal.role in READ_ALL:
        return True
    if principal.role == Role.ENTERPRISE:
        return demand.enterprise_id == principal.enterprise_id
    return demand.recorded_by == principal.user_id


def get_visible(session: Session, principal: Principal, demand_id: str) -> Demand:
    """The demand if the caller may see it; otherwise NotFound, so existence does not leak."""
    try:
        uuid.UUID(demand_id)
    except ValueError as exc:
        raise NotFound("no such demand") from exc
    demand = session.get(Demand, demand_id)
    if demand is None or not can_read(principal, demand):
        raise NotFound("no such demand")
    return demand


def list_visible(
    session: Session, principal: Principal, filters: dict[str, Any]
) -> tuple[list[Demand], int]:
    query = select(Demand)
    if principal.role == Role.ENTERPRISE:
        query = query.where(Demand.enterprise_id == principal.enterprise_id)
    elif principal.role not in READ_ALL:
        query = query.where(Demand.recorded_by == principal.user_id)
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
