"""考评, 总览 and 评优 on a scripted data set with answers worked out by hand.

Seven demands go through ticketing's own domain functions (intake, triage, accept, return,
reassign, complete, rate, resolve) and the SLA sweep, at fixed moments in March 2026 (no
holiday in it: every weekday is a working day), in a database of this module's own so that
the running platform's sweep never acts on them. Each figure below is counted by hand from
this script:

======  =====  ======  =========  ==================================================  =======
demand  grid   by      category   what happens                                        closed
======  =====  ======  =========  ==================================================  =======
d7      G1     w1      finance    02-27 (before the period): task of A times out      no
d1      G1     w1      finance    triaged in time → A; accepted, completed in time;   rated
                                  rated 5/4/4 (satisfied)
d2      G1     w1      tax, hard  triaged late → B; B times out (受理超时); → C,        internal
                                  accepted in time, completed late; rated 2/3/3;
                                  closed internally (内部销号)
d3      G2     w2      finance    → A and B; A returns (退回), → C; both accepted and  rated
                                  completed in time; rated 2/2/2; C's task reopened,
                                  completed in time; rated 4/4/3
d4      G2     w2      finance,   → A; accepted in time; breached (sweep), completed  unrated
                       easy       late; never rated: closed unrated by the sweep
d5      G1     (ent.)  talent     triaged late → B; accepted late; open past due      no
d6      G1     w1      —          never triaged (past its 分理时限)                    no
======  =====  ======  =========  ==================================================  =======
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from conftest import fresh_database
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from common.auth import Principal, Role
from common.calendar import WorkCalendar
from common.errors import Forbidden, NotFound
from services.ticketing import (
    appraisal,
    closure,
    handling,
    intake,
    overview,
    snapshots,
    sweep,
)
from services.ticketing.appraisal import Period
from services.ticketing.models import AppraisalSetting, Demand, OverviewSnapshot, Task

CAL = WorkCalendar()
A, B, C = "dept_a", "dept_b", "dept_c"
DEPARTMENTS = {A, B, C}
CATEGORIES = {"finance": A, "tax": B, "talent": B}
G1, G2 = "G1", "G2"
E1, E2, E3, E4 = "ent-1", "ent-2", "ent-3", "ent-4"
COORDINATOR = Principal(user_id="coord", role=Role.COORDINATOR)
W1 = Principal(user_id="worker-1", role=Role.GRID_WORKER, grid_ids=(G1,))
W2 = Principal(user_id="worker-2", role=Role.GRID_WORKER, grid_ids=(G2,))
LA = Principal(user_id="liaison-a", role=Role.LIAISON, department_id=A)
LB = Principal(user_id="liaison-b", role=Role.LIAISON, department_id=B)
LC = Principal(user_id="liaison-c", role=Role.LIAISON, department_id=C)
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
AS_OF = datetime.fromisoformat("2026-03-25T12:00:00+08:00")


def at(moment: str) -> datetime:
    return datetime.fromisoformat(f"2026-{moment}:00+08:00")


def enterprise(enterprise_id: str) -> Principal:
    return Principal(user_id=f"user-{enterprise_id}", role=Role.ENTERPRISE,
                     enterprise_id=enterprise_id)


class Script:
    """The data set, written step by step in time order."""

    def __init__(self, engine: Engine) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.demands: dict[str, str] = {}
        self.tasks: dict[str, str] = {}

    def submit(self, name: str, who: Principal, enterprise_id: str, grid: str,
               category: str | None, when: str) -> None:
        channel = "enterprise" if who.role == Role.ENTERPRISE else "grid_worker"
        data = {"enterprise_id": enterprise_id, "channel": channel, "title": name,
                "description": f"诉求 {name}", "urgency": "normal", "attachments": [],
                "category": category}
        with self.sessions.begin() as session:
            demand, _ = intake.submit(session, who, data, None, CAL, now=at(when),
                                      enterprise={"grid_id": grid, "in_scope": True})
            self.demands[name] = demand.id

    def triage(self, name: str, when: str, category: str, difficulty: str, workdays: int,
               *departments: str) -> None:
        data = {"category": category, "difficulty": difficulty, "proposed_opinion": "请办理",
                "departments": [{"department_id": d, "handling_workdays": workdays}
                                for d in departments]}
        with self.sessions.begin() as session:
            _demand, tasks = handling.triage(
                session, COORDINATOR, self.demands[name], data, CAL,
                category_table=CATEGORIES, department_ids=DEPARTMENTS, now=at(when))
            for task, department in zip(tasks, departments, strict=True):
                self.tasks[f"{name}{department[-1]}"] = task.id

    def accept(self, task: str, who: Principal, when: str) -> None:
        with self.sessions.begin() as session:
            handling.accept(session, who, self.tasks[task], CAL, now=at(when))

    def give_back(self, task: str, who: Principal, when: str) -> None:
        with self.sessions.begin() as session:
            handling.return_task(session, who, self.tasks[task], "不属于本部门职责", CAL,
                                 now=at(when))

    def reassign(self, task: str, department: str, when: str) -> None:
        with self.sessions.begin() as session:
            handling.reassign(session, COORDINATOR, self.tasks[task],
                              {"department_id": department, "reason": "协调明确承办部门"},
                              CAL, department_ids=DEPARTMENTS, now=at(when))

    def complete(self, task: str, who: Principal, when: str) -> None:
        with self.sessions.begin() as session:
            handling.complete(session, who, self.tasks[task], "已办结", CAL, now=at(when))

    def rate(self, name: str, scores: tuple[int, int, int], when: str) -> None:
        with self.sessions.begin() as session:
            owner = session.get(Demand, self.demands[name]).enterprise_id
            efficiency, attitude, quality = scores
            closure.rate(session, enterprise(owner), self.demands[name],
                         {"efficiency": efficiency, "attitude": attitude, "quality": quality},
                         now=at(when))

    def resolve(self, name: str, data: dict, when: str) -> None:
        with self.sessions.begin() as session:
            closure.resolve(session, COORDINATOR, self.demands[name], data, CAL, now=at(when))

    def sweep(self, when: str) -> None:
        sweep.run_once(self.sessions.begin, CAL, at(when))


@pytest.fixture(scope="module")
def engine(infrastructure: dict[str, str]) -> Iterator[Engine]:
    engine = create_engine(fresh_database("appraisal"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def script(engine: Engine) -> Script:
    s = Script(engine)
    s.submit("d7", W1, E4, G1, "finance", "02-27T09:00")
    s.triage("d7", "02-27T15:00", "finance", "normal", 3, A)
    s.submit("d1", W1, E1, G1, "finance", "03-02T09:00")
    s.submit("d2", W1, E1, G1, "tax", "03-02T10:00")
    s.triage("d1", "03-02T15:00", "finance", "normal", 3, A)
    s.accept("d1a", LA, "03-03T09:00")
    s.submit("d3", W2, E2, G2, "finance", "03-03T09:00")
    s.triage("d2", "03-03T11:00", "tax", "hard", 2, B)  # late: due 03-03 10:00
    s.triage("d3", "03-03T14:00", "finance", "normal", 3, A, B)
    s.submit("d4", W2, E2, G2, "finance", "03-04T09:00")
    s.give_back("d3a", LA, "03-04T09:00")
    s.reassign("d3a", C, "03-04T10:00")
    s.triage("d4", "03-04T11:00", "finance", "easy", 2, A)
    s.accept("d4a", LA, "03-04T16:00")
    s.accept("d3b", LB, "03-04T17:00")
    s.sweep("03-04T18:30")  # d2's task (B) and d7's (A) time out
    s.reassign("d2b", C, "03-05T09:00")
    s.accept("d3a", LC, "03-05T09:00")
    s.submit("d5", enterprise(E3), E3, G1, "talent", "03-05T09:00")
    s.complete("d1a", LA, "03-05T10:00")
    s.rate("d1", (5, 4, 4), "03-05T15:00")
    s.submit("d6", W1, E1, G1, None, "03-06T09:00")
    s.accept("d2b", LC, "03-06T10:00")
    s.complete("d3b", LB, "03-06T10:00")
    s.triage("d5", "03-06T11:00", "talent", "normal", 3, B)  # late: due 03-06 10:00
    s.complete("d3a", LC, "03-09T10:00")
    s.sweep("03-09T12:00")  # d4's task breaches its handling deadline (03-06 18:00)
    s.accept("d5b", LB, "03-09T19:00")  # late: due 03-09 18:00, before any sweep saw it
    s.rate("d3", (2, 2, 2), "03-10T09:00")
    s.resolve("d3", {"action": "reopen", "task_id": s.tasks["d3a"]}, "03-10T10:00")
    s.complete("d4a", LA, "03-10T10:00")
    s.complete("d3a", LC, "03-11T10:00")
    s.complete("d2b", LC, "03-11T10:00")  # late: due 03-10 18:00
    s.rate("d3", (4, 4, 3), "03-11T15:00")
    s.rate("d2", (2, 3, 3), "03-12T09:00")
    s.resolve("d2", {"action": "close_internally", "report": "已按程序办理，书面汇报"},
              "03-12T10:00")
    s.sweep("03-25T12:00")  # d4 closed unrated; d5's task breaches
    return s


@pytest.fixture
def session(engine: Engine, script: Script) -> Iterator[Session]:
    with Session(engine) as s:
        yield s
        s.rollback()


def by_subject(rows: list[dict]) -> dict[str, dict]:
    return {row["subject_id"]: row for row in rows}


def test_the_script_left_the_states_it_describes(session, script):
    states = {name: (d.status, d.closure) for name in script.demands
              if (d := session.get(Demand, script.demands[name])) is not None}
    assert states == {
        "d7": ("triaged", None), "d1": ("closed", "rated"), "d2": ("closed", "internal"),
        "d3": ("closed", "rated"), "d4": ("closed", "unrated"), "d5": ("in_progress", None),
        "d6": ("received", None),
    }
    assert session.get(Task, script.tasks["d7a"]).status == "coordination"
    assert session.get(Task, script.tasks["d3a"]).department_id == C
    assert session.get(Task, script.tasks["d3a"]).reopen_count == 1


# --------------------------------------------------------------------------- departments

def test_departments(session):
    rows = by_subject(appraisal.appraise(session, "departments", MARCH, AS_OF))
    assert set(rows) == {A, B, C}
    a, b, c = rows[A], rows[B], rows[C]
    # A: assigned d1, d3 (returned), d4; accepted d1, d4 in time; d4 handled late
    assert (a["acceptance_due"], a["accepted_on_time"], a["returned"], a["timed_out"]) == (
        3, 2, 1, 0)
    assert a["acceptance_on_time_rate"] == 1.0  # 3 answered in time of 3
    assert a["response_rate"] == 0.6667  # 2 accepted in time of 3
    assert (a["handling_due"], a["handling_on_time"], a["handling_on_time_rate"]) == (2, 1, 0.5)
    assert (a["demands"], a["closed"], a["judged"], a["resolved"]) == (2, 2, 1, 1)
    assert a["resolution_rate"] == 1.0
    assert (a["ratings"], a["satisfied"], a["satisfaction_rate"]) == (1, 1, 1.0)
    assert (a["avg_efficiency"], a["avg_attitude"], a["avg_quality"]) == (5.0, 4.0, 4.0)
    assert (a["unrated"], a["unrated_share"]) == (1, 0.5)
    assert (a["completed_once"], a["reopened"], a["reopen_rate"]) == (2, 0, 0.0)
    assert a["triage_on_time_rate"] is None and a["triage_due"] == 0  # not a department's job
    assert a["handled"] == 2 and a["tasks"] == 2
    # B: assigned d2 (timed out), d3, d5; accepted d3 in time, d5 late
    assert (b["acceptance_due"], b["accepted_on_time"], b["returned"], b["timed_out"]) == (
        3, 1, 0, 1)
    assert b["acceptance_on_time_rate"] == 0.3333 and b["response_rate"] == 0.3333
    assert (b["handling_due"], b["handling_on_time"], b["handling_on_time_rate"]) == (2, 1, 0.5)
    assert (b["demands"], b["closed"], b["judged"], b["resolved"]) == (2, 1, 1, 1)
    assert b["resolution_rate"] == 1.0 and b["unrated_share"] == 0.0
    assert (b["ratings"], b["satisfied"], b["satisfaction_rate"]) == (2, 1, 0.5)
    assert (b["avg_efficiency"], b["avg_attitude"], b["avg_quality"]) == (3.0, 3.0, 2.5)
    assert (b["completed_once"], b["reopened"], b["reopen_rate"]) == (1, 0, 0.0)
    # C: named for d2 and d3 by coordination; both accepted in time; d2 handled late
    assert (c["acceptance_due"], c["accepted_on_time"]) == (2, 2)
    assert c["acceptance_on_time_rate"] == 1.0 and c["response_rate"] == 1.0
    assert (c["handling_due"], c["handling_on_time"], c["handling_on_time_rate"]) == (2, 1, 0.5)
    assert (c["demands"], c["closed"], c["judged"], c["resolved"]) == (2, 2, 2, 1)
    assert c["resolution_rate"] == 0.5 and c["unrated_share"] == 0.0
    assert (c["ratings"], c["satisfied"], c["satisfaction_rate"]) == (3, 1, 0.3333)
    # efficiency (2 + 2 + 4) / 3, attitude (3 + 2 + 4) / 3, quality (3 + 2 + 3) / 3
    assert (c["avg_efficiency"], c["avg_attitude"], c["avg_quality"]) == (2.6667, 3.0, 2.6667)
    assert (c["completed_once"], c["reopened"], c["reopen_rate"]) == (2, 1, 0.5)


def test_liaisons(session):
    rows = by_subject(appraisal.appraise(session, "liaisons", MARCH, AS_OF))
    assert set(rows) == {"liaison-a", "liaison-b", "liaison-c"}
    la, lb, lc = rows["liaison-a"], rows["liaison-b"], rows["liaison-c"]
    assert (la["department_id"], lb["department_id"], lc["department_id"]) == (A, B, C)
    # A's liaison accepted d1, d4 in time and returned d3 (a time-out is nobody's act)
    assert (la["acceptance_due"], la["accepted_on_time"], la["returned"]) == (3, 2, 1)
    assert la["acceptance_on_time_rate"] == 1.0 and la["response_rate"] == 0.6667
    assert (lb["acceptance_due"], lb["accepted_on_time"], lb["timed_out"]) == (2, 1, 0)
    assert lb["acceptance_on_time_rate"] == 0.5 and lb["response_rate"] == 0.5
    assert lc["response_rate"] == 1.0 and lc["handling_on_time_rate"] == 0.5
    assert (la["handled"], lb["handled"], lc["handled"]) == (2, 2, 2)
    assert lb["satisfaction_rate"] == 0.5 and lc["satisfaction_rate"] == 0.3333


# --------------------------------------------------------------------------- grids, workers

def test_grids(session):
    rows = by_subject(appraisal.appraise(session, "grids", MARCH, AS_OF))
    assert set(rows) == {G1, G2}
    g1, g2 = rows[G1], rows[G2]
    # G1: d1 in time; d2, d5 triaged late; d6 untriaged past due
    assert (g1["demands"], g1["triage_due"], g1["triage_on_time"]) == (4, 4, 1)
    assert g1["triage_on_time_rate"] == 0.25
    # tasks d1 (A), d2 (B timed out, then C), d5 (B, accepted late)
    assert (g1["tasks"], g1["acceptance_due"], g1["accepted_on_time"], g1["timed_out"]) == (
        3, 4, 2, 1)
    assert g1["acceptance_on_time_rate"] == 0.5 and g1["response_rate"] == 0.5
    assert (g1["handling_due"], g1["handling_on_time"], g1["handling_on_time_rate"]) == (
        3, 1, 0.3333)
    assert (g1["closed"], g1["judged"], g1["resolved"], g1["resolution_rate"]) == (2, 2, 1, 0.5)
    assert (g1["ratings"], g1["satisfaction_rate"]) == (2, 0.5)
    assert (g1["avg_efficiency"], g1["avg_attitude"], g1["avg_quality"]) == (3.5, 3.5, 3.5)
    assert (g1["unrated_share"], g1["completed_once"], g1["reopen_rate"]) == (0.0, 2, 0.0)
    # G2: d3 and d4, both triaged in time
    assert (g2["demands"], g2["triage_on_time_rate"]) == (2, 1.0)
    assert (g2["acceptance_due"], g2["accepted_on_time"], g2["returned"]) == (4, 3, 1)
    assert g2["acceptance_on_time_rate"] == 1.0 and g2["response_rate"] == 0.75
    assert (g2["handling_due"], g2["handling_on_time_rate"]) == (3, 0.6667)
    assert (g2["closed"], g2["judged"], g2["resolution_rate"]) == (2, 1, 1.0)
    assert (g2["unrated"], g2["unrated_share"]) == (1, 0.5)
    assert (g2["ratings"], g2["satisfaction_rate"]) == (2, 0.5)
    assert (g2["avg_efficiency"], g2["avg_attitude"], g2["avg_quality"]) == (3.0, 3.0, 2.5)
    assert (g2["completed_once"], g2["reopened"], g2["reopen_rate"]) == (2, 1, 0.5)


def test_grid_workers(session):
    rows = by_subject(appraisal.appraise(session, "grid_workers", MARCH, AS_OF))
    assert set(rows) == {"worker-1", "worker-2"}  # d5 was recorded by the enterprise itself
    w1, w2 = rows["worker-1"], rows["worker-2"]
    assert (w1["grid_ids"], w2["grid_ids"]) == ([G1], [G2])
    assert (w1["handled"], w1["triage_due"], w1["triage_on_time"]) == (3, 3, 1)
    assert w1["triage_on_time_rate"] == 0.3333
    assert (w1["acceptance_due"], w1["accepted_on_time"], w1["timed_out"]) == (3, 2, 1)
    assert w1["response_rate"] == 0.6667 and w1["acceptance_on_time_rate"] == 0.6667
    assert w1["handling_on_time_rate"] == 0.5
    assert (w1["resolution_rate"], w1["satisfaction_rate"], w1["unrated_share"]) == (
        0.5, 0.5, 0.0)
    assert w2["handled"] == 2 and w2["response_rate"] == 0.75 and w2["reopen_rate"] == 0.5


def test_the_period_counts_demands_received_in_it(session):
    february = Period(date(2026, 2, 1), date(2026, 2, 28))
    rows = by_subject(appraisal.appraise(session, "departments", february, AS_OF))
    # only d7: A's task timed out and waits in coordination
    assert rows[A]["acceptance_due"] == 1 and rows[A]["timed_out"] == 1
    assert rows[A]["response_rate"] == 0.0 and rows[A]["handling_due"] == 0
    assert appraisal.appraise(session, "grids", Period(date(2026, 4, 1), date(2026, 4, 30)),
                              AS_OF) == []


# --------------------------------------------------------------------------- yearly score

def test_yearly_score_ranking_and_veto(session):
    rows = by_subject(appraisal.yearly(session, "grid_workers", 2026, AS_OF,
                                       appraisal.DEFAULT_SETTINGS))
    w1, w2 = rows["worker-1"], rows["worker-2"]
    # weights quantity 30, quality 50, difficulty 20; points easy 1, normal 2, hard 3.
    # worker-1 in 2026: d7, d1, d2, d6 (4, the most); ratings 1 of 2 satisfied;
    # points d7 2 + d1 2 + d2 3 over 3 triaged = 7/3 of at most 3
    assert (w1["quantity_score"], w1["quality_score"], w1["difficulty_score"]) == (
        100.0, 50.0, 77.78)
    assert w1["avg_difficulty"] == 2.3333
    assert w1["score"] == 70.56  # (30 × 100 + 50 × 50 + 20 × 700/9) / 100 = 70.5556
    # worker-2: d3, d4 (half the most); 1 of 2 satisfied; (2 + 1) / 2 of 3
    assert (w2["quantity_score"], w2["quality_score"], w2["difficulty_score"]) == (
        50.0, 50.0, 50.0)
    assert w2["score"] == 50.0
    assert (w1["rank"], w2["rank"]) == (1, 2)

    appraisal.set_veto(session, Principal(user_id="admin-1", role=Role.ADMIN), {
        "subject": "grid_workers", "subject_id": "worker-1", "year": 2026, "vetoed": True,
        "reason": "违反廉洁自律规定"}, now=AS_OF)
    vetoed = by_subject(appraisal.yearly(session, "grid_workers", 2026, AS_OF,
                                         appraisal.DEFAULT_SETTINGS))
    assert vetoed["worker-1"]["score"] == 0.0 and vetoed["worker-1"]["vetoed"] is True
    assert vetoed["worker-1"]["veto_reason"] == "违反廉洁自律规定"
    assert (vetoed["worker-2"]["rank"], vetoed["worker-1"]["rank"]) == (1, 2)
    row, changed = appraisal.set_veto(session, Principal(user_id="admin-1", role=Role.ADMIN), {
        "subject": "grid_workers", "subject_id": "worker-1", "year": 2026, "vetoed": False,
        "reason": "复核撤销"}, now=AS_OF)
    assert changed and not row.active and row.lifted_by == "admin-1"
    assert by_subject(appraisal.yearly(session, "grid_workers", 2026, AS_OF,
                                       appraisal.DEFAULT_SETTINGS))["worker-1"]["score"] == 70.56
    with pytest.raises(Forbidden):
        appraisal.set_veto(session, COORDINATOR, {
            "subject": "grids", "subject_id": G1, "year": 2026, "vetoed": True, "reason": "x"})
    with pytest.raises(NotFound):
        appraisal.set_veto(session, Principal(user_id="admin-1", role=Role.ADMIN), {
            "subject": "grids", "subject_id": G2, "year": 2026, "vetoed": False, "reason": "x"})


def test_yearly_score_follows_the_configured_weights_and_points(session):
    config = {**appraisal.DEFAULT_SETTINGS,
              "weights": {"quantity": 3.0, "quality": 1.0, "difficulty": 1.0},
              "category_points": {"tax": 1.0}}
    session.add(AppraisalSetting(key=appraisal.SETTINGS_KEY, value=config, updated_by="admin"))
    session.flush()
    assert appraisal.settings(session)["weights"]["quantity"] == 3.0
    rows = by_subject(appraisal.yearly(session, "grids", 2026, AS_OF))
    # G1: 5 demands (the most); 1 of 2 satisfied; points d7 2, d1 2, d2 3 + 1 (tax),
    # d5 2 = 10 over 4, at most 3 + 1: (3 × 100 + 50 + 62.5) / 5
    assert (rows[G1]["quantity_score"], rows[G1]["difficulty_score"]) == (100.0, 62.5)
    assert rows[G1]["score"] == 82.5
    # G2: 2 of 5 → 40; 1 of 2 satisfied; (2 + 1) / 2 of 4 → 37.5: (120 + 50 + 37.5) / 5
    assert rows[G2]["score"] == 41.5
    assert [r["subject_id"] for r in appraisal.yearly(session, "grids", 2026, AS_OF)] == [G1, G2]


def test_a_subject_without_ratings_leaves_the_quality_weight_out():
    rows = [{"subject_id": "x", "department_id": None, "grid_ids": [], "handled": 2,
             "satisfied": 0, "ratings": 0, "satisfaction_rate": None, "_points": 6.0,
             "_pointed": 2},
            {"subject_id": "y", "department_id": None, "grid_ids": [], "handled": 4,
             "satisfied": 3, "ratings": 4, "satisfaction_rate": 0.75, "_points": 4.0,
             "_pointed": 4}]
    scored = by_subject(appraisal.score_rows(rows, appraisal.DEFAULT_SETTINGS, {}))
    # x: quantity 50, difficulty 100 (3 of 3), no quality: (30 × 50 + 20 × 100) / 50 = 70
    assert scored["x"]["quality_score"] is None and scored["x"]["score"] == 70.0
    # y: quantity 100, quality 75, difficulty 33.33: (3000 + 3750 + 666.67) / 100
    assert scored["y"]["score"] == 74.17
    assert (scored["y"]["rank"], scored["x"]["rank"]) == (1, 2)
    tied = appraisal.ranked([{"k": "b", "v": 5.0}, {"k": "a", "v": 5.0}, {"k": "c", "v": 1.0}],
                            "v", "k")
    assert [(r["k"], r["rank"]) for r in tied] == [("a", 1), ("b", 1), ("c", 3)]


# --------------------------------------------------------------------------- scope

def test_each_reader_sees_only_their_part(session):
    rows = appraisal.appraise(session, "liaisons", MARCH, AS_OF)
    head_b = Principal(user_id="head-b", role=Role.DEPARTMENT_HEAD, department_id=B)
    assert [r["subject_id"] for r in appraisal.visible(head_b, "liaisons", rows)] == [
        "liaison-b"]
    departments = appraisal.appraise(session, "departments", MARCH, AS_OF)
    assert [r["subject_id"] for r in appraisal.visible(head_b, "departments", departments)] == [
        B]
    leader_g2 = Principal(user_id="gl-2", role=Role.GRID_LEADER, grid_ids=(G2,))
    workers = appraisal.appraise(session, "grid_workers", MARCH, AS_OF)
    assert [r["subject_id"] for r in appraisal.visible(leader_g2, "grid_workers", workers)] == [
        "worker-2"]
    for principal, kind in ((head_b, "grids"), (leader_g2, "departments"),
                            (W1, "grid_workers"), (LA, "liaisons"), (enterprise(E1), "grids")):
        with pytest.raises(Forbidden):
            appraisal.visible(principal, kind, rows)
    leader = Principal(user_id="leader", role=Role.LEADER)
    assert len(appraisal.visible(leader, "liaisons", rows)) == 3


# --------------------------------------------------------------------------- overview

def test_overview_of_the_period(session):
    leader = Principal(user_id="leader", role=Role.LEADER)
    result = overview.overview(session, leader, MARCH, AS_OF)
    # received d1..d6; closed in March d1, d3, d2 and d4 (by the sweep on 03-25)
    assert result["totals"] == {"received": 6, "closed": 4, "open": 2, "overdue": 3,
                                "overdue_open": 1, "triage_late": 3}
    assert result["by_category"] == [
        {"category": "finance", "received": 3, "closed": 3, "overdue": 1},
        {"category": None, "received": 1, "closed": 0, "overdue": 0},
        {"category": "talent", "received": 1, "closed": 0, "overdue": 1},
        {"category": "tax", "received": 1, "closed": 1, "overdue": 1},
    ]
    assert result["by_department"] == [
        {"department_id": B, "tasks": 2, "completed": 1, "open": 1, "overdue": 1,
         "overdue_open": 1},
        {"department_id": A, "tasks": 2, "completed": 2, "open": 0, "overdue": 1,
         "overdue_open": 0},
        {"department_id": C, "tasks": 2, "completed": 2, "open": 0, "overdue": 1,
         "overdue_open": 0},
    ]
    assert result["trend"] == [{"month": "2026-03", "received": 6, "closed": 4, "overdue": 3}]
    assert result["top_overdue_grids"] == [
        {"grid_id": G1, "demands": 3, "overdue": 2, "overdue_open": 1},
        {"grid_id": G2, "demands": 2, "overdue": 1, "overdue_open": 0},
    ]
    assert result["repeated_enterprises"] == [
        {"enterprise_id": E1, "demands": 3, "categories": ["finance", "tax"],
         "max_same_category": 1},
        {"enterprise_id": E2, "demands": 2, "categories": ["finance"], "max_same_category": 2},
    ]
    # d1-d4 closed, d5 being handled, d6 never triaged
    assert result["by_status"] == [{"status": "closed", "demands": 4},
                                   {"status": "in_progress", "demands": 1},
                                   {"status": "received", "demands": 1}]
    # G1: d1, d2, d5, d6 (d2 and d5 late); G2: d3, d4 (d4 late)
    assert result["by_grid"] == [{"grid_id": G1, "demands": 4, "overdue": 2},
                                 {"grid_id": G2, "demands": 2, "overdue": 1}]
    rates = result["rates"]
    # 分理: six came into play, d2, d5 and d6 late; 办理: the six accepted tasks, d2's (C),
    # d4's (breached) and d5's late; ratings d1 and d3's second satisfied, d3's first and d2's
    # not
    assert {k: rates[k] for k in ("triage_due", "triage_on_time_rate", "handling_due",
                                  "handling_on_time_rate", "ratings", "satisfaction_rate")} == {
        "triage_due": 6, "triage_on_time_rate": 0.5, "handling_due": 6,
        "handling_on_time_rate": 0.5, "ratings": 4, "satisfaction_rate": 0.5}
    assert rates["escalations"] == 2  # d4's and d5's tasks, breached, to their heads


def test_overview_by_month_and_scope(session):
    leader = Principal(user_id="leader", role=Role.LEADER)
    two_months = overview.overview(session, leader, Period(date(2026, 2, 1),
                                                           date(2026, 3, 31)), AS_OF)
    assert two_months["trend"] == [
        {"month": "2026-02", "received": 1, "closed": 0, "overdue": 0},
        {"month": "2026-03", "received": 6, "closed": 4, "overdue": 3}]
    head_b = Principal(user_id="head-b", role=Role.DEPARTMENT_HEAD, department_id=B)
    mine = overview.overview(session, head_b, MARCH, AS_OF)
    # demands with a task of B: d3 and d5
    assert mine["totals"] == {"received": 2, "closed": 1, "open": 1, "overdue": 1,
                              "overdue_open": 1, "triage_late": 1}
    assert [row["department_id"] for row in mine["by_department"]] == [B]
    grid_leader = Principal(user_id="gl-2", role=Role.GRID_LEADER, grid_ids=(G2,))
    assert overview.overview(session, grid_leader, MARCH, AS_OF)["totals"] == {
        "received": 2, "closed": 2, "open": 0, "overdue": 1, "overdue_open": 0,
        "triage_late": 0}
    for principal in (W1, LA, enterprise(E1)):
        with pytest.raises(Forbidden):
            overview.overview(session, principal, MARCH, AS_OF)


# ------------------------------------------------------------- the overview kept as computed

LEADER = Principal(user_id="leader", role=Role.LEADER)
HEAD_A = Principal(user_id="head-a", role=Role.DEPARTMENT_HEAD, department_id=A)
HEAD_B = Principal(user_id="head-b", role=Role.DEPARTMENT_HEAD, department_id=B)
GRID_LEADER_2 = Principal(user_id="gl-2", role=Role.GRID_LEADER, grid_ids=(G2,))


def submit_uncommitted(session: Session, when: str) -> None:
    """One more demand of G2 received in March, in the test's transaction (rolled back)."""
    data = {"enterprise_id": E3, "channel": "grid_worker", "title": "d8",
            "description": "诉求 d8", "urgency": "normal", "attachments": [],
            "category": "finance"}
    intake.submit(session, W2, data, None, CAL, now=at(when),
                  enterprise={"grid_id": G2, "in_scope": True})


