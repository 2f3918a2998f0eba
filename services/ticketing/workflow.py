"""The demand (诉求) and task (任务) lifecycle: states, who may move them, and where to.

Pure rules, no database: the service loads a row, asks :func:`task_transition` or
:func:`demand_transition` whether the move is allowed for this caller, applies it and records
it in the ledger (台账).

Demand: ``received`` →(分理 triage) ``triaged`` →(a task accepted) ``in_progress`` →(every
task completed) ``awaiting_rating`` →(satisfied rating: 自动销号) ``closed``;
dissatisfied → a task is reopened (``in_progress``) or, after the department's written report
and a coordinator's agreement, closed internally (内部销号); unrated after N working days →
``closed`` as unrated.

Task, one per responsible department (分解任务): ``assigned`` →(联络员 受理确认) ``accepted``
→(result reported) ``completed``; ``assigned`` →(returned with a reason, or not accepted in
time) ``coordination`` →(a coordinator names the department) ``assigned``; ``completed``
→(dissatisfied rating) ``accepted`` again (reopened; twice or more escalates: 多次未办结).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from common.auth import Principal, Role
from common.errors import Conflict, Forbidden
from common.i18n import label


class DemandState(StrEnum):
    RECEIVED = "received"  # 已登记, awaiting triage
    TRIAGED = "triaged"  # 已分理, tasks assigned
    IN_PROGRESS = "in_progress"  # 办理中
    AWAITING_RATING = "awaiting_rating"  # 待评价
    CLOSED = "closed"  # 已销号


class TaskState(StrEnum):
    ASSIGNED = "assigned"  # 待受理
    COORDINATION = "coordination"  # 待协调 (returned or not accepted in time)
    ACCEPTED = "accepted"  # 办理中
    COMPLETED = "completed"  # 已办结
    CANCELLED = "cancelled"  # withdrawn when a coordinator re-routes the demand


class Closure(StrEnum):
    RATED = "rated"  # 自动销号
    INTERNAL = "internal"  # 内部销号
    UNRATED = "unrated"  # closed without a rating after the waiting period


class TaskAction(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"
    TIME_OUT = "time_out"  # acceptance deadline passed (the SLA sweep)
    REASSIGN = "reassign"  # coordinator names the handling department
    COMPLETE = "complete"
    REOPEN = "reopen"
    CANCEL = "cancel"


COORDINATORS = frozenset({Role.COORDINATOR, Role.ADMIN})
DEPARTMENT_STAFF = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD})

#: (from, action) -> to
TASK_MOVES: dict[tuple[TaskState, TaskAction], TaskState] = {
    (TaskState.ASSIGNED, TaskAction.ACCEPT): TaskState.ACCEPTED,
    (TaskState.ASSIGNED, TaskAction.RETURN): TaskState.COORDINATION,
    (TaskState.ASSIGNED, TaskAction.TIME_OUT): TaskState.COORDINATION,
    (TaskState.COORDINATION, TaskAction.REASSIGN): TaskState.ASSIGNED,
    (TaskState.ACCEPTED, TaskAction.COMPLETE): TaskState.COMPLETED,
    (TaskState.COMPLETED, TaskAction.REOPEN): TaskState.ACCEPTED,
    (TaskState.ASSIGNED, TaskAction.CANCEL): TaskState.CANCELLED,
    (TaskState.COORDINATION, TaskAction.CANCEL): TaskState.CANCELLED,
}

#: who may take each action; None means only the platform itself (timers)
TASK_ACTORS: dict[TaskAction, frozenset[Role] | None] = {
    TaskAction.ACCEPT: frozenset({Role.LIAISON}),
    TaskAction.RETURN: frozenset({Role.LIAISON}),
    TaskAction.TIME_OUT: None,
    TaskAction.REASSIGN: COORDINATORS,
    TaskAction.COMPLETE: DEPARTMENT_STAFF,
    TaskAction.REOPEN: COORDINATORS | {Role.SERVICE},
    TaskAction.CANCEL: COORDINATORS,
}

#: actions that only the task's own department may take
OWN_DEPARTMENT_ONLY = frozenset({TaskAction.ACCEPT, TaskAction.RETURN, TaskAction.COMPLETE})


@dataclass(frozen=True)
class Move:
    before: str
    after: str
    action: str


def task_transition(principal: Principal, state: TaskState, action: TaskAction,
                    department_id: str) -> Move:
    """The move ``action`` makes from ``state``, if this caller may make it.

    Forbidden when the role (or department) may not act; Conflict when the task is not in a
    state that allows the action (e.g. the second of two concurrent accepts).
    """
    actors = TASK_ACTORS[action]
    if actors is None:
        if principal.role != Role.SERVICE:
            raise Forbidden("only the platform may {action} a task, not a person",
                            code="task.platform_only",
                            params={"action": label("task_action", action)})
    elif principal.role not in actors:
        raise Forbidden("{role} may not {action} a task", code="task.action_forbidden",
                        params={"role": principal.role_label,
                                "action": label("task_action", action)})
    if action in OWN_DEPARTMENT_ONLY and principal.department_id != department_id:
        raise Forbidden("only the staff of the task's department may {action} it",
                        code="task.other_department",
                        params={"action": label("task_action", action)})
    after = TASK_MOVES.get((state, action))
    if after is None:
        raise Conflict("a task that is {status} does not allow: {action}",
                       code="task.action_not_allowed",
                       params={"status": label("task_status", state),
                               "action": label("task_action", action)})
    return Move(str(state), str(after), str(action))


def demand_state(task_states: list[TaskState], current: DemandState) -> DemandState:
    """The demand's state implied by its live tasks (cancelled ones do not count)."""
    if current in (DemandState.RECEIVED, DemandState.CLOSED):
        return current
    live = [s for s in task_states if s != TaskState.CANCELLED]
    if not live:
        return DemandState.TRIAGED
    if all(s == TaskState.COMPLETED for s in live):
        return DemandState.AWAITING_RATING
    if any(s in (TaskState.ACCEPTED, TaskState.COMPLETED) for s in live):
        return DemandState.IN_PROGRESS
    return DemandState.TRIAGED


SATISFIED_THRESHOLD = 3  # each of efficiency, attitude, quality rated 1-5


def is_satisfied(efficiency: int, attitude: int, quality: int) -> bool:
    """满意: no dimension below 3 (基本满意 or better)."""
    return min(efficiency, attitude, quality) >= SATISFIED_THRESHOLD


REOPENS_BEFORE_ESCALATION = 2  # 多次未办结


def escalates_on_reopen(reopen_count: int) -> bool:
    return reopen_count >= REOPENS_BEFORE_ESCALATION
