"""分理, 受理确认, 协调, 督办 and 办结 as plain functions on the real test database.

Dates are checked by hand against the 2026 State Council schedule: Friday 2026-09-18 is
followed by Saturday 09-19 (off) and Sunday 09-20, a makeup working day (调休) for National
Day; Friday 09-25 is the Mid-Autumn holiday (中秋); 10-01..10-07 are off; Saturday 10-10 is a
makeup working day.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from conftest import fresh_database
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from common.auth import Principal, Role
from common.calendar import SHANGHAI, WorkCalendar
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.ticketing import handling, sla
from services.ticketing.models import Deadline, Demand, LedgerEntry, Task, outbox

CAL = WorkCalendar()
ECON, SCIENCE, PARTY = "t_economic", "t_science", "t_party"
DEPARTMENTS = {ECON, SCIENCE, PARTY}
CATEGORIES = {"talent": PARTY, "finance": ECON}
COORDINATOR = Principal(user_id="coord-1", role=Role.COORDINATOR)
LEADER = Principal(user_id="leader-1", role=Role.LEADER)
FRIDAY = datetime(2026, 9, 18, 15, 0, tzinfo=SHANGHAI)
MONDAY = datetime(2026, 9, 21, 9, 0, tzinfo=SHANGHAI)


def at(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00")


def liaison(department: str, user: str | None = None) -> Principal:
    return Principal(user_id=user or f"liaison-{department}", role=Role.LIAISON,
                     department_id=department)


@pytest.fixture(scope="module")
def db(infrastructure: dict[str, str]) -> Iterator[Engine]:
    """A database of this module's own: its dates (September 2026) are in the past, and the
    running platform's SLA sweep must not act on its deadlines mid-test."""
    engine = create_engine(fresh_database("handling"))
    yield engine
    engine.dispose()


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as s:
        yield s


def new_demand(session: Session, grid_id: str | None = "G-H1") -> Demand:
    demand_id = str(uuid.uuid4())
    demand = Demand(
        id=demand_id, number=f"T{demand_id[:12]}", enterprise_id=f"ent-{demand_id[:8]}",
        channel="grid_worker", title="申请人才公寓", description="三名博士需要人才公寓",
        urgency="normal", attachments=[], status="received", received_at=FRIDAY,
        triage_due_at=at("2026-09-20", 10), triage_due_provisional=False,
        recorded_by="worker-1", recorded_role="grid_worker", version=1, grid_id=grid_id,
    )
    session.add(demand)
    session.flush()
    sla.schedule(session, "triage", demand.id, demand.triage_due_at)
    session.commit()
    return demand


def triage(session: Session, demand: Demand, *departments: str, workdays: int = 5,
           now: datetime = FRIDAY) -> list[Task]:
    data = {"category": "talent", "difficulty": "normal", "proposed_opinion": "请协调办理",
            "departments": [{"department_id": d, "handling_workdays": workdays}
                            for d in departments]}
    _demand, tasks = handling.triage(session, COORDINATOR, demand.id, data, CAL,
                                     category_table=CATEGORIES, department_ids=DEPARTMENTS,
                                     now=now)
    session.commit()
    return tasks


def deadlines(session: Session, subject_id: str, kind: str) -> list[Deadline]:
    return list(session.execute(
        select(Deadline).where(Deadline.subject_id == subject_id, Deadline.kind == kind,
                               Deadline.cancelled_at.is_(None), Deadline.fired_at.is_(None))
        .order_by(Deadline.due_at)
    ).scalars())


def event_types(session: Session, demand_id: str) -> list[str]:
    return list(session.execute(
        select(outbox.c.event_type).where(outbox.c.payload["data"]["demand_id"].astext
                                          == demand_id).order_by(outbox.c.id)
    ).scalars())


def test_triage_into_two_departments(session):
    demand = new_demand(session)
    tasks = triage(session, demand, ECON, SCIENCE)
    assert {t.department_id for t in tasks} == {ECON, SCIENCE}
    for task in tasks:
        assert task.status == "assigned"
        assert task.handling_workdays == 5
        assert task.opinion == "请协调办理"
        # Friday → Sunday 09-20, a makeup working day (调休), at the end of the day
        assert task.accept_due_at == at("2026-09-20", 18)
        assert [d.due_at for d in deadlines(session, task.id, "acceptance")] == [
            at("2026-09-20", 18)]
    session.refresh(demand)
    assert (demand.status, demand.category, demand.triaged_by) == ("triaged", "talent",
                                                                   "coord-1")
    assert demand.proposed_opinion == "请协调办理"
    assert demand.version == 2
    assert deadlines(session, demand.id, "triage") == []
    actions = session.execute(select(LedgerEntry.action).where(
        LedgerEntry.demand_id == demand.id)).scalars().all()
    assert sorted(actions) == ["assign", "assign", "triage"]
    assert event_types(session, demand.id) == ["demand_triaged", "task_assigned",
                                               "task_assigned"]
    with pytest.raises(Conflict):
        triage(session, demand, ECON)
    session.rollback()