def savepoints(session: Session):
    """refresh_due's transactions, as savepoints of the test's transaction."""
    @contextmanager
    def transaction() -> Iterator[Session]:
        with session.begin_nested():
            yield session
    return transaction


def test_a_second_read_within_the_bound_is_served_from_the_snapshot(session):
    first = snapshots.read(session, LEADER, MARCH, now=AS_OF)
    assert first["totals"]["received"] == 6
    assert first["as_of"].startswith("2026-03-25T12:00:00")  # 数据更新于 12:00
    submit_uncommitted(session, "03-25T12:01")
    within = AS_OF + timedelta(seconds=snapshots.FRESH_SECONDS - 1)
    assert snapshots.read(session, LEADER, MARCH, now=within) == first
    # 刷新 of a snapshot younger than 30 s answers it as it is; older, it recomputes
    assert snapshots.read(session, LEADER, MARCH, force=True,
                          now=AS_OF + timedelta(seconds=29)) == first
    forced = snapshots.read(session, LEADER, MARCH, force=True,
                            now=AS_OF + timedelta(seconds=31))
    assert forced["totals"]["received"] == 7
    assert forced["as_of"].startswith("2026-03-25T12:00:31")
    after = AS_OF + timedelta(seconds=31 + snapshots.FRESH_SECONDS)
    later = snapshots.read(session, LEADER, MARCH, now=after)
    assert later["totals"]["received"] == 7 and later["as_of"] > forced["as_of"]


