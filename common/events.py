"""Consuming domain events exactly once per handler.

Events may arrive twice (outbox relay retries, broker redelivery). A handler records the
event id in its service's ``processed_events`` table in the same transaction as its effect:
the second delivery finds the id and does nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, func
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.orm import Session

from common.errors import ValidationFailed


def processed_events_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("event_id", UUID(as_uuid=False), primary_key=True),
        Column("handler", String(200), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def check_envelope(payload: Any) -> dict[str, Any]:
    """The envelope written by :func:`common.outbox.envelope`, or ValidationFailed."""
    if not isinstance(payload, dict):
        raise ValidationFailed("event payload is not an object", code="event.malformed")
    missing = [k for k in ("event_id", "event_type", "source", "data") if k not in payload]
    if missing:
        raise ValidationFailed("event envelope lacks {fields}", code="event.malformed",
                               params={"fields": missing})
    if not isinstance(payload["data"], dict):
        raise ValidationFailed("event data is not an object", code="event.malformed")
    return payload


def first_delivery(session: Session, table: Table, event_id: str, handler: str) -> bool:
    """Claim (event, handler) in the current transaction; False if it was handled before."""
    result = session.execute(
        insert(table)
        .values(event_id=event_id, handler=handler)
        .on_conflict_do_nothing()
        .returning(table.c.event_id)
    )
    return result.first() is not None
