"""分理, 受理确认, 协调, 督办 and 办结: the demand's tasks from triage to completion.

Plain functions over a SQLAlchemy session (no broker, no HTTP): the RPC mixin
(:mod:`services.ticketing.api.handling`) asks the enterprise service for the category table and
the departments first, then calls these inside one transaction.

* **Triage (分理)**: a coordinator sets the category, difficulty and proposed opinion (拟办意见)
  of a ``received`` demand and splits it into one task per department (分解任务). Each task must
  be accepted by the end of the next working day (受理时限, ``acceptance`` deadline).
* **Acceptance (受理确认)**: the department's liaison (联络员) accepts; the handling deadline
  (办理时限) starts, with ``reminder`` deadlines before it. The liaison may return the task,
  or the SLA sweep times it out (:func:`time_out_acceptance`): either way it waits in the
  coordination queue (待协调) until 经济发展部、科技创新部会同党群部 name the department
  (:func:`reassign`).
* **Handling (督办)**: progress notes (public to the enterprise, or internal to staff), one
  pending extension request (延期) at a time, decided by a coordinator.
* **Completion (办结)**: the department reports the result; when every live task is done the
  demand awaits the enterprise's rating (待评价), which :mod:`services.ticketing.closure` handles.

Locking: every change of a task locks the pending deadlines of the demand and the task, then
the demand row, then the task row (``SELECT ... FOR UPDATE``), always in that order (the SLA
sweep's order too: it claims deadlines first), so two concurrent accepts of one task are
serialised (the second sees ``accepted`` and gets Conflict) and two tasks completed at once
both see each other when the demand state is recomputed.

Every transition writes the ledger (台账) and an event through the outbox, and bumps
``version``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import Principal, Role, service_principal
from common.calendar import SHANGHAI, WorkCalendar
from common.calendar import Deadline as Due
from common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    field_error,
    invalid_fields,
)
from common.i18n import label
from common.pagination import paginate
from services.ticketing import closure, events, ledger, search, sla
from services.ticketing.models import Deadline, Demand, Extension, Note, Task
from services.ticketing.workflow import (
    COORDINATORS,
    DEPARTMENT_STAFF,
    DemandState,
    TaskAction,
    TaskState,
    demand_state,
    task_transition,
)

#: who triages (分理) and decides extensions and coordination: 平台统筹 and admins
TRIAGERS = COORDINATORS
#: who reads every task: coordinators, leaders (分管领导 / 领导小组) and admins
READ_ALL = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
#: grid roles read the tasks of demands in their grids
GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
#: a task's handling deadline ends at this hour (local) of its last working day
END_OF_DAY_HOUR = 18
#: deadlines a completed task no longer needs
HANDLING_KINDS = ("acceptance", "handling", "reminder", "escalation")

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
#: 即将到期: a task being handled whose deadline falls within this time
DUE_SOON = timedelta(hours=48)


# --------------------------------------------------------------------------- helpers


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _parse_id(value: str, what: str) -> str:
    """``what``: ``demand``, ``task`` or ``extension``: the caller gets its not_found."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        if what == "extension":
            raise NotFound("no such extension", code="extension.not_found") from exc
        if what == "task":
            raise NotFound("no such task", code="task.not_found") from exc
        raise NotFound("no such demand", code="demand.not_found") from exc


def _department_name(departments: Collection[str], department_id: str) -> str:
    """A department by its name when ``departments`` maps ids to names."""
    if isinstance(departments, Mapping):
        return str(departments.get(department_id) or department_id)
    return department_id


def _acceptance_due(session: Session, calendar: WorkCalendar, start: datetime) -> Due:
    """受理时限: end of the ``acceptance_workdays``-th working day after ``start``."""
    n = int(sla.settings(session)["acceptance_workdays"])
    return calendar.deadline_after_workdays(start, n, hour=END_OF_DAY_HOUR)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment else None


def _task_event(demand: Demand, task: Task, **extra: Any) -> dict[str, Any]:
    return {"demand_id": demand.id, "number": demand.number,
            "enterprise_id": demand.enterprise_id, "task_id": task.id,
            "department_id": task.department_id, "status": task.status, **extra}