def test_the_timer_refreshes_what_was_read_and_a_failure_keeps_the_snapshot(session):
    first = snapshots.read(session, LEADER, MARCH, now=AS_OF)
    submit_uncommitted(session, "03-25T12:01")
    tick = AS_OF + timedelta(seconds=snapshots.REFRESH_AGE_SECONDS)

    def database_away(*_args):
        raise RuntimeError("database away")

    assert snapshots.refresh_due(savepoints(session), now=tick,
                                 compute_with=database_away) == {
        "refreshed": 0, "skipped": 0, "failed": 1, "deferred": 0, "deleted": 0}
    assert snapshots.read(session, LEADER, MARCH, now=tick) == first
    assert snapshots.refresh_due(savepoints(session), now=tick) == {
        "refreshed": 1, "skipped": 0, "failed": 0, "deferred": 0, "deleted": 0}
    refreshed = snapshots.read(session, LEADER, MARCH,
                               now=tick + timedelta(seconds=1))
    assert refreshed["totals"]["received"] == 7
    assert refreshed["as_of"] > first["as_of"]
    # a snapshot nobody read in the last day is left alone; after a week it is deleted
    assert snapshots.refresh_due(savepoints(session), now=tick + timedelta(days=2)) \
        == {"refreshed": 0, "skipped": 0, "failed": 0, "deferred": 0, "deleted": 0}
    assert snapshots.refresh_due(savepoints(session), now=tick + timedelta(days=8)) \
        == {"refreshed": 0, "skipped": 0, "failed": 0, "deferred": 0, "deleted": 1}
    assert session.execute(select(func.count()).select_from(OverviewSnapshot)).scalar_one() == 0


