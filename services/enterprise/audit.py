"""操作日志: the audit log of privileged writes (admins and coordinators).

The gateway reports every write such a caller made that succeeded; the actor and role are
taken from the caller's token by the service, so an entry cannot be written in someone
else's name. Request values are not kept (a body may carry a password), only which fields
were sent. Account changes are in addition recorded as ``account_changed`` events in the
same transaction as the change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.auth import Principal
from common.pagination import paginate
from services.enterprise.models import AuditEntry


def record(session: Session, principal: Principal, data: dict[str, Any]) -> None:
    """Store one entry; a report repeated with the same call id is stored once."""
    session.execute(insert(AuditEntry).values(
        actor_id=principal.user_id, actor_role=str(principal.role), **data,
    ).on_conflict_do_nothing(index_elements=["call_id"]))


def entries(session: Session, filters: dict[str, Any]) -> tuple[list[AuditEntry], int]:
    """Newest first, filtered by actor, route and time."""
    query = select(AuditEntry)
    if filters.get("actor_id"):
        query = query.where(AuditEntry.actor_id == filters["actor_id"])
    if filters.get("route"):
        query = query.where(AuditEntry.route == filters["route"])
    if filters.get("since"):
        query = query.where(AuditEntry.at >= filters["since"])
    if filters.get("until"):
        query = query.where(AuditEntry.at < filters["until"])
    found = paginate(session, query, filters,
                     order_by=[AuditEntry.at.desc(), AuditEntry.id.desc()], scalars=True)
    return found.items, found.total