def _lock_deadlines(session: Session, *subject_ids: str) -> None:
    """Lock the subjects' pending deadlines first: the SLA sweep claims deadlines, then locks
    the demand and the task; taking them in the same order here means a transition and a
    sweep wait for each other instead of deadlocking."""
    session.execute(
        select(Deadline.id)
        .where(Deadline.subject_id.in_(subject_ids), Deadline.fired_at.is_(None),
               Deadline.cancelled_at.is_(None))
        .order_by(Deadline.id)
        .with_for_update()
    ).all()


def _lock_demand(session: Session, demand_id: str) -> Demand:
    _lock_deadlines(session, demand_id)
    demand = session.get(Demand, demand_id, with_for_update=True, populate_existing=True)
    if demand is None:
        raise NotFound("no such demand", code="demand.not_found")
    return demand


def _lock_task(session: Session, task_id: str) -> tuple[Demand, Task]:
    """The task and its demand, locked in the sweep's order: pending deadlines, the demand,
    the task."""
    task_id = _parse_id(task_id, "task")
    demand_id = session.execute(
        select(Task.demand_id).where(Task.id == task_id)
    ).scalar_one_or_none()
    if demand_id is None:
        raise NotFound("no such task", code="task.not_found")
    _lock_deadlines(session, demand_id, task_id)
    demand = session.get(Demand, demand_id, with_for_update=True, populate_existing=True)
    assert demand is not None  # demands are never deleted
    task = session.get(Task, task_id, with_for_update=True, populate_existing=True)
    assert task is not None  # tasks are never deleted
    return demand, task


def _lock_readable_task(session: Session, principal: Principal, task_id: str
                        ) -> tuple[Demand, Task]:
    """:func:`_lock_task` for a caller's write: a task the caller may not read is NotFound
    (as on a read), so a write does not tell another department's task exists."""
    demand, task = _lock_task(session, task_id)
    if not can_read_task(principal, task, demand):
        raise NotFound("no such task", code="task.not_found")
    return demand, task


def is_department_staff(principal: Principal, department_id: str | None) -> bool:
    """联络员 or 部门负责人 of this department."""
    return (principal.role in DEPARTMENT_STAFF and principal.department_id is not None
            and principal.department_id == department_id)


def can_read_task(principal: Principal, task: Task, demand: Demand) -> bool:
    """Coordinators, leaders and admins read every task; department staff their department's;
    grid workers and grid leaders those of demands in their grids; enterprises none (they
    have the timeline)."""
    if principal.role in READ_ALL:
        return True
    if principal.role in DEPARTMENT_STAFF:
        return is_department_staff(principal, task.department_id)
    if principal.role in GRID_ROLES:
        return demand.grid_id is not None and demand.grid_id in principal.grid_ids
    return False


def can_read_internal(principal: Principal, note: Note) -> bool:
    """Internal notes (内部): the note's department's staff, coordinators, leaders, admins.

    A liaison never reads another department's internal notes, not even after the task moved
    to their department.
    """
    if note.visibility != "internal":
        return True
    if principal.role in READ_ALL:
        return True
    return is_department_staff(principal, note.department_id)


def _require_not_enterprise(principal: Principal) -> None:
    if principal.role in (Role.ENTERPRISE, Role.SERVICE):
        raise Forbidden("{role} reads demands through their timeline",
                        code="demand.timeline_only", params={"role": principal.role_label})


def refresh_demand(session: Session, principal: Principal, demand: Demand,
                   calendar: WorkCalendar, now: datetime, call_id: str | None = None) -> bool:
    """Recompute the demand's state from its tasks (:func:`workflow.demand_state`); record
    and publish a change. On ``awaiting_rating`` (every live task 办结) set ``completed_at``,
    and let :func:`services.ticketing.closure.on_awaiting_rating` ask for the rating
    (``rating_requested``) and plan its reminders.
    Returns whether the state changed."""
    states = [TaskState(s) for s in session.execute(
        select(Task.status).where(Task.demand_id == demand.id)
    ).scalars()]
    before = DemandState(demand.status)
    after = demand_state(states, before)
    if after == before:
        return False
    demand.status = str(after)
    demand.version += 1
    ledger.record(session, principal, demand.id, "demand_state", str(before), str(after))
    if after == DemandState.AWAITING_RATING:
        demand.completed_at = now
        # publishes rating_requested and plans the rating reminder and unrated closure
        closure.on_awaiting_rating(session, demand, calendar, now=now, call_id=call_id)
    return True


# --------------------------------------------------------------------------- 分理 triage