def test_the_timer_refreshes_a_bounded_number_a_tick_the_leaders_first(session):
    """Thousands of grid leaders' scopes must not hold a worker for hours: each tick refreshes
    at most ``limit`` snapshots, everything's (the leaders') first; the others next tick."""
    snapshots.read(session, HEAD_A, MARCH, now=AS_OF)
    snapshots.read(session, HEAD_B, MARCH, now=AS_OF + timedelta(seconds=2))
    snapshots.read(session, LEADER, MARCH, now=AS_OF)
    tick = AS_OF + timedelta(seconds=snapshots.REFRESH_AGE_SECONDS + 5)
    computed: list[str] = []

    def counted(s, principal, period, as_of):
        computed.append(snapshots.scope_key(principal))
        return snapshots.compute(s, principal, period, as_of)

    assert snapshots.refresh_due(savepoints(session), now=tick, limit=2,
                                 compute_with=counted) == {
        "refreshed": 2, "skipped": 0, "failed": 0, "deferred": 1, "deleted": 0}
    assert computed == ["all", f"department:{B}"]  # then the most recently read
    assert snapshots.refresh_due(savepoints(session), now=tick, limit=2,
                                 compute_with=counted) == {
        "refreshed": 1, "skipped": 0, "failed": 0, "deferred": 0, "deleted": 0}
    assert computed[2:] == [f"department:{A}"]


