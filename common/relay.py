"""The outbox relay: publishes committed outbox rows to the service's event exchange.

Runs as a managed thread of the service's :class:`common.db.Database` provider; safe with
several replicas, since each batch is claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import eventlet
from eventlet.event import Event
from nameko.amqp.publish import Publisher
from nameko.events import get_event_exchange
from sqlalchemy import MetaData, Table, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from common.outbox import BATCH, OUTBOX_BACKLOG, OUTBOX_FAILURES, OUTBOX_PUBLISHED, RETENTION

log = logging.getLogger(__name__)


class OutboxRelay:
    """Publishes committed outbox rows; safe with several replicas (SKIP LOCKED claims)."""

    def __init__(
        self,
        sessionmaker: sessionmaker[Session],
        service_name: str,
        config: dict,
        poll_interval: float = 1.0,
        max_backoff: float = 15.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.service_name = service_name
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.exchange = get_event_exchange(service_name, config)
        self.publisher = Publisher(
            config["AMQP_URI"],
            use_confirms=True,
            serializer="json",
            # one quick try: a failed batch stays in the outbox and the loop backs off
            retry=False,
            declare=[self.exchange],
        )
        self._wake = Event()
        self._running = True
        self._table: Table | None = None

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = Table(
                "outbox", MetaData(), autoload_with=self.sessionmaker.kw["bind"]
            )
        return self._table

    def wake(self) -> None:
        if not self._wake.ready():
            self._wake.send(True)

    def stop(self) -> None:
        self._running = False
        self.wake()

    def run(self) -> None:
        backoff = self.poll_interval
        last_cleanup = datetime.min.replace(tzinfo=UTC)
        while self._running:
            try:
                while self._running and self.publish_batch() == BATCH:
                    pass
                backoff = self.poll_interval
                if datetime.now(UTC) - last_cleanup > timedelta(hours=1):
                    self.delete_old()
                    last_cleanup = datetime.now(UTC)
            except Exception as exc:
                OUTBOX_FAILURES.labels(self.service_name).inc()
                log.warning("outbox publish failed, retrying in %.1fs: %s", backoff, exc)
                backoff = min(backoff * 2, self.max_backoff)
            with eventlet.Timeout(backoff, False):
                self._wake.wait()
            self._wake = Event()

    def publish_batch(self) -> int:
        """Publish up to BATCH pending events; returns how many were published."""
        table = self.table
        with self.sessionmaker() as session, session.begin():
            rows = session.execute(
                select(table.c.id, table.c.event_type, table.c.payload, table.c.call_id)
                .where(table.c.published_at.is_(None))
                .order_by(table.c.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            published: list[int] = []
            error: Exception | None = None
            for row in rows:
                headers = {"nameko.call_id_stack": [row.call_id]} if row.call_id else {}
                try:
                    self.publisher.publish(
                        row.payload,
                        exchange=self.exchange,
                        routing_key=row.event_type,
                        headers=headers,
                        message_id=row.payload["event_id"],
                    )
                except Exception as exc:  # keep what was published, retry the rest later
                    error = exc
                    break
                published.append(row.id)
            if published:
                session.execute(
                    update(table)
                    .where(table.c.id.in_(published))
                    .values(published_at=func.now(), attempts=table.c.attempts + 1)
                )
            backlog = session.execute(
                select(func.count()).select_from(table).where(table.c.published_at.is_(None))
            ).scalar_one()
        OUTBOX_BACKLOG.labels(self.service_name).set(max(backlog - len(published), 0))
        OUTBOX_PUBLISHED.labels(self.service_name).inc(len(published))
        if error is not None:
            raise error
        return len(published)

    def delete_old(self) -> None:
        table = self.table
        with self.sessionmaker() as session, session.begin():
            session.execute(
                delete(table).where(
                    table.c.published_at.is_not(None),
                    table.c.published_at < datetime.now(UTC) - RETENTION,
                )
            )