def triage(session: Session, principal: Principal, demand_id: str, data: Mapping[str, Any],
           calendar: WorkCalendar, *, category_table: Mapping[str, str],
           department_ids: Collection[str], now: datetime | None = None,
           call_id: str | None = None) -> tuple[Demand, list[Task]]:
    """分理: register the triage of a ``received`` demand and split it into tasks (分解任务).

    ``data`` is shaped by ``TriageSchema``. Departments default to the category's department
    (``category_table``, from the enterprise service); every department must be one of
    ``department_ids`` (422 naming ``departments``). Each task is ``assigned`` with a handling
    time (办理时限, working days) from the table unless overridden, and must be accepted by the
    end of the next working day (``acceptance`` deadline). The demand's ``triage`` deadline is
    cancelled.
    """
    principal.require(*TRIAGERS)
    now = _now(now)
    demand = _lock_demand(session, _parse_id(demand_id, "demand"))
    if demand.status != DemandState.RECEIVED:
        raise Conflict("demand {number} is {status}, not received: it was triaged already",
                       code="demand.triaged_already",
                       params={"number": demand.number,
                               "status": label("demand_status", demand.status)})
    category, difficulty = data["category"], data.get("difficulty") or "normal"
    if category not in category_table:
        raise invalid_fields({"category": [field_error(
            "category.not_found", "unknown category {category}", category=category)]},
            code="category.not_found")
    assignments = list(data.get("departments") or [])
    if not assignments:
        default = category_table.get(category)
        if default is None:
            raise invalid_fields({"departments": [field_error(
                "triage.category_without_department",
                "category {category} has no department: name one", category=category)]})
        assignments = [{"department_id": default}]
    named = [a["department_id"] for a in assignments]
    problems = [field_error("department.not_found", "unknown department {department}",
                            department=d) for d in named if d not in department_ids]
    problems += [field_error("triage.department_twice", "department {department} is named twice",
                             department=_department_name(department_ids, d))
                 for d in sorted(set(named)) if named.count(d) > 1]
    if problems:
        raise invalid_fields({"departments": problems})

    accept_due_at = _acceptance_due(session, calendar, now)
    accept_due = accept_due_at.at
    tasks: list[Task] = []
    for assignment in assignments:
        workdays = assignment.get("handling_workdays") or sla.handling_workdays(
            session, category, difficulty)
        task = Task(
            id=str(uuid.uuid4()), demand_id=demand.id,
            department_id=assignment["department_id"], status=str(TaskState.ASSIGNED),
            opinion=assignment.get("opinion") or data["proposed_opinion"],
            difficulty=difficulty, handling_workdays=int(workdays), accept_due_at=accept_due,
            accept_due_provisional=accept_due_at.provisional, due_provisional=False,
            reopen_count=0, escalation_level=0, version=1,
        )
        session.add(task)
        tasks.append(task)
    session.flush()

    before = demand.status
    demand.category = category
    demand.difficulty = difficulty
    demand.proposed_opinion = data["proposed_opinion"]
    demand.triaged_at = now
    demand.triaged_by = principal.user_id
    demand.status = str(DemandState.TRIAGED)
    demand.version += 1
    sla.cancel(session, demand.id, ["triage"])
    ledger.record(session, principal, demand.id, "triage", before, demand.status,
                  reason=demand.proposed_opinion)
    for task in tasks:
        sla.schedule(session, "acceptance", task.id, accept_due, department_id=task.department_id,
                     provisional=accept_due_at.provisional)
        ledger.record(session, principal, demand.id, "assign", None, task.status,
                      task_id=task.id, department_id=task.department_id, reason=task.opinion)
    events.publish(session, "demand_triaged", {
        "demand_id": demand.id, "number": demand.number, "enterprise_id": demand.enterprise_id,
        "category": category, "difficulty": difficulty,
        "departments": [t.department_id for t in tasks], "task_ids": [t.id for t in tasks],
        "triaged_at": _iso(now), "accept_due_at": _iso(accept_due),
    }, call_id)
    for task in tasks:
        events.publish(session, "task_assigned", _task_event(
            demand, task, accept_due_at=_iso(accept_due),
            handling_workdays=task.handling_workdays), call_id)
    session.flush()
    return demand, tasks


# --------------------------------------------------------------------------- 受理确认 acceptance