def test_concurrent_reads_of_a_stale_key_compute_it_once(engine, script):
    """The second reader waits for the first's compute (an advisory lock per key) and reads
    what it stored, where both would otherwise compute the province's overview."""
    calls: list[datetime] = []
    computing, release = threading.Event(), threading.Event()

    def held(session, principal, period, as_of):
        calls.append(as_of)
        computing.set()
        release.wait(60)
        return snapshots.compute(session, principal, period, as_of)

    answers: dict[str, dict] = {}

    def reader(name: str) -> None:
        with Session(engine) as s, s.begin():
            answers[name] = snapshots.read(s, LEADER, MARCH, now=AS_OF,
                                           compute_with=held)

    first = threading.Thread(target=reader, args=("first",))
    second = threading.Thread(target=reader, args=("second",))
    try:
        first.start()
        assert computing.wait(60)
        second.start()
        waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND NOT granted")
        with engine.connect() as conn:
            for _ in range(600):  # until the second reader waits for the first's lock
                if conn.execute(waiting).scalar_one() == 1:
                    break
                threading.Event().wait(0.1)
            else:
                pytest.fail("the second reader did not wait for the first")
        release.set()
        first.join(60)
        second.join(60)
        assert len(calls) == 1
        assert answers["second"] == answers["first"]
        assert answers["first"]["totals"]["received"] == 6
    finally:
        release.set()
        first.join(60)
        second.join(60)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM ticketing.overview_snapshots"))


