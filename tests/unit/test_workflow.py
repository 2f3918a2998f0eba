"""The demand and task lifecycle rules (no broker, no database)."""

from __future__ import annotations

import pytest

from common.auth import Principal, Role
from common.errors import Conflict, Forbidden
from services.ticketing.workflow import (
    DemandState,
    TaskAction,
    TaskState,
    demand_state,
    escalates_on_reopen,
    is_satisfied,
    task_transition,
)

LIAISON = Principal(user_id="l1", role=Role.LIAISON, department_id="fire_rescue")
OTHER_LIAISON = Principal(user_id="l2", role=Role.LIAISON, department_id="taxation")
COORDINATOR = Principal(user_id="c1", role=Role.COORDINATOR)
PLATFORM = Principal(user_id="service:ticketing", role=Role.SERVICE)


def test_liaison_accepts_once():
    move = task_transition(LIAISON, TaskState.ASSIGNED, TaskAction.ACCEPT, "fire_rescue")
    assert (move.before, move.after) == ("assigned", "accepted")
    with pytest.raises(Conflict):  # the second of two concurrent accepts
        task_transition(LIAISON, TaskState.ACCEPTED, TaskAction.ACCEPT, "fire_rescue")


def test_only_the_tasks_own_department_accepts_or_returns():
    with pytest.raises(Forbidden):
        task_transition(OTHER_LIAISON, TaskState.ASSIGNED, TaskAction.ACCEPT, "fire_rescue")
    with pytest.raises(Forbidden):
        task_transition(COORDINATOR, TaskState.ASSIGNED, TaskAction.ACCEPT, "fire_rescue")
    move = task_transition(LIAISON, TaskState.ASSIGNED, TaskAction.RETURN, "fire_rescue")
    assert move.after == "coordination"


def test_coordination_and_timeouts():
    assert task_transition(PLATFORM, TaskState.ASSIGNED, TaskAction.TIME_OUT,
                           "x").after == "coordination"
    with pytest.raises(Forbidden):
        task_transition(COORDINATOR, TaskState.ASSIGNED, TaskAction.TIME_OUT, "x")
    assert task_transition(COORDINATOR, TaskState.COORDINATION, TaskAction.REASSIGN,
                           "x").after == "assigned"
    with pytest.raises(Forbidden):
        task_transition(LIAISON, TaskState.COORDINATION, TaskAction.REASSIGN, "fire_rescue")


def test_reopen_after_completion_and_escalation_on_the_second():
    done = task_transition(LIAISON, TaskState.ACCEPTED, TaskAction.COMPLETE, "fire_rescue")
    assert done.after == "completed"
    assert task_transition(PLATFORM, TaskState.COMPLETED, TaskAction.REOPEN, "x").after == \
        "accepted"
    assert not escalates_on_reopen(1)
    assert escalates_on_reopen(2)


def test_demand_state_follows_its_tasks():
    T = TaskState
    assert demand_state([T.ASSIGNED, T.COORDINATION], DemandState.TRIAGED) == "triaged"
    assert demand_state([T.ACCEPTED, T.ASSIGNED], DemandState.TRIAGED) == "in_progress"
    assert demand_state([T.COMPLETED, T.CANCELLED], DemandState.IN_PROGRESS) == \
        "awaiting_rating"
    assert demand_state([T.COMPLETED, T.ACCEPTED], DemandState.AWAITING_RATING) == \
        "in_progress"
    assert demand_state([T.COMPLETED], DemandState.CLOSED) == "closed"
    assert demand_state([], DemandState.RECEIVED) == "received"


def test_satisfaction():
    assert is_satisfied(5, 4, 3)
    assert not is_satisfied(5, 5, 2)