def accept(session: Session, principal: Principal, task_id: str, calendar: WorkCalendar,
           now: datetime | None = None, call_id: str | None = None) -> Task:
    """受理确认 by the liaison of the task's department: the handling deadline (办理时限) runs
    from now, ``handling`` (level 1 escalation) and ``reminder`` deadlines are scheduled.
    The second of two concurrent accepts waits on the row lock, then gets Conflict."""
    now = _now(now)
    demand, task = _lock_readable_task(session, principal, task_id)
    move = task_transition(principal, TaskState(task.status), TaskAction.ACCEPT,
                           task.department_id)
    due = calendar.deadline_after_workdays(now, task.handling_workdays, hour=END_OF_DAY_HOUR)
    task.status = move.after
    task.accepted_at = now
    task.accepted_by = principal.user_id
    task.due_at = due.at
    task.due_provisional = due.provisional
    task.version += 1
    sla.cancel(session, task.id, ["acceptance"])
    sla.schedule(session, "handling", task.id, due.at, department_id=task.department_id,
                 level=1, provisional=due.provisional)
    sla.schedule_reminders(session, calendar, task, now)
    ledger.record(session, principal, demand.id, move.action, move.before, move.after,
                  task_id=task.id, department_id=task.department_id)
    events.publish(session, "task_accepted", _task_event(
        demand, task, accepted_at=_iso(now), due_at=_iso(due.at),
        due_provisional=due.provisional), call_id)
    refresh_demand(session, principal, demand, calendar, now, call_id)
    session.flush()
    return task


def _to_coordination(session: Session, principal: Principal, demand: Demand, task: Task,
                     action: TaskAction, reason: str, calendar: WorkCalendar, now: datetime,
                     call_id: str | None) -> Task:
    move = task_transition(principal, TaskState(task.status), action, task.department_id)
    task.status = move.after
    task.returned_reason = reason
    task.version += 1
    sla.cancel(session, task.id, ["acceptance"])
    ledger.record(session, principal, demand.id, move.action, move.before, move.after,
                  task_id=task.id, department_id=task.department_id, reason=reason)
    events.publish(session, "task_returned", _task_event(
        demand, task, reason=reason, cause=move.action), call_id)
    refresh_demand(session, principal, demand, calendar, now, call_id)
    session.flush()
    return task


def return_task(session: Session, principal: Principal, task_id: str, reason: str,
                calendar: WorkCalendar, now: datetime | None = None,
                call_id: str | None = None) -> Task:
    """The liaison cannot accept (联络员无法受理确认): the task goes to coordination (待协调)."""
    demand, task = _lock_readable_task(session, principal, task_id)
    return _to_coordination(session, principal, demand, task, TaskAction.RETURN, reason,
                            calendar, _now(now), call_id)


TIME_OUT_REASON = "受理超时: not accepted before the acceptance deadline"


def time_out_acceptance(session: Session, task_id: str, calendar: WorkCalendar | None = None,
                        now: datetime | None = None, call_id: str | None = None) -> Task | None:
    """For the SLA sweep: an ``assigned`` task whose acceptance deadline passed goes to
    coordination (待协调). Returns None (and changes nothing) if the task has moved on
    meanwhile, e.g. it was accepted a moment before the sweep claimed the deadline."""
    demand, task = _lock_task(session, task_id)
    if task.status != TaskState.ASSIGNED:
        return None
    return _to_coordination(session, service_principal("ticketing"), demand, task,
                            TaskAction.TIME_OUT, TIME_OUT_REASON, calendar or WorkCalendar(),
                            _now(now), call_id)


# --------------------------------------------------------------------------- 协调 coordination


def _page(session: Session, query: Any, page: int, per_page: int) -> tuple[list[Task], int]:
    found = paginate(session, query, {"page": page, "per_page": per_page},
                     order_by=[Task.created_at.desc(), Task.id], scalars=True)
    return found.items, found.total


def list_coordination(session: Session, principal: Principal, page: int = 1,
                      per_page: int = 20) -> tuple[list[Task], int]:
    """The coordination queue (待协调): returned or timed-out tasks, oldest first."""
    principal.require(*READ_ALL)
    query = select(Task).where(Task.status == TaskState.COORDINATION)
    found = paginate(session, query, {"page": page, "per_page": per_page},
                     order_by=[Task.created_at, Task.id], scalars=True)
    return found.items, found.total