def test_triage_defaults_to_the_category_department_and_checks_departments(session):
    demand = new_demand(session)
    data = {"category": "talent", "difficulty": "hard", "proposed_opinion": "人才政策"}
    _d, tasks = handling.triage(session, COORDINATOR, demand.id, data, CAL,
                                category_table=CATEGORIES, department_ids=DEPARTMENTS,
                                now=FRIDAY)
    assert [t.department_id for t in tasks] == [PARTY]
    assert tasks[0].handling_workdays == sla.handling_workdays(session, "talent", "hard")
    session.rollback()
    bad = {**data, "departments": [{"department_id": "nowhere"}]}
    with pytest.raises(ValidationFailed) as raised:
        handling.triage(session, COORDINATOR, demand.id, bad, CAL, category_table=CATEGORIES,
                        department_ids=DEPARTMENTS)
    assert "departments" in raised.value.errors
    session.rollback()
    with pytest.raises(ValidationFailed):
        handling.triage(session, COORDINATOR, demand.id, {**data, "category": "unknown"}, CAL,
                        category_table=CATEGORIES, department_ids=DEPARTMENTS)
    session.rollback()
    with pytest.raises(Forbidden):
        handling.triage(session, liaison(ECON), demand.id, data, CAL,
                        category_table=CATEGORIES, department_ids=DEPARTMENTS)
    session.rollback()


def test_concurrent_accepts_one_wins(db, session):
    demand = new_demand(session)
    [task] = triage(session, demand, ECON)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def attempt() -> None:
        with Session(db) as own, own.begin():
            barrier.wait()
            try:
                handling.accept(own, liaison(ECON), task.id, CAL, now=MONDAY)
                time.sleep(0.3)  # hold the lock: the other one waits on it
                outcomes.append("accepted")
            except Conflict as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcomes.count("accepted") == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    session.expire_all()
    accepted = session.get(Task, task.id)
    assert accepted.status == "accepted" and accepted.version == 2
    # 5 working days after Monday 09-21: 22, 23, 24, (25 中秋 off), 28, 29
    assert accepted.due_at == at("2026-09-29", 18)
    assert [d.due_at for d in deadlines(session, task.id, "handling")] == [at("2026-09-29", 18)]
    assert deadlines(session, task.id, "handling")[0].level == 1
    assert deadlines(session, task.id, "acceptance") == []
    # reminders 2 and 1 working days before the 29th: the 24th and the 28th
    assert [d.due_at for d in deadlines(session, task.id, "reminder")] == [
        at("2026-09-24", 9), at("2026-09-28", 9)]
    assert session.get(Demand, demand.id).status == "in_progress"
    assert event_types(session, demand.id).count("task_accepted") == 1


def test_only_the_own_liaison_accepts(session):
    demand = new_demand(session)
    [task] = triage(session, demand, ECON)
    # another department's task does not exist for this caller (404)
    with pytest.raises(NotFound):
        handling.accept(session, liaison(SCIENCE), task.id, CAL)
    session.rollback()
    head = Principal(user_id="head", role=Role.DEPARTMENT_HEAD, department_id=ECON)
    with pytest.raises(Forbidden):
        handling.accept(session, head, task.id, CAL)
    session.rollback()
    with pytest.raises(NotFound):
        handling.accept(session, liaison(ECON), str(uuid.uuid4()), CAL)
    session.rollback()


