"""Events ticketing publishes through its outbox, for notifications and appraisal.

Every transition of a demand or task is published: ``demand_received``, ``demand_triaged``,
``task_assigned``, ``task_accepted``, ``task_returned``, ``task_reassigned``,
``task_completed``, ``task_reopened``, ``extension_requested``, ``extension_decided``,
``note_added`` (public notes only), ``rating_requested``, ``demand_rated``, ``demand_closed``,
and from the SLA sweep ``deadline_reminder``, ``sla_breached``, ``task_escalated``.
Data always carries ``demand_id`` and ``number``, ``enterprise_id``, and for tasks
``task_id`` and ``department_id``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from common.outbox import record_event
from services.ticketing.models import outbox

SOURCE = "ticketing"


def publish(session: Session, event_type: str, data: dict[str, Any],
            call_id: str | None = None) -> dict[str, Any]:
    return record_event(session, outbox, SOURCE, event_type, data, call_id=call_id)