def reassign(session: Session, principal: Principal, task_id: str, data: Mapping[str, Any],
             calendar: WorkCalendar, *, department_ids: Collection[str],
             now: datetime | None = None, call_id: str | None = None) -> Task:
    """经济发展部、科技创新部会同党群部共同明确承办部门: a coordinator names the handling department
    of a task in coordination; it is ``assigned`` again with a new acceptance deadline."""
    now = _now(now)
    demand, task = _lock_readable_task(session, principal, task_id)
    move = task_transition(principal, TaskState(task.status), TaskAction.REASSIGN,
                           task.department_id)
    department_id = data["department_id"]
    if department_id not in department_ids:
        raise invalid_fields({"department_id": [field_error(
            "department.not_found", "unknown department {department}",
            department=department_id)]})
    siblings = session.execute(
        select(Task.id).where(Task.demand_id == demand.id, Task.id != task.id,
                              Task.department_id == department_id,
                              Task.status != TaskState.CANCELLED)
    ).first()
    if siblings is not None:
        raise Conflict("{department} already handles another task of this demand",
                       code="task.department_busy",
                       params={"department": _department_name(department_ids, department_id)})
    previous = task.department_id
    accept_due_at = _acceptance_due(session, calendar, now)
    accept_due = accept_due_at.at
    task.department_id = department_id
    task.status = move.after
    task.accept_due_at = accept_due
    task.accept_due_provisional = accept_due_at.provisional
    task.returned_reason = None
    task.version += 1
    sla.schedule(session, "acceptance", task.id, accept_due, department_id=department_id,
                 provisional=accept_due_at.provisional)
    ledger.record(session, principal, demand.id, move.action, move.before, move.after,
                  task_id=task.id, department_id=department_id,
                  reason=f"{previous} → {department_id}: {data['reason']}")
    events.publish(session, "task_reassigned", _task_event(
        demand, task, previous_department_id=previous, reason=data["reason"],
        accept_due_at=_iso(accept_due)), call_id)
    refresh_demand(session, principal, demand, calendar, now, call_id)
    session.flush()
    return task


# --------------------------------------------------------------------------- 督办 handling


def _visible_task(session: Session, principal: Principal, task_id: str) -> tuple[Demand, Task]:
    _require_not_enterprise(principal)
    task = session.get(Task, _parse_id(task_id, "task"))
    if task is None:
        raise NotFound("no such task", code="task.not_found")
    demand = session.get(Demand, task.demand_id)
    assert demand is not None
    if not can_read_task(principal, task, demand):
        raise NotFound("no such task", code="task.not_found")
    return demand, task


def add_note(session: Session, principal: Principal, task_id: str, data: Mapping[str, Any],
             call_id: str | None = None) -> Note:
    """办理进展: a note by the task's department (联络员, 部门负责人) or a coordinator.

    ``public`` notes show on the enterprise's timeline and publish ``note_added``;
    ``internal`` ones are read only by that department's staff, coordinators, leaders, admins.
    """
    demand, task = _visible_task(session, principal, task_id)
    if not (is_department_staff(principal, task.department_id)
            or principal.role in COORDINATORS):
        raise Forbidden("{role} may not write notes on this task", code="task.note_forbidden",
                        params={"role": principal.role_label})
    if task.status == TaskState.CANCELLED:
        raise Conflict("the task was cancelled", code="task.cancelled")
    note = Note(id=str(uuid.uuid4()), demand_id=demand.id, task_id=task.id,
                department_id=task.department_id, visibility=data.get("visibility", "public"),
                body=data["body"], author=principal.user_id, author_role=str(principal.role),
                created_at=datetime.now(UTC))
    session.add(note)
    if note.visibility == "public":
        events.publish(session, "note_added", _task_event(
            demand, task, note_id=note.id, body=note.body, author_role=note.author_role),
            call_id)
    session.flush()
    if note.visibility == "public":
        search.refresh(session, [demand.id])  # a public note is found by its words
    return note


def list_notes(session: Session, principal: Principal, task_id: str) -> list[Note]:
    """The task's notes the caller may read, oldest first (internal ones filtered)."""
    _demand, task = _visible_task(session, principal, task_id)
    notes = session.execute(
        select(Note).where(Note.task_id == task.id).order_by(Note.created_at, Note.id)
    ).scalars().all()
    return [n for n in notes if can_read_internal(principal, n)]


