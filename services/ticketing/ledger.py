"""台账: an append-only record of every transition (who, role, when, from, to, reason)."""

from __future__ import annotations

from sqlalchemy import insert
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


# --------------------------------------------------------------------------- the SLA ladder's lines

#: who writes the ladder's lines: the platform (actor ``service:ticketing``, role ``service``)
PLATFORM_ACTOR, PLATFORM_ROLE = "service:ticketing", "service"
#: 超时: the ledger action of a missed deadline, by kind (a missed acceptance is written by its
#: own transition, ``time_out`` to coordination)
BREACH_ACTIONS = {"triage": "triage_overdue", "handling": "handling_overdue"}
#: 督办升级 for being overdue, by rung (a task reopened again is ``escalate``)
ESCALATION_ACTIONS = {1: "escalate_head", 2: "escalate_leader", 3: "escalate_group"}


def breach_line(kind: str, demand_id: str, task_id: str | None, department_id: str | None,
                state: str | None) -> dict | None:
    """The ledger row of a new breach of a ``kind`` deadline (None: written elsewhere)."""
    action = BREACH_ACTIONS.get(kind)
    if action is None:
        return None
    return {"demand_id": demand_id, "task_id": task_id, "department_id": department_id,
            "action": action, "from_state": state, "to_state": state,
            "actor": PLATFORM_ACTOR, "actor_role": PLATFORM_ROLE, "reason": None,
            "channel": None}


def escalation_line(level: int, demand_id: str, task_id: str, department_id: str | None,
                    state: str | None) -> dict:
    """The ledger row of a new 督办 escalation for being overdue, at ``level``."""
    return {"demand_id": demand_id, "task_id": task_id, "department_id": department_id,
            "action": ESCALATION_ACTIONS.get(level, "escalate"), "from_state": state,
            "to_state": state, "actor": PLATFORM_ACTOR, "actor_role": PLATFORM_ROLE,
            "reason": None, "channel": None}


def write_lines(session: Session, rows: list[dict | None]) -> None:
    """Insert the given ledger rows (Nones skipped) in one statement."""
    rows = [row for row in rows if row is not None]
    if rows:
        session.execute(insert(LedgerEntry.__table__), rows)