def test_each_scope_reads_its_own_snapshot(session):
    everything = snapshots.read(session, LEADER, MARCH, now=AS_OF)
    mine = snapshots.read(session, HEAD_B, MARCH, now=AS_OF)
    theirs = snapshots.read(session, HEAD_A, MARCH, now=AS_OF)
    grids = snapshots.read(session, GRID_LEADER_2, MARCH, now=AS_OF)
    assert everything["totals"]["received"] == 6
    # demands with a task of B: d3 and d5, as test_overview_by_month_and_scope
    assert mine["totals"] == {"received": 2, "closed": 1, "open": 1, "overdue": 1,
                              "overdue_open": 1, "triage_late": 1}
    assert [row["department_id"] for row in mine["by_department"]] == [B]
    assert [row["department_id"] for row in theirs["by_department"]] == [A]
    assert grids["totals"] == {"received": 2, "closed": 2, "open": 0, "overdue": 1,
                               "overdue_open": 0, "triage_late": 0}
    # read again within the bound, each is still its own
    later = AS_OF + timedelta(minutes=1)
    assert snapshots.read(session, HEAD_B, MARCH, now=later) == mine
    assert snapshots.read(session, GRID_LEADER_2, MARCH, now=later) == grids
    kept = set(session.execute(select(OverviewSnapshot.scope_key)).scalars())
    assert kept == {"all", f"department:{A}", f"department:{B}", f"grids:{G2}"}
    for principal in (W1, LA, enterprise(E1)):
        with pytest.raises(Forbidden):
            snapshots.read(session, principal, MARCH, now=later)


