"""RPC entrypoints of ticketing: triage (分理), acceptance (受理确认), coordination (协调),
handling (督办: notes, extensions) and completion (办结). The rules are in
:mod:`services.ticketing.handling`; here only input, remote look-ups and the transaction."""

from __future__ import annotations

from typing import Any

from common import concurrency, remote
from common.auth import Role
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.ticketing import handling, sla
from services.ticketing.api import lookup
from services.ticketing.calendar_years import CalendarCache
from services.ticketing.models import Demand, Task
from services.ticketing.schemas import (
    CompletionSchema,
    DemandSchema,
    ExtensionCreateSchema,
    ExtensionDecisionSchema,
    ExtensionItemSchema,
    ExtensionQuerySchema,
    ExtensionSchema,
    NoteCreateSchema,
    NoteSchema,
    PendingDeadlineSchema,
    ReasonSchema,
    ReassignSchema,
    TaskQuerySchema,
    TaskSchema,
    TriageSchema,
)

task_schema = TaskSchema()
PAGE_ONLY = ("page", "per_page")


def _with_demands(session: Any, tasks: list[Task]) -> list[dict[str, Any]]:
    """The tasks as the API shows them, each with its demand's number and title."""
    facts = handling.demand_facts(session, tasks)
    items = task_schema.dump(tasks, many=True)
    for item in items:
        number, title = facts.get(item["demand_id"], (None, None))
        if number is not None:
            item["demand_number"], item["demand_title"] = number, title
    return items


