"""台账: an append-only record of every transition (who, role, when, from, to, reason)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from common.auth import Principal
from services.ticketing.models import LedgerEntry


def record(session: Session, principal: Principal, demand_id: str, action: str,
           from_state: str | None, to_state: str | None, *, task_id: str | None = None,
           department_id: str | None = None, reason: str | None = None) -> LedgerEntry:
    entry = LedgerEntry(demand_id=demand_id, task_id=task_id, department_id=department_id,
                        action=action, from_state=from_state, to_state=to_state,
                        actor=principal.user_id, actor_role=str(principal.role), reason=reason)
    session.add(entry)
    return entry