def test_return_coordination_reassign(session):
    demand = new_demand(session)
    [task] = triage(session, demand, ECON)
    handling.return_task(session, liaison(ECON), task.id, "不属于本部门职责", CAL, now=MONDAY)
    session.commit()
    assert (task.status, task.returned_reason) == ("coordination", "不属于本部门职责")
    assert deadlines(session, task.id, "acceptance") == []
    queue, _total = handling.list_coordination(session, LEADER, 1, 200)
    assert task.id in {t.id for t in queue}
    with pytest.raises(Forbidden):
        handling.list_coordination(session, liaison(ECON))
    with pytest.raises(Forbidden):
        handling.reassign(session, liaison(ECON), task.id,
                          {"department_id": SCIENCE, "reason": "x"}, CAL,
                          department_ids=DEPARTMENTS)
    session.rollback()
    with pytest.raises(ValidationFailed) as raised:
        handling.reassign(session, COORDINATOR, task.id,
                          {"department_id": "nowhere", "reason": "x"}, CAL,
                          department_ids=DEPARTMENTS)
    assert "department_id" in raised.value.errors
    session.rollback()
    handling.reassign(session, COORDINATOR, task.id,
                      {"department_id": SCIENCE, "reason": "经会商由科技创新部承办"}, CAL,
                      department_ids=DEPARTMENTS, now=MONDAY)
    session.commit()
    assert (task.status, task.department_id) == ("assigned", SCIENCE)
    assert task.accept_due_at == at("2026-09-22", 18)
    assert [d.department_id for d in deadlines(session, task.id, "acceptance")] == [SCIENCE]
    # another department's task does not exist for this caller (404)
    with pytest.raises(NotFound):
        handling.accept(session, liaison(ECON), task.id, CAL)
    session.rollback()
    handling.accept(session, liaison(SCIENCE), task.id, CAL, now=MONDAY)
    session.commit()
    assert task.status == "accepted"
    assert event_types(session, demand.id)[-3:] == ["task_returned", "task_reassigned",
                                                    "task_accepted"]


def test_time_out_acceptance_for_the_sweep(session):
    demand = new_demand(session)
    [task] = triage(session, demand, ECON)
    timed_out = handling.time_out_acceptance(session, task.id, CAL)
    session.commit()
    assert timed_out is not None and timed_out.status == "coordination"
    assert handling.time_out_acceptance(session, task.id, CAL) is None
    entry = session.execute(select(LedgerEntry).where(
        LedgerEntry.task_id == task.id, LedgerEntry.action == "time_out")).scalar_one()
    assert (entry.actor_role, entry.to_state) == ("service", "coordination")


def test_extension_moves_due_by_working_days(session):
    demand = new_demand(session)
    [task] = triage(session, demand, ECON)
    handling.accept(session, liaison(ECON), task.id, CAL, now=MONDAY)
    session.commit()
    assert task.due_at == at("2026-09-29", 18)
    # another department's task does not exist for this caller (404)
    with pytest.raises(NotFound):
        handling.request_extension(session, liaison(SCIENCE, "x"), task.id,
                                   {"workdays": 3, "reason": "x"})
    session.rollback()
    extension = handling.request_extension(session, liaison(ECON), task.id,
                                           {"workdays": 3, "reason": "需要补充材料"})
    session.commit()
    with pytest.raises(Conflict):
        handling.request_extension(session, liaison(ECON), task.id,
                                   {"workdays": 1, "reason": "again"})
    session.rollback()
    with pytest.raises(Forbidden):
        handling.decide_extension(session, liaison(ECON), extension.id, {"approve": True}, CAL)
    session.rollback()
    decided = handling.decide_extension(session, COORDINATOR, extension.id,
                                        {"approve": True, "reason": "同意"}, CAL, now=MONDAY)
    session.commit()
    # three working days after 09-29: 09-30, (10-01..10-07 National Day), 10-08, 10-09
    assert decided.status == "approved"
    assert decided.new_due_at == task.due_at == at("2026-10-09", 18)
    assert [d.due_at for d in deadlines(session, task.id, "handling")] == [at("2026-10-09", 18)]
    assert [d.due_at for d in deadlines(session, task.id, "reminder")] == [
        at("2026-09-30", 9), at("2026-10-08", 9)]
    with pytest.raises(Conflict):
        handling.decide_extension(session, COORDINATOR, extension.id, {"approve": False}, CAL)
    session.rollback()
    again = handling.request_extension(session, liaison(ECON), task.id,
                                       {"workdays": 1, "reason": "还需一天"})
    rejected = handling.decide_extension(session, COORDINATOR, again.id, {"approve": False},
                                         CAL)
    session.commit()
    assert rejected.status == "rejected" and task.due_at == at("2026-10-09", 18)
    assert "extension_decided" in event_types(session, demand.id)


