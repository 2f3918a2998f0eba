"""Events the registry publishes (through its outbox) for other services.

- ``enterprise_registered``: a new enterprise enters the registry (enterprise_id,
  credit_code, name, grid_id, industry_code, in_scope)
- ``scope_changed``: an enterprise enters or leaves scope (enterprise_id, in_scope, reason,
  effective_on)
- ``grid_changed``: an enterprise's grid changes (enterprise_id, old_grid_id, new_grid_id)
- ``profile_updated``: profile values or self-report fields change (enterprise_id, fields)
- ``obligation_due``: a committee obligation is N working days from due (obligation_id,
  contract_id, enterprise_id, department_id, due_on)
- ``obligation_overdue``: a committee obligation passed its due date unfulfilled (same)
- ``project_milestone_delayed``: a project's milestone passed its planned day, not done; once
  per planned day (project_id, project_name, milestone, planned_on, days_late, department_id,
  investor_name)
- ``project_in_production``: recording production brought a project's investor into scope
  (project_id, project_name, enterprise_id, enterprise_name, grid_id, grid_name, in_scope,
  site_address); ``scope_changed`` and ``grid_changed`` tell the change itself
- ``account_tokens_revoked``: tokens of an account issued before ``valid_after`` (ISO 8601,
  microseconds) are refused from now on: disabled, password changed or reset (account_id,
  valid_after, reason); every gateway replica consumes it (gateway/revocations.py)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from common.outbox import envelope, record_event
from services.enterprise.models import outbox

SOURCE = "enterprise"


def publish(session: Session, event_type: str, data: dict[str, Any],
            call_id: str | None = None) -> dict[str, Any]:
    """Record an event in the outbox, inside the caller's transaction."""
    return record_event(session, outbox, SOURCE, event_type, data, call_id=call_id)


def publish_many(session: Session, event_type: str, datas: Sequence[dict[str, Any]],
                 call_id: str | None = None) -> None:
    """Many events of one type in one INSERT (a 10,000-row import stays within seconds)."""
    if not datas:
        return
    rows = []
    for data in datas:
        env = envelope(SOURCE, event_type, data)
        rows.append({"event_id": env["event_id"], "event_type": event_type, "payload": env,
                     "call_id": call_id})
    session.execute(outbox.insert(), rows)
    session.info["outbox_pending"] = True