class HandlingApi:
    """Expects ``self.db``, ``self.caller``, ``self.calendar`` and ``self.enterprise`` (an
    ``RpcProxy("enterprise")``) from the service class."""

    db: WorkerDatabase
    caller: CallerContext
    calendar: CalendarCache
    enterprise: Any

    def _department_ids(self) -> dict[str, str]:
        """Departments (部门, 派驻机构) known to the enterprise service, asked as the caller:
        id → name (an error names a department by its name)."""
        return {d["id"]: d["name"] for d in remote.call(self.enterprise.list_departments)}

    # ------------------------------------------------------------------ 分理

    @rpc
    def triage_demand(self, demand_id: str, payload: dict[str, Any],
                      expected_version: Any = None) -> dict[str, Any]:
        """分理 (coordinators, admins): category, opinion, departments → one task each."""
        principal = self.caller.principal.require(*handling.TRIAGERS)
        data = load(TriageSchema(), payload)
        expected = concurrency.expected_version(expected_version)
        table = remote.call(self.enterprise.category_table)
        departments = self._department_ids()
        with self.db.transaction() as session:
            calendar = self.calendar.get(session, lock=True)
            concurrency.expect_version(session, Demand, demand_id, expected, "demand")
            demand, tasks = handling.triage(
                session, principal, demand_id, data, calendar, category_table=table,
                department_ids=departments, call_id=self.caller.call_id)
            return {"demand": DemandSchema().dump(demand),
                    "tasks": task_schema.dump(tasks, many=True)}

    # ------------------------------------------------------------------ 受理确认

    @rpc
    def accept_task(self, task_id: str, expected_version: Any = None) -> dict[str, Any]:
        """受理确认 by the liaison of the task's department."""
        principal = self.caller.principal
        expected = concurrency.expected_version(expected_version)
        with self.db.transaction() as session:
            calendar = self.calendar.get(session, lock=True)
            concurrency.expect_version(session, Task, task_id, expected, "task")
            task = handling.accept(session, principal, task_id, calendar,
                                   call_id=self.caller.call_id)
            return task_schema.dump(task)

    @rpc
    def return_task(self, task_id: str, payload: dict[str, Any],
                    expected_version: Any = None) -> dict[str, Any]:
        """The liaison returns the task with a reason: it goes to coordination (待协调)."""
        principal = self.caller.principal
        data = load(ReasonSchema(), payload)
        expected = concurrency.expected_version(expected_version)
        with self.db.transaction() as session:
            calendar = self.calendar.get(session)
            concurrency.expect_version(session, Task, task_id, expected, "task")
            task = handling.return_task(session, principal, task_id, data["reason"], calendar,
                                        call_id=self.caller.call_id)
            return task_schema.dump(task)

    # ------------------------------------------------------------------ 协调

    @rpc
    def list_coordination(self, query: dict[str, Any]) -> dict[str, Any]:
        """The coordination queue (coordinators, leaders, admins)."""
        principal = self.caller.principal.require(*handling.READ_ALL)
        filters = load(TaskQuerySchema(only=PAGE_ONLY), query)
        with self.db.transaction() as session:
            rows, total = handling.list_coordination(session, principal, filters["page"],
                                                     filters["per_page"])
            items = _with_demands(session, rows)
        return {"items": lookup.named(self, items), "total": total,
                "page": filters["page"], "per_page": filters["per_page"]}

    @rpc
    def reassign_task(self, task_id: str, payload: dict[str, Any],
                      expected_version: Any = None) -> dict[str, Any]:
        """A coordinator names the handling department (明确承办部门)."""
        principal = self.caller.principal.require(Role.COORDINATOR, Role.ADMIN)
        data = load(ReassignSchema(), payload)
        expected = concurrency.expected_version(expected_version)
        departments = self._department_ids()
        with self.db.transaction() as session:
            calendar = self.calendar.get(session, lock=True)
            concurrency.expect_version(session, Task, task_id, expected, "task")
            task = handling.reassign(session, principal, task_id, data, calendar,
                                     department_ids=departments, call_id=self.caller.call_id)
            return task_schema.dump(task)

    # ------------------------------------------------------------------ 督办

    @rpc
    def add_task_note(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        principal = self.caller.principal
        data = load(NoteCreateSchema(), payload)
        with self.db.transaction() as session:
            note = handling.add_note(session, principal, task_id, data, self.caller.call_id)
            return NoteSchema().dump(note)

    @rpc
    def list_task_notes(self, task_id: str) -> dict[str, Any]:
        principal = self.caller.principal
        with self.db.transaction() as session:
            notes = handling.list_notes(session, principal, task_id)
            return {"items": NoteSchema(many=True).dump(notes)}

    @rpc
    def request_extension(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """延期申请 by the handling department."""
        principal = self.caller.principal
        data = load(ExtensionCreateSchema(), payload)
        with self.db.transaction() as session:
            extension = handling.request_extension(session, principal, task_id, data,
                                                   self.caller.call_id)
            return ExtensionSchema().dump(extension)

    @rpc
    def decide_extension(self, extension_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A coordinator approves or rejects an extension (延期)."""
        principal = self.caller.principal.require(Role.COORDINATOR, Role.ADMIN)
        data = load(ExtensionDecisionSchema(), payload)
        with self.db.transaction() as session:
            calendar = self.calendar.get(session, lock=True)
            extension = handling.decide_extension(session, principal, extension_id, data,
                                                  calendar, call_id=self.caller.call_id)
            return ExtensionSchema().dump(extension)

    # ------------------------------------------------------------------ 办结

    @rpc
    def complete_task(self, task_id: str, payload: dict[str, Any],
                      expected_version: Any = None) -> dict[str, Any]:
        """办理结果反馈 by the department's liaison or head."""
        principal = self.caller.principal
        data = load(CompletionSchema(), payload)
        expected = concurrency.expected_version(expected_version)
        with self.db.transaction() as session:
            calendar = self.calendar.get(session, lock=True)
            concurrency.expect_version(session, Task, task_id, expected, "task")
            task = handling.complete(session, principal, task_id, data["result"], calendar,
                                     call_id=self.caller.call_id)
            return task_schema.dump(task)

    # ------------------------------------------------------------------ reading

    @rpc
    def list_tasks(self, query: dict[str, Any]) -> dict[str, Any]:
        principal = self.caller.principal
        filters = load(TaskQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = handling.list_tasks(session, principal, filters)
            items = _with_demands(session, rows)
        return {"items": lookup.named(self, items), "total": total,
                "page": filters["page"], "per_page": filters["per_page"]}

    @rpc
    def get_task(self, task_id: str) -> dict[str, Any]:
        principal = self.caller.principal
        with self.db.transaction() as session:
            task = handling.get_task(session, principal, task_id)
            items = _with_demands(session, [task])
            items[0]["deadlines"] = PendingDeadlineSchema(many=True).dump(
                sla.pending(session, task.id))
        return lookup.named(self, items)[0]

    @rpc
    def list_extensions(self, query: dict[str, Any]) -> dict[str, Any]:
        """延期申请: all for coordinators, leaders and admins; the department's for its staff."""
        principal = self.caller.principal
        filters = load(ExtensionQuerySchema(), query)
        with self.db.transaction() as session:
            rows, total = handling.list_extensions(session, principal, filters)
            fields = ExtensionSchema().fields
            items = [{**{name: getattr(extension, name) for name in fields},
                      "department_id": task.department_id,
                      "demand_id": demand.id, "demand_number": demand.number,
                      "demand_title": demand.title, "due_at": task.due_at}
                     for extension, task, demand in rows]
            return {"items": ExtensionItemSchema(many=True).dump(items), "total": total,
                    "page": filters["page"], "per_page": filters["per_page"]}
