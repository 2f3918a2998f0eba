"""评价 and 销号 on the real test database: 自动销号, 重新办理 (and 多次未办结 escalation),
内部销号 with the written report, unrated closure, and two ratings racing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import WorkCalendar
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.ticketing import closure
from services.ticketing.models import Deadline, Demand, Escalation, LedgerEntry, Rating, Task

CALENDAR = WorkCalendar()
COORDINATOR = Principal(user_id="coord-1", role=Role.COORDINATOR)
SATISFIED = {"efficiency": 5, "attitude": 4, "quality": 3, "comment": "很好"}
DISSATISFIED = {"efficiency": 2, "attitude": 4, "quality": 3, "comment": "没解决"}


def owner(demand_id: str, session: Session) -> Principal:
    enterprise_id = session.get(Demand, demand_id).enterprise_id
    return Principal(user_id=f"user-{enterprise_id}", role=Role.ENTERPRISE,
                     enterprise_id=enterprise_id)


@pytest.fixture
def completed(db: Engine) -> Callable[..., tuple[str, list[str]]]:
    """``completed(departments=2)``: a demand awaiting its rating, every task completed, the
    rating deadlines scheduled (as handling does at the last completion); (demand, tasks)."""

    def make(departments: int = 1) -> tuple[str, list[str]]:
        now = datetime.now(UTC)
        demand = Demand(
            id=str(uuid.uuid4()), number=f"T{uuid.uuid4().hex[:12]}",
            enterprise_id=f"ent-{uuid.uuid4().hex[:8]}", channel="enterprise",
            category="人才", title="申请人才公寓", description="三名博士", urgency="normal",
            attachments=[], status="awaiting_rating", received_at=now - timedelta(days=9),
            triage_due_at=now - timedelta(days=8), recorded_by="ent-user",
            recorded_role="enterprise", version=5, difficulty="normal",
        )
        tasks = [
            Task(id=str(uuid.uuid4()), demand_id=demand.id, department_id=f"D{i}",
                 status="completed", difficulty="normal", handling_workdays=5,
                 due_at=now + timedelta(days=1), accepted_at=now - timedelta(days=7),
                 result="已办结", completed_at=now - timedelta(hours=1), version=3)
            for i in range(departments)
        ]
        with Session(db, expire_on_commit=False) as session, session.begin():
            session.add(demand)
            session.flush()
            session.add_all(tasks)
            session.flush()
            closure.on_awaiting_rating(session, demand, CALENDAR)
        return demand.id, [task.id for task in tasks]

    return make


def events_of(db: Engine, demand_id: str, event_type: str) -> list[dict]:
    with db.connect() as conn:
        return [row[0] for row in conn.execute(text(
            "SELECT payload FROM ticketing.outbox WHERE event_type = :t "
            "AND payload->'data'->>'demand_id' = :d ORDER BY id"),
            {"t": event_type, "d": demand_id})]


def pending_kinds(session: Session, subject_id: str) -> list[str]:
    return sorted(session.execute(
        select(Deadline.kind).where(Deadline.subject_id == subject_id,
                                    Deadline.fired_at.is_(None),
                                    Deadline.cancelled_at.is_(None))).scalars())


def rate(db: Engine, demand_id: str, scores: dict) -> Rating:
    with Session(db, expire_on_commit=False) as session, session.begin():
        return closure.rate(session, owner(demand_id, session), demand_id, scores)


def resolve(db: Engine, demand_id: str, data: dict) -> None:
    with Session(db, expire_on_commit=False) as session, session.begin():
        closure.resolve(session, COORDINATOR, demand_id, data, CALENDAR)


def test_completion_schedules_the_rating_deadlines(db, completed):
    demand_id, _ = completed()
    with Session(db, expire_on_commit=False) as session:
        rows = {d.kind: d for d in session.execute(
            select(Deadline).where(Deadline.subject_id == demand_id)).scalars()}
        assert set(rows) == {"rating_reminder", "close_unrated"}
        assert rows["rating_reminder"].due_at < rows["close_unrated"].due_at
        assert session.get(Demand, demand_id).completed_at is not None
    assert [e["data"]["round"] for e in events_of(db, demand_id, "rating_requested")] == [1]


def test_a_satisfied_rating_closes_the_demand(db, completed):
    demand_id, _ = completed()
    rating = rate(db, demand_id, SATISFIED)
    assert (rating.round, rating.satisfied) == (1, True)
    with Session(db, expire_on_commit=False) as session:
        demand = session.get(Demand, demand_id)
        assert (demand.status, demand.closure, demand.version) == ("closed", "rated", 6)
        assert demand.closed_at is not None
        assert pending_kinds(session, demand_id) == []
        actions = session.execute(select(LedgerEntry.action, LedgerEntry.to_state).where(
            LedgerEntry.demand_id == demand_id).order_by(LedgerEntry.id)).all()
    assert [tuple(a) for a in actions] == [("rate", "awaiting_rating"), ("close", "closed")]
    assert events_of(db, demand_id, "demand_closed")[0]["data"]["closure"] == "rated"
    with pytest.raises(Conflict):
        rate(db, demand_id, SATISFIED)


def test_only_the_owning_enterprise_rates(db, completed):
    demand_id, _ = completed()
    with Session(db, expire_on_commit=False) as session:
        with pytest.raises(Forbidden):
            closure.rate(session, COORDINATOR, demand_id, SATISFIED)
        other = Principal(user_id="x", role=Role.ENTERPRISE, enterprise_id="ent-other")
        with pytest.raises(NotFound):
            closure.rate(session, other, demand_id, SATISFIED)
        session.rollback()


def test_dissatisfied_then_reopened(db, completed):
    demand_id, (task_id, other_id) = completed(departments=2)
    rating = rate(db, demand_id, DISSATISFIED)
    assert rating.satisfied is False
    with Session(db, expire_on_commit=False) as session:
        demand = session.get(Demand, demand_id)
        assert demand.status == "awaiting_rating"
        assert pending_kinds(session, demand_id) == []  # only a coordinator moves it now
        queue = session.execute(select(Demand.id).where(
            Demand.id == demand_id, closure.awaiting_resolution_clause())).scalars().all()
        assert queue == [demand_id]
        # the clock does not close a demand the enterprise rated
        assert closure.close_unrated(session, demand_id) is False
        session.rollback()
    with pytest.raises(ValidationFailed):
        resolve(db, demand_id, {"action": "reopen"})
    resolve(db, demand_id, {"action": "reopen", "task_id": task_id})
    with Session(db, expire_on_commit=False) as session:
        task = session.get(Task, task_id)
        assert (task.status, task.reopen_count, task.completed_at) == ("accepted", 1, None)
        assert task.due_at > datetime.now(UTC)
        assert pending_kinds(session, task_id) == ["handling", "reminder", "reminder"]
        assert session.get(Task, other_id).status == "completed"
        demand = session.get(Demand, demand_id)
        assert demand.status == "in_progress"
        assert closure.current_round(session, demand_id) == 2
        assert session.execute(select(Escalation).where(Escalation.task_id == task_id)).first() \
            is None
    assert events_of(db, demand_id, "task_reopened")[0]["data"]["reopen_count"] == 1
    with pytest.raises(Conflict):  # nothing to resolve any more
        resolve(db, demand_id, {"action": "reopen", "task_id": task_id})


def complete_again(db: Engine, demand_id: str, task_id: str) -> None:
    """What handling does when the department reports the result again."""
    with Session(db, expire_on_commit=False) as session, session.begin():
        task = session.get(Task, task_id)
        task.status, task.completed_at = "completed", datetime.now(UTC)
        demand = session.get(Demand, demand_id)
        demand.status = "awaiting_rating"
        closure.on_awaiting_rating(session, demand, CALENDAR)


def test_a_second_reopen_escalates(db, completed):
    demand_id, (task_id,) = completed()
    rate(db, demand_id, DISSATISFIED)
    resolve(db, demand_id, {"action": "reopen", "task_id": task_id})
    complete_again(db, demand_id, task_id)
    second = rate(db, demand_id, DISSATISFIED)
    assert second.round == 2
    with Session(db, expire_on_commit=False) as session:  # round 2 is what the queue sees
        assert session.execute(select(Demand.id).where(
            closure.awaiting_resolution_clause())).scalars().all().count(demand_id) == 1
    resolve(db, demand_id, {"action": "reopen", "task_id": task_id})
    with Session(db, expire_on_commit=False) as session:
        task = session.get(Task, task_id)
        assert (task.reopen_count, task.escalation_level) == (2, 1)
        escalations = session.execute(
            select(Escalation.cause, Escalation.level, Escalation.department_id)
            .where(Escalation.task_id == task_id)).all()
    assert [tuple(e) for e in escalations] == [("reopened", 1, "D0")]
    escalated = events_of(db, demand_id, "task_escalated")
    assert [(e["data"]["cause"], e["data"]["task_id"]) for e in escalated] == [
        ("reopened", task_id)]


def test_internal_closure_needs_the_written_report(db, completed):
    demand_id, task_ids = completed(departments=2)
    rate(db, demand_id, DISSATISFIED)
    with pytest.raises(ValidationFailed) as missing:
        resolve(db, demand_id, {"action": "close_internally"})
    assert "report" in missing.value.errors
    with pytest.raises(ValidationFailed):
        resolve(db, demand_id, {"action": "close_internally", "report": "   "})
    resolve(db, demand_id, {"action": "close_internally", "report": "书面汇报：已按程序办结"})
    with Session(db, expire_on_commit=False) as session:
        demand = session.get(Demand, demand_id)
        assert (demand.status, demand.closure) == ("closed", "internal")
        assert {session.get(Task, t).internal_report for t in task_ids} == {
            "书面汇报：已按程序办结"}
    assert events_of(db, demand_id, "demand_closed")[0]["data"]["closure"] == "internal"


def test_an_unrated_demand_is_reminded_then_closed_as_unrated(db, completed):
    demand_id, _ = completed()
    with Session(db, expire_on_commit=False) as session, session.begin():
        assert closure.remind_rating(session, demand_id) is True
    with Session(db, expire_on_commit=False) as session, session.begin():
        assert closure.close_unrated(session, demand_id) is True
    with Session(db, expire_on_commit=False) as session, session.begin():
        demand = session.get(Demand, demand_id)
        assert (demand.status, demand.closure) == ("closed", "unrated")
        assert pending_kinds(session, demand_id) == []
        assert closure.remind_rating(session, demand_id) is False
        assert closure.close_unrated(session, demand_id) is False
    requested = events_of(db, demand_id, "rating_requested")
    assert [e["data"]["reminder"] for e in requested] == [False, True]
    assert events_of(db, demand_id, "demand_closed")[0]["data"]["closure"] == "unrated"
    with pytest.raises(Conflict):
        rate(db, demand_id, SATISFIED)


@pytest.mark.parametrize("scores", [SATISFIED, DISSATISFIED], ids=["satisfied", "dissatisfied"])
def test_two_concurrent_ratings_exactly_one_wins(db, completed, scores):
    demand_id, _ = completed()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        with Session(db, expire_on_commit=False) as session:
            principal = owner(demand_id, session)
            session.rollback()
            barrier.wait()
            try:
                with session.begin():
                    closure.rate(session, principal, demand_id, scores)
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    with db.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM ticketing.ratings WHERE demand_id = :d"),
                             {"d": demand_id}).scalar_one()
    assert count == 1