def test_internal_notes_stay_in_the_department(session):
    demand = new_demand(session, grid_id="G-NOTES")
    econ_task, science_task = triage(session, demand, ECON, SCIENCE)
    handling.add_note(session, liaison(ECON), econ_task.id,
                      {"body": "已联系企业", "visibility": "public"})
    handling.add_note(session, liaison(ECON), econ_task.id,
                      {"body": "内部: 需分管领导协调", "visibility": "internal"})
    handling.add_note(session, COORDINATOR, econ_task.id,
                      {"body": "请加快", "visibility": "internal"})
    session.commit()
    with pytest.raises(NotFound):  # another department's liaison
        handling.list_notes(session, liaison(SCIENCE), econ_task.id)
    with pytest.raises(NotFound):
        handling.add_note(session, liaison(SCIENCE), econ_task.id, {"body": "x"})
    head = Principal(user_id="head", role=Role.DEPARTMENT_HEAD, department_id=ECON)
    assert len(handling.list_notes(session, head, econ_task.id)) == 3
    assert len(handling.list_notes(session, LEADER, econ_task.id)) == 3
    worker = Principal(user_id="w", role=Role.GRID_WORKER, grid_ids=("G-NOTES",))
    assert [n.body for n in handling.list_notes(session, worker, econ_task.id)] == ["已联系企业"]
    with pytest.raises(Forbidden):
        handling.add_note(session, worker, econ_task.id, {"body": "x"})
    assert handling.list_notes(session, liaison(SCIENCE), science_task.id) == []
    # after the task moves to another department, the old internal notes stay hidden
    handling.return_task(session, liaison(ECON), econ_task.id, "转办", CAL)
    handling.reassign(session, COORDINATOR, econ_task.id,
                      {"department_id": PARTY, "reason": "党群工作部承办"}, CAL,
                      department_ids=DEPARTMENTS)
    session.commit()
    assert [n.body for n in handling.list_notes(session, liaison(PARTY), econ_task.id)] == [
        "已联系企业"]
    assert event_types(session, demand.id).count("note_added") == 1


def test_completing_every_task_awaits_rating(session):
    demand = new_demand(session)
    econ_task, science_task = triage(session, demand, ECON, SCIENCE)
    for task, dept in ((econ_task, ECON), (science_task, SCIENCE)):
        handling.accept(session, liaison(dept), task.id, CAL, now=MONDAY)
    session.commit()
    # another department's task does not exist for this caller (404)
    with pytest.raises(NotFound):
        handling.complete(session, liaison(SCIENCE), econ_task.id, "done", CAL)
    session.rollback()
    head = Principal(user_id="head", role=Role.DEPARTMENT_HEAD, department_id=ECON)
    handling.complete(session, head, econ_task.id, "已办结", CAL)
    session.commit()
    assert session.get(Demand, demand.id).status == "in_progress"
    assert deadlines(session, econ_task.id, "handling") == []
    assert deadlines(session, econ_task.id, "reminder") == []
    with pytest.raises(Conflict):
        handling.complete(session, head, econ_task.id, "again", CAL)
    session.rollback()
    handling.complete(session, liaison(SCIENCE), science_task.id, "已办结", CAL)
    session.commit()
    finished = session.get(Demand, demand.id)
    assert finished.status == "awaiting_rating" and finished.completed_at is not None
    types = event_types(session, demand.id)
    assert types.count("task_completed") == 2 and types[-1] == "rating_requested"


def test_task_lists_are_scoped(session):
    demand = new_demand(session, grid_id="G-SCOPE")
    econ_task, science_task = triage(session, demand, ECON, SCIENCE)
    by_demand = {"demand_id": demand.id, "page": 1, "per_page": 50}
    mine, total = handling.list_tasks(session, liaison(ECON), by_demand)
    assert [t.id for t in mine] == [econ_task.id] and total == 1
    everything, _ = handling.list_tasks(session, LEADER, by_demand)
    assert {t.id for t in everything} == {econ_task.id, science_task.id}
    worker = Principal(user_id="w", role=Role.GRID_WORKER, grid_ids=("G-SCOPE",))
    assert len(handling.list_tasks(session, worker, by_demand)[0]) == 2
    outsider = Principal(user_id="w2", role=Role.GRID_WORKER, grid_ids=("G-OTHER",))
    assert handling.list_tasks(session, outsider, by_demand) == ([], 0)
    with pytest.raises(NotFound):
        handling.get_task(session, outsider, econ_task.id)
    with pytest.raises(Forbidden):
        handling.list_tasks(session, Principal(user_id="e", role=Role.ENTERPRISE,
                                               enterprise_id=demand.enterprise_id), by_demand)
    overdue, _ = handling.list_tasks(session, LEADER, {**by_demand, "overdue": True})
    assert overdue == []