def test_an_appraisal_quick_to_compute_is_read_live(session):
    """An appraisal computed in less than ``keep_from`` (by default half a second: a zone of
    1,200 enterprises) is never kept: a demand submitted between two reads is counted by the
    second."""
    as_of, rows = snapshots.read_appraisal(session, appraisal.GRIDS, MARCH, now=AS_OF,
                                           keep_from=60)
    assert as_of == AS_OF
    before = {row["subject_id"]: row["demands"] for row in rows}
    submit_uncommitted(session, "03-25T12:01")
    _, again = snapshots.read_appraisal(session, appraisal.GRIDS, MARCH,
                                        now=AS_OF + timedelta(seconds=5), keep_from=60)
    assert {row["subject_id"]: row["demands"] for row in again}[G2] == before[G2] + 1
    assert session.execute(select(func.count()).select_from(OverviewSnapshot)).scalar_one() == 0


def test_an_appraisal_slow_to_compute_is_kept_refreshed_and_forgotten(session):
    """Kept once computing it took ``keep_from`` (0 here: always), the appraisal is read as
    kept within the bound (a new demand not counted, its as_of the first read's), computed
    again by 刷新 past 30 s and by the timer; rows unscoped, the yearly score built on them
    equals the one computed directly; a change of the settings forgets them."""
    year = Period.year(2026)
    kept_at, kept = snapshots.read_appraisal(session, appraisal.GRIDS, year, now=AS_OF,
                                             keep_from=0)
    assert kept == appraisal.appraise(session, appraisal.GRIDS, year, AS_OF)
    assert appraisal.yearly(session, appraisal.GRIDS, 2026, AS_OF, rows=kept) == \
        appraisal.yearly(session, appraisal.GRIDS, 2026, AS_OF)
    submit_uncommitted(session, "03-25T12:01")
    within = AS_OF + timedelta(seconds=snapshots.FRESH_SECONDS - 1)
    assert snapshots.read_appraisal(session, appraisal.GRIDS, year, now=within) == (
        kept_at, kept)  # (kept: read without keep_from, a kept answer stays kept)
    forced_at, forced = snapshots.read_appraisal(session, appraisal.GRIDS, year, force=True,
                                                 now=AS_OF + timedelta(seconds=31))
    assert forced_at == AS_OF + timedelta(seconds=31)
    demands = {row["subject_id"]: row["demands"] for row in forced}
    assert demands[G2] == {row["subject_id"]: row["demands"] for row in kept}[G2] + 1
    # the timer refreshes it as it does the overview's
    tick = forced_at + timedelta(seconds=snapshots.REFRESH_AGE_SECONDS)
    assert snapshots.refresh_due(savepoints(session), now=tick)["refreshed"] == 1
    assert snapshots.read_appraisal(session, appraisal.GRIDS, year, now=tick)[0] == tick
    keys = set(session.execute(select(OverviewSnapshot.scope_key)).scalars())
    assert keys == {f"appraisal:grids:{appraisal.settings_version(session)}"}
    assert snapshots.forget_appraisals(session) == 1
    snapshots.read(session, LEADER, MARCH, now=AS_OF)  # the overview's are not forgotten
    assert snapshots.forget_appraisals(session) == 0
    assert set(session.execute(select(OverviewSnapshot.scope_key)).scalars()) == {"all"}


