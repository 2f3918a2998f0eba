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


def relay(sessions, amqp_uri: str) -> OutboxRelay:
    return OutboxRelay(sessions, SOURCE, {"AMQP_URI": amqp_uri})


def commit_event(sessions, table, n: int) -> dict:
    with sessions() as session, session.begin():
        return record_event(session, table, SOURCE, "probe_happened", {"n": n})


def test_event_committed_while_broker_unreachable_is_published_later(probe):
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


def test_a_second_replica_skips_rows_another_is_publishing(probe):
    sessions, table = probe
    commit_event(sessions, table, 2)
    with sessions() as holder, holder.begin():
        holder.execute(select(table).with_for_update())  # replica A is mid-batch
        assert relay(sessions, AMQP_URI).publish_batch() == 0
    assert relay(sessions, AMQP_URI).publish_batch() == 1
