"""The SLA ladder (services/ticketing/ladder.py): what a due deadline does now, for every kind
and subject state, with no database."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from common.calendar import WorkCalendar
from services.ticketing.ladder import (
    NOTHING,
    Action,
    EscalationLevel,
    after_workdays,
    due_now,
    rung_workdays,
)
from services.ticketing.sla import DEFAULT_SETTINGS
from services.ticketing.workflow import DemandState, TaskState

CST = ZoneInfo("Asia/Shanghai")
TASK_STATES = [*TaskState, None]


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute), CST)


@pytest.mark.parametrize("status", [*DemandState, None])
def test_an_untriaged_demand_breaches_its_triage_deadline(status: DemandState | None) -> None:
    action = due_now("triage", 0, status)
    assert action == (Action(breach=True) if status == DemandState.RECEIVED else NOTHING)
    assert action.told == (("sla_breached",) if status == DemandState.RECEIVED else ())


@pytest.mark.parametrize("status", TASK_STATES)
def test_an_unaccepted_task_breaches_and_times_out(status: TaskState | None) -> None:
    expected = Action(breach=True, time_out=True) if status == TaskState.ASSIGNED else NOTHING
    assert due_now("acceptance", 0, status) == expected


@pytest.mark.parametrize("status", TASK_STATES)
def test_a_task_still_handled_at_its_deadline_goes_to_the_department_head(
        status: TaskState | None) -> None:
    action = due_now("handling", 0, status)
    if status != TaskState.ACCEPTED:
        assert action == NOTHING
        return
    assert action == Action(breach=True, escalate=1, next_rung=2)
    assert action.escalate == EscalationLevel.DEPARTMENT_HEAD
    assert action.told == ("sla_breached", "task_escalated")


@pytest.mark.parametrize("status", TASK_STATES)
def test_the_rungs_climb_until_the_task_is_done(status: TaskState | None) -> None:
    done = status in (TaskState.COMPLETED, TaskState.CANCELLED, None)
    assert due_now("escalation", 2, status) == (NOTHING if done else Action(escalate=2,
                                                                             next_rung=3))
    assert due_now("escalation", 3, status) == (NOTHING if done else Action(escalate=3))
    assert due_now("escalation", 3, status).told == (() if done else ("task_escalated",))


@pytest.mark.parametrize("status", TASK_STATES)
def test_a_reminder_only_for_a_task_in_hand(status: TaskState | None) -> None:
    action = due_now("reminder", 0, status)
    assert action == (Action(remind=True) if status == TaskState.ACCEPTED else NOTHING)


@pytest.mark.parametrize(("kind", "level"), [("escalation", 1), ("escalation", 4),
                                             ("escalation", 0), ("rating_reminder", 0),
                                             ("close_unrated", 0), ("unknown", 0)])
def test_what_the_ladder_does_not_decide_is_refused(kind: str, level: int) -> None:
    with pytest.raises(ValueError):
        due_now(kind, level, TaskState.ACCEPTED)


def test_the_rungs_come_after_their_settings() -> None:
    assert rung_workdays(DEFAULT_SETTINGS, 2) == DEFAULT_SETTINGS["escalate_to_leader_workdays"]
    assert rung_workdays(DEFAULT_SETTINGS, 3) == DEFAULT_SETTINGS["escalate_to_group_workdays"]
    assert rung_workdays({**DEFAULT_SETTINGS, "escalate_to_group_workdays": "7"}, 3) == 7


def test_the_next_rung_keeps_the_hour() -> None:
    due = at("2026-12-30", 10, 30)
    calendar = WorkCalendar()
    assert after_workdays(calendar, due, 1) == at("2026-12-31", 10, 30)
    assert after_workdays(calendar, due, 2) in (at("2027-01-04", 10, 30),  # 元旦 known
                                                at("2027-01-01", 10, 30))  # Monday-Friday