def test_a_kept_appraisal_follows_the_settings_version(session):
    """An answer kept under settings since changed is not read, even if a read that raced
    the change stored it after it forgot the kept ones."""
    year = Period.year(2026)
    _, kept = snapshots.read_appraisal(session, appraisal.GRID_WORKERS, year, now=AS_OF,
                                       keep_from=0)
    row = appraisal.locked_settings(session, "admin", None)
    row.value = {**appraisal.DEFAULT_SETTINGS,
                 "difficulty_points": {"easy": 5.0, "normal": 5.0, "hard": 5.0}}
    row.version += 1
    session.flush()
    _, after = snapshots.read_appraisal(session, appraisal.GRID_WORKERS, year,
                                        now=AS_OF + timedelta(seconds=1), keep_from=0)
    points = {r["subject_id"]: r["_points"] for r in after}
    assert points == {r["subject_id"]: 5.0 * r["_pointed"] for r in after}
    assert points != {r["subject_id"]: r["_points"] for r in kept}


# --------------------------------------------------------------------------- awards

def test_awards_rank_service_and_growth():
    scores = [{"subject_id": "G1", "score": 80.0, "vetoed": False},
              {"subject_id": "G2", "score": 70.0, "vetoed": False},
              {"subject_id": "G3", "score": 0.0, "vetoed": True}]
    grids = [
        {"grid_id": "G1", "name": "一号", "department_id": "d1", "output_value": 110.0,
         "output_value_previous": 100.0, "tax": 50.0, "tax_previous": 50.0},
        {"grid_id": "G2", "name": "二号", "department_id": "d1", "output_value": 130.0,
         "output_value_previous": 100.0, "tax": 60.0, "tax_previous": 50.0},
        {"grid_id": "G3", "name": "三号", "department_id": "d2", "output_value": 200.0,
         "output_value_previous": 100.0, "tax": 100.0, "tax_previous": 100.0},
        {"grid_id": "G4", "name": "四号", "department_id": "d2", "output_value": 5.0,
         "output_value_previous": 0.0, "tax": 0.0, "tax_previous": 0.0},
    ]
    criteria = {"count": 1, "min_service_score": 60.0,
                "weights": {"service": 60.0, "output_growth": 20.0, "tax_growth": 20.0}}
    rows = {r["grid_id"]: r for r in appraisal.awards(scores, grids, criteria)}
    # output growth 10 %, 30 %, 100 % (the best), none; tax growth 0, 20 % (the best), 0
    assert (rows["G1"]["output_growth"], rows["G2"]["tax_growth"]) == (0.1, 0.2)
    assert rows["G4"]["output_growth"] is None
    assert (rows["G1"]["output_growth_score"], rows["G2"]["output_growth_score"]) == (10.0, 30.0)
    assert rows["G2"]["tax_growth_score"] == 100.0
    # G1 (60 × 80 + 20 × 10) / 100; G2 (60 × 70 + 20 × 30 + 20 × 100) / 100; G3 20 × 100 / 100
    assert [(g, rows[g]["award_score"], rows[g]["rank"]) for g in ("G2", "G1", "G3", "G4")] == [
        ("G2", 68.0, 1), ("G1", 50.0, 2), ("G3", 20.0, 3), ("G4", 0.0, 4)]
    assert sorted(g for g, r in rows.items() if r["eligible"]) == ["G1", "G2"]
    assert [g for g, r in rows.items() if r["awarded"]] == ["G2"]
    two = {r["grid_id"]: r for r in appraisal.awards(scores, grids, {**criteria, "count": 2})}
    assert sorted(g for g, r in two.items() if r["awarded"]) == ["G1", "G2"]
    head = Principal(user_id="h", role=Role.DEPARTMENT_HEAD, department_id="d2")
    assert [r["grid_id"] for r in appraisal.visible_awards(head, list(rows.values()))] == [
        "G3", "G4"]
    with pytest.raises(Forbidden):
        appraisal.visible_awards(W1, list(rows.values()))



def test_the_overview_and_the_zones_appraisal_agree(session):
    """The overview's figures come from its own statements (one pass over the demands and
    their tasks); the rates they share with the zone's appraisal row follow the same
    definitions, for any period and any moment."""
    leader = Principal(user_id="leader", role=Role.LEADER)
    for period in (MARCH, Period(date(2026, 2, 1), date(2026, 3, 31)),
                   Period(date(2026, 3, 4), date(2026, 3, 5))):
        for as_of in (AS_OF, datetime.fromisoformat("2026-03-09T12:00:00+08:00")):
            rates = overview.overview(session, leader, period, as_of)["rates"]
            zone = appraisal.appraise(session, appraisal.ZONE, period, as_of)
            row = zone[0] if zone else {}
            assert rates["triage_due"] == row.get("triage_due", 0), (period, as_of)
            assert rates["triage_on_time_rate"] == row.get("triage_on_time_rate"), (period, as_of)
            assert rates["handling_due"] == row.get("handling_due", 0), (period, as_of)
            assert rates["handling_on_time_rate"] == row.get("handling_on_time_rate"), (
                period, as_of)
            assert rates["ratings"] == row.get("ratings", 0), (period, as_of)
            assert rates["satisfaction_rate"] == row.get("satisfaction_rate"), (period, as_of)
