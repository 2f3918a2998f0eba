"""The board's expiry sweep as a plain module on a database of its own: listings past their
end date are marked expired once, a row another replica holds is skipped (SKIP LOCKED), and a
second sweep changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from conftest import fresh_database
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from services.supplydemand import board


@pytest.fixture(scope="module")
def engine(infrastructure):
    url = fresh_database("board")
    eng = create_engine(url)
    yield eng
    eng.dispose()


def insert(conn, enterprise_id: str, days_left: int, status: str = "published") -> str:
    listing_id = str(uuid.uuid4())
    until = board.today() + timedelta(days=days_left)
    conn.execute(text(
        "INSERT INTO supplydemand.listings (id, side, enterprise_id, title, category, "
        "valid_from, valid_until, status, title_words, words, search, published_at, "
        "created_by, created_role, version) VALUES (:i, 'supply', :e, '提供激光切割', "
        "'processing', :f, :u, :s, '{激光,切割}', '{激光,切割}', "
        "to_tsvector('simple', '激光 切割'), now(), 'test', 'enterprise', 1)"),
        {"i": listing_id, "e": enterprise_id, "f": until - timedelta(days=30), "u": until,
         "s": status})
    return listing_id


def statuses(engine, ids: list[str]) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id::text, status, version FROM supplydemand.listings "
                                 "WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": ids})
        return {r[0]: (r[1], r[2]) for r in rows}


def test_the_sweep_expires_each_listing_once_and_skips_locked_rows(engine):
    enterprise_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO supplydemand.enterprises (id, name, in_scope) "
                          "VALUES (:i, '测试企业', true)"), {"i": enterprise_id})
        past = [insert(conn, enterprise_id, -d) for d in (1, 2, 3, 40)]
        current = [insert(conn, enterprise_id, 0), insert(conn, enterprise_id, 5)]
        hidden = [insert(conn, enterprise_id, -1, status="hidden")]

    @contextmanager
    def transaction() -> Iterator[Session]:
        with Session(engine) as session, session.begin():
            yield session

    with engine.connect() as other_replica:  # holds one due row, as a sweeping replica would
        other_replica.execute(text("SELECT 1 FROM supplydemand.listings WHERE id = :i "
                                   "FOR UPDATE"), {"i": past[0]})
        assert board.expire_due(transaction, batch=2) == 3  # batches of 2, the held row skipped
        other_replica.rollback()
    assert board.expire_due(transaction) == 1
    assert board.expire_due(transaction) == 0  # idempotent

    seen = statuses(engine, past + current + hidden)
    assert all(seen[i] == ("expired", 2) for i in past), seen
    assert all(seen[i] == ("published", 1) for i in current)  # valid through today
    assert seen[hidden[0]] == ("hidden", 1)  # staff restore it; then it is expired