def request_extension(session: Session, principal: Principal, task_id: str,
                      data: Mapping[str, Any], call_id: str | None = None) -> Extension:
    """延期申请 by the handling department of an accepted task; one pending at a time."""
    demand, task = _lock_readable_task(session, principal, task_id)
    if not is_department_staff(principal, task.department_id):
        raise Forbidden("only the staff of the task's department may ask for more time",
                        code="extension.other_department")
    if task.status != TaskState.ACCEPTED:
        raise Conflict("a task that is {status} has no handling deadline to extend",
                       code="extension.no_deadline",
                       params={"status": label("task_status", task.status)})
    pending = session.execute(
        select(Extension.id).where(Extension.task_id == task.id, Extension.status == PENDING)
    ).first()
    if pending is not None:
        raise Conflict("an extension request of this task is pending already",
                       code="extension.pending")
    extension = Extension(id=str(uuid.uuid4()), task_id=task.id, workdays=data["workdays"],
                          reason=data["reason"], status=PENDING, requested_by=principal.user_id,
                          requested_at=datetime.now(UTC))
    session.add(extension)
    ledger.record(session, principal, demand.id, "extension_requested", task.status,
                  task.status, task_id=task.id, department_id=task.department_id,
                  reason=f"+{extension.workdays} 工作日: {extension.reason}")
    events.publish(session, "extension_requested", _task_event(
        demand, task, extension_id=extension.id, workdays=extension.workdays,
        reason=extension.reason, due_at=_iso(task.due_at)), call_id)
    session.flush()
    return extension


def decide_extension(session: Session, principal: Principal, extension_id: str,
                     data: Mapping[str, Any], calendar: WorkCalendar,
                     now: datetime | None = None, call_id: str | None = None) -> Extension:
    """A coordinator approves or rejects a pending extension (延期). Approval moves the
    handling deadline (办理时限) by the working days asked, from the current due date, and
    re-plans the ``handling`` deadline and the reminders."""
    principal.require(*COORDINATORS)
    now = _now(now)
    found = session.get(Extension, _parse_id(extension_id, "extension"))
    if found is None:
        raise NotFound("no such extension", code="extension.not_found")
    demand, task = _lock_task(session, found.task_id)
    extension = session.get(Extension, found.id, with_for_update=True, populate_existing=True)
    assert extension is not None
    if extension.status != PENDING:
        raise Conflict("the extension was {status} already", code="extension.decided",
                       params={"status": label("extension_status", extension.status)})
    approve = bool(data["approve"])
    if approve and (task.status != TaskState.ACCEPTED or task.due_at is None):
        raise Conflict("a task that is {status} has no handling deadline to extend",
                       code="extension.no_deadline",
                       params={"status": label("task_status", task.status)})
    extension.status = APPROVED if approve else REJECTED
    extension.decided_by = principal.user_id
    extension.decided_at = now
    if approve:
        assert task.due_at is not None
        hour = task.due_at.astimezone(SHANGHAI).hour
        counted = calendar.deadline_after_workdays(task.due_at, extension.workdays, hour=hour)
        # counted on from a provisional deadline, the new one is provisional too
        due = Due(counted.at, counted.provisional or bool(task.due_provisional))
        extension.new_due_at = due.at
        task.due_at = due.at
        task.due_provisional = due.provisional
        task.version += 1
        if sla.replan(session, task.id, "handling", due.at, due.provisional) == 0:
            # the deadline had fired (overdue): the approved time supersedes the escalation
            # ladder already under way; the new deadline escalates again when it passes
            sla.cancel(session, task.id, ["escalation"])
            sla.schedule(session, "handling", task.id, due.at,
                         department_id=task.department_id, level=1,
                         provisional=due.provisional)
        sla.cancel(session, task.id, ["reminder"])
        sla.schedule_reminders(session, calendar, task, now)
    ledger.record(session, principal, demand.id, f"extension_{extension.status}", task.status,
                  task.status, task_id=task.id, department_id=task.department_id,
                  reason=data.get("reason"))
    events.publish(session, "extension_decided", _task_event(
        demand, task, extension_id=extension.id, approved=approve,
        workdays=extension.workdays, reason=data.get("reason"), due_at=_iso(task.due_at)),
        call_id)
    session.flush()
    return extension


# --------------------------------------------------------------------------- 办结 completion


