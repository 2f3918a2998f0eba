"""Set-wise fan-out in the notification service (issue 20), on the real database: an event's
messages to many inboxes in one statement per distinct message (``inbox.deliver_many``, what
the event handlers use, e.g. a meeting's invitations) and a policy's recipient snapshot in one
``INSERT ... SELECT`` (``policies.store_recipients``). Each enterprise gets its message and its
channel deliveries exactly once, however often the event comes."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from services.notification import inbox, policies


def enterprises(n: int) -> list[str]:
    return [f"enterprise:{uuid.uuid4()}" for _ in range(n)]


def prefer_email(session: Session, recipient: str) -> None:
    session.execute(text(
        "INSERT INTO notification.channel_preferences (recipient, channel, address, enabled) "
        "VALUES (:r, 'email', 'ops@example.org', true), (:r, 'wecom', 'https://x.example', "
        "false)"), {"r": recipient})


def messages(session: Session, event_id: str) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in session.execute(text(
        "SELECT m.recipient, m.title, count(d.id) FROM notification.inbox_messages m "
        "LEFT JOIN notification.deliveries d ON d.message_id = m.id "
        "WHERE m.event_id = CAST(:e AS uuid) GROUP BY m.recipient, m.title"), {"e": event_id})]


def test_one_event_reaches_every_inbox_once_with_its_channel_deliveries(db):
    invited = enterprises(300)
    event_id = str(uuid.uuid4())
    plan = [(r, "meeting_invited", "政企座谈会邀请", "主题：营商环境", "/meetings/m1")
            for r in invited]
    with Session(db) as session, session.begin():
        prefer_email(session, invited[0])
        assert inbox.deliver_many(session, plan + plan[:5], event_id) == 300  # repeats: once
    with Session(db) as session, session.begin():  # the event again: nothing new
        assert inbox.deliver_many(session, plan, event_id) == 0
        found = messages(session, event_id)
    assert sorted(r for r, _, _ in found) == sorted(invited)
    # the enabled email channel only: one delivery, for the one enterprise that asked
    assert {r: n for r, _, n in found if n} == {invited[0]: 1}


def test_different_messages_of_one_event_go_each_to_its_own_recipients(db):
    first, second = enterprises(2)
    event_id = str(uuid.uuid4())
    with Session(db) as session, session.begin():
        assert inbox.deliver_many(session, [
            (first, "listing_matched", "匹配：A", "你的需求与B匹配", "/listings/a"),
            (second, "listing_matched", "匹配：B", "你的供给与A匹配", "/listings/b"),
        ], event_id) == 2
        found = messages(session, event_id)
    assert sorted((r, t) for r, t, _ in found) == sorted([(first, "匹配：A"), (second, "匹配：B")])
    with Session(db) as session, session.begin():
        assert inbox.deliver_many(session, [], event_id) == 0


def test_a_policy_snapshot_of_thousands_is_stored_in_one_statement(db):
    with Session(db) as session, session.begin():
        policy_id = str(uuid.uuid4())
        session.execute(text(
            "INSERT INTO notification.policies (id, kind, title, body, department_id, "
            "department_name, status, version, created_by) VALUES (CAST(:p AS uuid), 'notice', "
            "'压测通知', '正文', 'finance', '财政金融部', 'draft', 1, 'test')"), {"p": policy_id})
        rows = [{"enterprise_id": str(uuid.uuid4()), "enterprise_name": f"企业{i}",
                 "grid_id": f"G{i % 7:02d}", "industry_code": "C3911" if i % 2 else None}
                for i in range(5000)]
        statements = []

        def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
            statements.append(statement)

        event.listen(db, "before_cursor_execute", count)
        try:
            policies.store_recipients(session, policy_id, rows)
        finally:
            event.remove(db, "before_cursor_execute", count)
        assert len(statements) == 1
        stored = session.execute(text(
            "SELECT enterprise_id::text, enterprise_name, grid_id, industry_code FROM "
            "notification.policy_recipients WHERE policy_id = CAST(:p AS uuid)"),
            {"p": policy_id}).all()
        session.rollback()
    assert sorted(tuple(r) for r in stored) == sorted(
        (r["enterprise_id"], r["enterprise_name"], r["grid_id"], r["industry_code"])
        for r in rows)
    assert Counter(r[2] for r in stored)["G00"] == len(range(0, 5000, 7))
