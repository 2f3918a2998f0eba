"""The transactional outbox: an event committed while the broker is unreachable is published
once it is back; replicas never publish the same row at the same time."""

from __future__ import annotations

import json

import kombu
import pytest
from conftest import AMQP_URI, DATABASE_URL
from sqlalchemy import MetaData, select, text
from sqlalchemy.orm import sessionmaker

from common.db import make_engine
from common.outbox import outbox_table, record_event
from common.relay import OutboxRelay

SCHEMA = "outbox_probe"
SOURCE = "outboxprobe"


@pytest.fixture
def probe(infrastructure):
    """An outbox of its own, so the running services' relays never touch these rows."""
    engine = make_engine(DATABASE_URL, SCHEMA, "test-outbox")
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    metadata = MetaData(schema=SCHEMA)
    table = outbox_table(metadata)
    metadata.create_all(engine)
    yield sessionmaker(bind=engine), table
    engine.dispose()


@pytest.fixture
def relay():
    """Relays for this test; their broker connections closed at its end."""
    made: list[OutboxRelay] = []

    def make(sessions, amqp_uri: str) -> OutboxRelay:
        made.append(OutboxRelay(sessions, SOURCE, {"AMQP_URI": amqp_uri}))
        return made[-1]

    yield make
    for one in made:
        one.publisher.close()


def commit_event(sessions, table, n: int) -> dict:
    with sessions() as session, session.begin():
        return record_event(session, table, SOURCE, "probe_happened", {"n": n})


def test_event_committed_while_broker_unreachable_is_published_later(probe, relay):
    sessions, table = probe
    envelope = commit_event(sessions, table, 1)
    with pytest.raises(Exception):  # noqa: B017 -- any connection error
        relay(sessions, "amqp://guest:guest@127.0.0.1:1/").publish_batch()
    with sessions() as session:
        assert session.execute(select(table.c.published_at)).scalar_one() is None

    with kombu.Connection(AMQP_URI) as conn:
        exchange = kombu.Exchange(f"{SOURCE}.events", type="topic", durable=True)
        queue = kombu.Queue("probe-listener", exchange, routing_key="probe_happened",
                            exclusive=True)
        with conn.SimpleQueue(queue) as listener:
            assert relay(sessions, AMQP_URI).publish_batch() == 1
            message = listener.get(timeout=5)
            body = message.payload if isinstance(message.payload, dict) else json.loads(
                message.payload)
            message.ack()
            assert body == envelope
            assert body["data"] == {"n": 1}
            assert message.properties["content_type"] == "application/json"
    with sessions() as session:
        assert session.execute(select(table.c.published_at)).scalar_one() is not None
    assert relay(sessions, AMQP_URI).publish_batch() == 0  # nothing twice


def test_a_second_replica_skips_rows_another_is_publishing(probe, relay):
    sessions, table = probe
    commit_event(sessions, table, 2)
    with sessions() as holder, holder.begin():
        holder.execute(select(table).with_for_update())  # replica A is mid-batch
        assert relay(sessions, AMQP_URI).publish_batch() == 0
    assert relay(sessions, AMQP_URI).publish_batch() == 1


def test_a_batch_is_published_in_order_with_one_wait_for_the_confirms(probe, relay):
    sessions, table = probe
    envelopes = [commit_event(sessions, table, n) for n in range(50)]
    publisher = relay(sessions, AMQP_URI)
    with kombu.Connection(AMQP_URI) as conn:
        exchange = kombu.Exchange(f"{SOURCE}.events", type="topic", durable=True)
        queue = kombu.Queue("probe-batch", exchange, routing_key="probe_happened",
                            exclusive=True)
        with conn.SimpleQueue(queue) as listener:
            assert publisher.publish_batch() == 50
            received = []
            for _ in range(50):
                message = listener.get(timeout=5)
                received.append(message.payload)
                assert message.properties["delivery_mode"] == 2  # persistent
                message.ack()
    assert received == envelopes
    with sessions() as session:
        assert session.execute(
            select(table.c.id).where(table.c.published_at.is_(None))).all() == []


def test_a_lost_broker_connection_loses_no_event(probe, relay):
    """The relay's connection dies between batches: the next batch fails, stays in the
    outbox, and goes out on a fresh connection."""
    sessions, table = probe
    publisher = relay(sessions, AMQP_URI)
    commit_event(sessions, table, 1)
    assert publisher.publish_batch() == 1
    connection = publisher.publisher._connection
    assert connection is not None
    connection.connection.sock.close()  # as if the broker had dropped it
    envelope = commit_event(sessions, table, 2)
    with kombu.Connection(AMQP_URI) as conn:
        exchange = kombu.Exchange(f"{SOURCE}.events", type="topic", durable=True)
        queue = kombu.Queue("probe-reconnect", exchange, routing_key="probe_happened",
                            exclusive=True)
        with conn.SimpleQueue(queue) as listener:
            with pytest.raises(Exception):  # noqa: B017 -- whichever socket error
                publisher.publish_batch()
            with sessions() as session:
                assert session.execute(select(table.c.published_at).where(
                    table.c.payload["data"]["n"].as_integer() == 2)).scalar_one() is None
            assert publisher.publish_batch() == 1
            message = listener.get(timeout=5)
            assert message.payload == envelope
            message.ack()


def test_backlog_and_age_of_the_oldest_unpublished_event_are_exported(probe, relay):
    """Issue 19: the relay exports what is still unpublished and how old the oldest of it is,
    read from the table on every pass, a failed pass too (the broker unreachable)."""
    from prometheus_client import REGISTRY

    def gauge(name: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"service": SOURCE})

    sessions, table = probe
    for n in range(3):
        commit_event(sessions, table, n)
    with sessions() as session, session.begin():
        session.execute(table.update().values(created_at=text("now() - interval '10 minutes'")))
    with pytest.raises(Exception):  # noqa: B017 -- any connection error
        relay(sessions, "amqp://guest:guest@127.0.0.1:1/").publish_batch()
    assert gauge("gridsvc_outbox_backlog_events") == 3
    assert 600 <= gauge("gridsvc_outbox_oldest_event_age_seconds") < 660
    assert relay(sessions, AMQP_URI).publish_batch() == 3
    assert gauge("gridsvc_outbox_backlog_events") == 0
    assert gauge("gridsvc_outbox_oldest_event_age_seconds") == 0