def complete(session: Session, principal: Principal, task_id: str, result: str,
             calendar: WorkCalendar, now: datetime | None = None,
             call_id: str | None = None) -> Task:
    """办理结果反馈: the department's liaison or head reports the result. Pending deadlines of
    the task are cancelled; when every live task is completed the demand awaits the rating."""
    now = _now(now)
    demand, task = _lock_readable_task(session, principal, task_id)
    move = task_transition(principal, TaskState(task.status), TaskAction.COMPLETE,
                           task.department_id)
    task.status = move.after
    task.result = result
    task.completed_at = now
    task.version += 1
    sla.cancel(session, task.id, HANDLING_KINDS)
    ledger.record(session, principal, demand.id, move.action, move.before, move.after,
                  task_id=task.id, department_id=task.department_id, reason=result)
    events.publish(session, "task_completed", _task_event(
        demand, task, result=result, completed_at=_iso(now), due_at=_iso(task.due_at),
        on_time=task.due_at is None or now <= task.due_at), call_id)
    refresh_demand(session, principal, demand, calendar, now, call_id)
    session.flush()
    search.refresh(session, [demand.id])  # the result is found by its words
    return task


# --------------------------------------------------------------------------- reading


def list_tasks(session: Session, principal: Principal,
               filters: Mapping[str, Any], now: datetime | None = None
               ) -> tuple[list[Task], int]:
    """Tasks the caller may read (see :func:`can_read_task`), filtered, newest first."""
    _require_not_enterprise(principal)
    query = select(Task)
    if principal.role in DEPARTMENT_STAFF:
        query = query.where(Task.department_id == (principal.department_id or ""))
    elif principal.role in GRID_ROLES:
        query = query.join(Demand, Demand.id == Task.demand_id).where(
            Demand.grid_id.in_(list(principal.grid_ids)))
    elif principal.role not in READ_ALL:
        raise Forbidden("{role} may not list tasks", code="task.list_forbidden",
                        params={"role": principal.role_label})
    if filters.get("status"):
        query = query.where(Task.status == filters["status"])
    if filters.get("department_id"):
        query = query.where(Task.department_id == filters["department_id"])
    if filters.get("demand_id"):
        try:
            demand_id = str(uuid.UUID(str(filters["demand_id"])))
        except ValueError:
            return [], 0
        query = query.where(Task.demand_id == demand_id)
    overdue = filters.get("overdue")
    if overdue is not None:
        late = (Task.status == TaskState.ACCEPTED) & (Task.due_at < _now(now))
        query = query.where(late if overdue else ~late)
    due_soon = filters.get("due_soon")
    if due_soon is not None:
        soon = ((Task.status == TaskState.ACCEPTED) & (Task.due_at >= _now(now))
                & (Task.due_at < _now(now) + DUE_SOON))
        query = query.where(soon if due_soon else ~soon)
    escalated = filters.get("escalated")
    if escalated is not None:
        query = query.where(Task.escalation_level > 0 if escalated else Task.escalation_level == 0)
    return _page(session, query, filters.get("page", 1), filters.get("per_page", 20))


def demand_facts(session: Session, tasks: Sequence[Task]) -> dict[str, tuple[str, str]]:
    """``{demand_id: (number, title)}`` of the tasks' demands, in one query: lists show a
    task by its demand's number and title."""
    ids = sorted({task.demand_id for task in tasks})
    if not ids:
        return {}
    return {row.id: (row.number, row.title) for row in session.execute(
        select(Demand.id, Demand.number, Demand.title).where(Demand.id.in_(ids)))}


def list_extensions(session: Session, principal: Principal, filters: Mapping[str, Any]
                    ) -> tuple[list[tuple[Extension, Task, Demand]], int]:
    """延期申请, oldest first: coordinators, leaders and admins see all, department staff
    their department's. Each with its task and demand."""
    query = (select(Extension, Task, Demand).join(Task, Task.id == Extension.task_id)
             .join(Demand, Demand.id == Task.demand_id))
    if principal.role in DEPARTMENT_STAFF:
        query = query.where(Task.department_id == (principal.department_id or ""))
    elif principal.role not in READ_ALL:
        raise Forbidden("role {role} may not list extension requests",
                        code="extension.list_forbidden", params={"role": principal.role})
    if filters.get("status"):
        query = query.where(Extension.status == filters["status"])
    found = paginate(session, query, {"page": filters.get("page", 1),
                                      "per_page": filters.get("per_page", 20)},
                     order_by=[Extension.requested_at, Extension.id])
    return [(row[0], row[1], row[2]) for row in found.items], found.total


def get_task(session: Session, principal: Principal, task_id: str) -> Task:
    """The task if the caller may read it; NotFound otherwise (existence does not leak)."""
    return _visible_task(session, principal, task_id)[1]
