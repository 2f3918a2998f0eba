"""Transactional outbox: domain events are written in the same transaction as the change
they describe, and a relay publishes them to RabbitMQ after commit.

An event whose change committed is therefore delivered even if the broker was down at commit
time; it may be delivered more than once (the relay can crash between publish and marking), so
every handler deduplicates on ``event_id`` (see :mod:`common.events`).

:mod:`common.relay` publishes them exactly as nameko's ``EventDispatcher`` would: exchange
``<service>.events`` (topic), routing key = event type, JSON body = the envelope below, so
plain nameko ``@event_handler`` consumers receive it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

OUTBOX_BACKLOG = Gauge(
    "gridsvc_outbox_backlog_events", "Committed events not yet published", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "gridsvc_outbox_oldest_event_age_seconds",
    "Seconds since the oldest committed event not yet published was written (0: none); read "
    "from the database by the relay on every pass, like the backlog",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "gridsvc_outbox_published_events_total", "Events published from the outbox", ["service"]
)
OUTBOX_FAILURES = Counter(
    "gridsvc_outbox_publish_failures_total", "Failed attempts to publish the outbox", ["service"]
)

BATCH = 200
RETENTION = timedelta(days=7)


def outbox_table(metadata: MetaData) -> Table:
    """The ``outbox`` table in the service's schema; add it to the service's models."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("call_id", String(200)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )


def envelope(source: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "source": source,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": data,
    }


def record_event(
    session: Session,
    table: Table,
    source: str,
    event_type: str,
    data: dict[str, Any],
    call_id: str | None = None,
) -> dict[str, Any]:
    """Write an event into the outbox inside the caller's transaction; returns the envelope."""
    return record_events(session, table, source, [(event_type, data)], call_id)[0]


def record_events(
    session: Session,
    table: Table,
    source: str,
    events: list[tuple[str, dict[str, Any]]],
    call_id: str | None = None,
) -> list[dict[str, Any]]:
    """:func:`record_event` for several (event_type, data), in one INSERT; the envelopes."""
    envelopes = [envelope(source, event_type, data) for event_type, data in events]
    if envelopes:
        session.execute(table.insert(), [
            {"event_id": env["event_id"], "event_type": env["event_type"], "payload": env,
             "call_id": call_id} for env in envelopes])
        session.info["outbox_pending"] = True
    return envelopes
