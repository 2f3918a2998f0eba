"""``/api/v1/.../triage``, ``/api/v1/tasks``, ``/api/v1/coordination``, ``/api/v1/extensions``:
triage (分理), acceptance (受理确认), coordination (协调), handling (督办) and completion
(办结), served by the ticketing service."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from common.auth import Role
from common.pagination import page_query
from gateway.endpoints import Call, Endpoint
from services.ticketing.schemas import (
    CompletionSchema,
    DemandSchema,
    ExtensionCreateSchema,
    ExtensionDecisionSchema,
    ExtensionPageSchema,
    ExtensionQuerySchema,
    ExtensionSchema,
    InternalReportSchema,
    NoteCreateSchema,
    NoteSchema,
    ReasonSchema,
    ReassignSchema,
    TaskPageSchema,
    TaskQuerySchema,
    TaskSchema,
    TriageSchema,
)

COORDINATORS = frozenset({Role.COORDINATOR, Role.ADMIN})
READ_ALL = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
LIAISON = frozenset({Role.LIAISON})
DEPARTMENT = frozenset({Role.LIAISON, Role.DEPARTMENT_HEAD})
NOTE_WRITERS = DEPARTMENT | COORDINATORS
#: every staff role; enterprises follow their demands on the timeline instead
TASK_READERS = frozenset({Role.GRID_WORKER, Role.GRID_LEADER, Role.LIAISON,
                          Role.DEPARTMENT_HEAD, Role.COORDINATOR, Role.LEADER, Role.ADMIN})

TriageResultSchema = Schema.from_dict(
    {"demand": fields.Nested(DemandSchema, required=True),
     "tasks": fields.List(fields.Nested(TaskSchema), required=True)},
    name="TriageResult",
)
NoteListSchema = Schema.from_dict(
    {"items": fields.List(fields.Nested(NoteSchema), required=True)}, name="NoteList")
CoordinationQuerySchema = page_query(name="CoordinationQuery")


async def triage_demand(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "triage_demand", call.path_params["demand_id"],
                          await call.request.json(), **call.expected_version)


async def accept_task(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "accept_task", call.path_params["task_id"],
                          **call.expected_version)


async def return_task(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "return_task", call.path_params["task_id"],
                          await call.request.json(), **call.expected_version)


async def list_coordination(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_coordination", dict(call.request.query_params))


async def reassign_task(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "reassign_task", call.path_params["task_id"],
                          await call.request.json(), **call.expected_version)


async def add_task_note(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "add_task_note", call.path_params["task_id"],
                          await call.request.json())


async def list_task_notes(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_task_notes", call.path_params["task_id"])


async def request_extension(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "request_extension", call.path_params["task_id"],
                          await call.request.json())


async def list_extensions(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_extensions", dict(call.request.query_params))


async def decide_extension(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "decide_extension", call.path_params["extension_id"],
                          await call.request.json())


async def complete_task(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "complete_task", call.path_params["task_id"],
                          await call.request.json(), **call.expected_version)


async def file_internal_report(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "file_internal_report", call.path_params["task_id"],
                          await call.request.json())


async def list_tasks(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "list_tasks", dict(call.request.query_params))


async def get_task(call: Call) -> dict[str, Any]:
    return await call.rpc("ticketing", "get_task", call.path_params["task_id"])


ENDPOINTS = [
    Endpoint(
        "POST", "/api/v1/demands/{demand_id}/triage", triage_demand, "Triage a demand", "tasks",
        roles=COORDINATORS, body=TriageSchema, response=TriageResultSchema,
        versioned=True, errors=(404, 409, 422, 503),
        description="分理: category, difficulty, 拟办意见 and the responsible departments "
        "(default: the category's department; several → one task each, 分解任务). Each task "
        "must be accepted by its liaison by the end of the next working day.",
    ),
    Endpoint(
        "GET", "/api/v1/tasks", list_tasks, "List tasks", "tasks", roles=TASK_READERS,
        query=TaskQuerySchema, response=TaskPageSchema, errors=(422,),
        description="Liaisons and department heads see their department's tasks; grid workers "
        "and grid leaders those of demands in their grids; coordinators, leaders and admins "
        "all. Enterprises follow their demands on the timeline.",
    ),
    Endpoint(
        "GET", "/api/v1/tasks/{task_id}", get_task, "Show a task", "tasks", roles=TASK_READERS,
        response=TaskSchema, errors=(404,),
    ),
    Endpoint(
        "POST", "/api/v1/tasks/{task_id}/accept", accept_task, "Accept a task", "tasks",
        roles=LIAISON, response=TaskSchema, versioned=True, errors=(403, 404, 409),
        description="受理确认 by the liaison (联络员) of the task's department: the handling "
        "deadline (办理时限) starts. Of two concurrent accepts one wins, the other is 409.",
    ),
    Endpoint(
        "POST", "/api/v1/tasks/{task_id}/return", return_task, "Return a task", "tasks",
        roles=LIAISON, body=ReasonSchema, response=TaskSchema, versioned=True,
        errors=(403, 404, 409, 422),
        description="The liaison cannot accept it: the task waits for coordination (待协调).",
    ),
    Endpoint(
        "GET", "/api/v1/coordination", list_coordination, "List tasks awaiting coordination",
        "tasks", roles=READ_ALL, query=CoordinationQuerySchema, response=TaskPageSchema,
        errors=(422,),
        description="Returned or not accepted in time; 经济发展部、科技创新部会同党群部 name the "
        "handling department.",
    ),
    Endpoint(
        "POST", "/api/v1/tasks/{task_id}/reassign", reassign_task,
        "Name the handling department", "tasks", roles=COORDINATORS, body=ReassignSchema,
        response=TaskSchema, versioned=True, errors=(404, 409, 422, 503),
    ),
    Endpoint(
        "POST", "/api/v1/tasks/{task_id}/notes", add_task_note, "Add a progress note", "tasks",
        roles=NOTE_WRITERS, body=NoteCreateSchema, response=NoteSchema, status=201,
        errors=(403, 404, 409, 422),
        description="办理进展: public notes show on the enterprise's timeline; internal ones "
        "only to the department's staff, coordinators, leaders and admins.",
    ),
    Endpoint(
        "GET", "/api/v1/tasks/{task_id}/notes", list_task_notes, "List a task's notes", "tasks",
        roles=TASK_READERS, response=NoteListSchema, errors=(404,),
    ),
    Endpoint(
        "POST", "/api/v1/tasks/{task_id}/extensions", request_extension,
        "Ask for more time", "tasks", roles=DEPARTMENT, body=ExtensionCreateSchema,
        response=ExtensionSchema, status=201, errors=(403, 404, 409, 422),
        description="延期申请 in working days; one pending request per task.",
    ),
    Endpoint(
        "GET", "/api/v1/extensions", list_extensions, "List extension requests", "tasks",
        roles=DEPARTMENT | READ_ALL, query=ExtensionQuerySchema, response=ExtensionPageSchema,
        errors=(422,),
        description="延期申请, oldest first, each with its task's department, handling deadline "
        "and demand; `status=pending` is the coordinators' queue. Department staff see their "
        "department's requests; coordinators, leaders and admins all.",
    ),
    Endpoint(
        "POST", "/api/v1/extensions/{extension_id}/decision", decide_extension,
        "Decide an extension", "tasks", roles=COORDINATORS, body=ExtensionDecisionSchema,
        response=ExtensionSchema, errors=(404, 409, 422),
        description="Approval moves the handling deadline by the working days asked, from "
        "the current due date.",
    ),
    Endpoint(
        "POST", "/api/v1/tasks/{task_id}/complete", complete_task, "Report a task's result",
        "tasks", roles=DEPARTMENT, body=CompletionSchema, response=TaskSchema,
        versioned=True, errors=(403, 404, 409, 422),
        description="办理结果反馈; when every task of the demand is completed it awaits the "
        "enterprise's rating (待评价).",
    ),
    Endpoint(
        "POST", "/api/v1/tasks/{task_id}/report", file_internal_report,
        "File the department's written report", "tasks", roles=DEPARTMENT,
        body=InternalReportSchema, response=TaskSchema, errors=(403, 404, 409, 422),
        description="书面报告 (内部销号, step 1): on a completed task of a demand the enterprise "
        "rated dissatisfied, the department's liaison or head reports in writing (text, "
        "optional attachment links). A coordinator of the department owning the demand's grid "
        "then agrees (`POST /demands/{id}/resolution {\"action\": \"agree_report\"}`: "
        "closed internally) or returns it with a reason (`return_report`); a returned report "
        "may be filed again.",
    ),
]
