"""Events the board publishes (through its outbox, in the transaction of the change).

The names and fields are a contract with the notification service:

- ``listing_matched``: a published listing and a live listing of the other side scored at or
  above the threshold (``SUPPLYDEMAND_MATCH_THRESHOLD``), once per pair (listing_id,
  listing_title, matched_listing_id, matched_listing_title, enterprise_ids: [the publishing
  enterprise, the matched listing's enterprise], score)
- ``docking_requested``: enterprise A asks to connect about B's listing (docking_id,
  listing_id, listing_title, requester_enterprise_id, owner_enterprise_id, message: A's
  message)
- ``docking_accepted`` / ``docking_declined``: B answered (same fields; message: B's reply,
  possibly empty)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from common.outbox import record_event
from services.supplydemand.models import outbox

SOURCE = "supplydemand"


def publish(session: Session, event_type: str, data: dict[str, Any],
            call_id: str | None = None) -> dict[str, Any]:
    """Record an event in the outbox, inside the caller's transaction."""
    return record_event(session, outbox, SOURCE, event_type, data, call_id=call_id)
