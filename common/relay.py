"""The outbox relay: publishes committed outbox rows to the service's event exchange.

Runs as a managed thread of the service's :class:`common.db.Database` provider; safe with
several replicas, since each batch is claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import eventlet
from amqp.exceptions import MessageNacked
from eventlet.event import Event
from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.messaging import Producer
from nameko.events import get_event_exchange
from sqlalchemy import MetaData, Table, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from common.outbox import (
    BATCH,
    OUTBOX_BACKLOG,
    OUTBOX_FAILURES,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISHED,
    RETENTION,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingEvent:
    payload: dict[str, Any]
    routing_key: str
    headers: dict[str, Any]
    message_id: str


class ConfirmedPublisher:
    """Publishes a batch of persistent messages, then waits for the broker's confirms of them
    all: one round trip per batch. (nameko's and py-amqp's confirmed publish waits after every
    message, which made the relay one round trip per event.)

    One connection and channel in confirm mode, opened on first use and again after any
    failure or a long idle spell (this connection sends no heartbeats, so the broker may have
    dropped it)."""

    MAX_IDLE_SECONDS = 20.0

    def __init__(self, amqp_uri: str, exchange: Exchange, timeout: float = 10.0) -> None:
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.timeout = timeout
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._last_tag = 0  # the channel's delivery tag of the last message published
        self._unconfirmed: set[int] = set()
        self._nacked: set[int] = set()
        self._last_used = 0.0

    def _open(self) -> Producer:
        idle = time.monotonic() - self._last_used
        if self._producer is not None and idle > self.MAX_IDLE_SECONDS:
            self.close()
        if self._producer is None:
            connection = Connection(self.amqp_uri, connect_timeout=5)
            try:
                channel = connection.channel()
                channel.confirm_select()
                # confirms may be read while later messages are being written, so they are
                # counted by these listeners rather than by a wait's callback
                channel.events["basic_ack"].add(self._on_ack)
                channel.events["basic_nack"].add(self._on_nack)
                self.exchange(channel).declare()
            except BaseException:
                connection.release()
                raise
            self._connection = connection
            self._producer = Producer(channel, exchange=self.exchange,
                                            serializer="json", auto_declare=False)
            self._last_tag = 0
        return self._producer

    def _settle(self, delivery_tag: int, multiple: bool) -> set[int]:
        done = {t for t in self._unconfirmed if t <= delivery_tag} if multiple else (
            {delivery_tag} & self._unconfirmed)
        self._unconfirmed -= done
        return done

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked |= self._settle(delivery_tag, multiple)

    def publish(self, events: list[OutgoingEvent]) -> int:
        """Publish ``events`` in order; how many of them, from the first, the broker
        confirmed. Raises (after closing the connection) if not all were confirmed."""
        if not events:
            return 0
        try:
            producer = self._open()
            self._unconfirmed, self._nacked = set(), set()
            first = self._last_tag + 1
            with _corked(producer.channel.connection.transport):
                for event in events:
                    self._last_tag += 1
                    self._unconfirmed.add(self._last_tag)
                    producer.publish(event.payload, routing_key=event.routing_key,
                                     headers=event.headers, message_id=event.message_id,
                                     delivery_mode=2, retry=False)
            deadline = time.monotonic() + self.timeout
            while self._unconfirmed and not self._nacked:
                producer.channel.connection.drain_events(
                    timeout=max(deadline - time.monotonic(), 0.001))
            refused = self._nacked | self._unconfirmed
            if refused:
                # the ones before the first refused are safe to mark published
                raise PartlyConfirmed(min(refused) - first)
        except BaseException:
            self.close()
            raise
        self._last_used = time.monotonic()
        return len(events)

    def close(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # a broken connection may fail to close; it is dropped anyway
                log.debug("closing the relay's broker connection failed", exc_info=True)


@contextmanager
def _corked(transport: Any) -> Iterator[None]:
    """Gather the frames written inside and send them in one write at the end: py-amqp sends
    each message with its own system call (measured: a sixth of ticketing's CPU under load,
    in the relay alone). Nothing is sent if the block fails."""
    sendall = transport._write
    chunks: list[bytes] = []
    # a copy: py-amqp writes views of one buffer it reuses for the next frame
    transport._write = lambda data: chunks.append(bytes(data))
    try:
        yield
    finally:
        transport._write = sendall
    sendall(b"".join(chunks))


class PartlyConfirmed(MessageNacked):
    """The broker refused or did not confirm a batch; ``confirmed`` messages from its start
    were confirmed."""

    def __init__(self, confirmed: int) -> None:
        super().__init__(f"only the first {confirmed} messages of the batch were confirmed")
        self.confirmed = confirmed


class OutboxRelay:
    """Publishes committed outbox rows; safe with several replicas (SKIP LOCKED claims)."""

    def __init__(
        self,
        sessionmaker: sessionmaker[Session],
        service_name: str,
        config: dict[str, Any],
        poll_interval: float = 1.0,
        max_backoff: float = 15.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.service_name = service_name
        # the counters exist from the start: a first failure is seen as 0 → 1
        OUTBOX_FAILURES.labels(service_name)
        OUTBOX_PUBLISHED.labels(service_name)
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.exchange = get_event_exchange(service_name, config)
        # one quick try: a failed batch stays in the outbox and the loop backs off
        self.publisher = ConfirmedPublisher(config["AMQP_URI"], self.exchange)
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
        self.publisher.close()

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
            error: Exception | None = None
            try:
                confirmed = self.publisher.publish([OutgoingEvent(
                    payload=row.payload, routing_key=row.event_type,
                    headers={"nameko.call_id_stack": [row.call_id]} if row.call_id else {},
                    message_id=row.payload["event_id"]) for row in rows])
            except PartlyConfirmed as exc:  # keep what was confirmed, retry the rest later
                confirmed, error = exc.confirmed, exc
            except Exception as exc:
                confirmed, error = 0, exc
            published = [row.id for row in rows[:confirmed]]
            if published:
                session.execute(
                    update(table)
                    .where(table.c.id.in_(published))
                    .values(published_at=func.now(), attempts=table.c.attempts + 1)
                )
            # the rows just marked are already excluded: this transaction wrote their mark
            backlog, age = session.execute(
                select(func.count(), func.coalesce(
                    func.extract("epoch", func.now() - func.min(table.c.created_at)), 0))
                .select_from(table).where(table.c.published_at.is_(None))
            ).one()
        OUTBOX_BACKLOG.labels(self.service_name).set(backlog)
        OUTBOX_OLDEST_AGE.labels(self.service_name).set(max(float(age), 0.0))
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
