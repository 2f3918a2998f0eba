"""Pooled connections: pinged before use only after sitting idle, so a backend that died
while the pool held it is replaced without the caller seeing an error; one used a moment ago
is trusted, and if it died anyway the caller sees that once and the pool renews itself."""

from __future__ import annotations

import pytest
from conftest import DATABASE_URL
from helpers import eventually
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import common.db
from common.db import make_engine


@pytest.fixture
def engine(infrastructure):
    engine = make_engine(DATABASE_URL, "public", "test-db-ping", pool_size=1)
    yield engine
    engine.dispose()


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def terminate(pid: int) -> None:
    other = make_engine(DATABASE_URL, "public", "test-db-killer", pool_size=1)

    def gone() -> bool:
        with other.connect() as conn:
            return not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                                    {"p": pid}).scalar()
    try:
        with other.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        assert eventually(gone, timeout=10), f"backend {pid} still there"
    finally:
        other.dispose()


def test_an_idle_connection_killed_in_the_pool_is_replaced_unseen(engine, monkeypatch):
    monkeypatch.setattr(common.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # any idle time is too long
    first = backend_pid(engine)
    terminate(first)  # the next checkout pings
    second = backend_pid(engine)
    assert second != first


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, monkeypatch):
    monkeypatch.setattr(common.db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = backend_pid(engine)
    terminate(first)
    with pytest.raises(OperationalError):  # no ping: the statement finds it dead
        backend_pid(engine)
    assert backend_pid(engine) not in (first, None)  # and the pool renewed itself
