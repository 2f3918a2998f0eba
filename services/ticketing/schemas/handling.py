"""Ticketing's contract for handling (``api/handling.py``): triage, tasks, coordination, notes,
extensions, completion.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import (
    Id,
    JsonBoolean,
    LocalDateTime,
    Text,
    WholeNumber,
)
from common.pagination import PageQuery, page_schema
from services.ticketing.schemas.base import (
    DIFFICULTIES,
    TASK_STATES,
    PendingDeadlineSchema,
    _name,
)

VISIBILITIES = ("public", "internal")


# --- the lifecycle: triage, tasks, coordination, handling, rating, closure -----------------

class TriageAssignmentSchema(Schema):
    department_id = Text(required=True, validate=validate.Length(1, 40))
    opinion = fields.String(validate=validate.Length(0, 2000), load_default=None,
                            metadata={"description": "拟办意见 for this department"})
    handling_workdays = WholeNumber(validate=validate.Range(1, 250),
                                       metadata={"description": "overrides the table"})


class TriageSchema(Schema):
    """分理: category, departments (one task each: 分解任务), opinion, difficulty."""

    category = Text(required=True, validate=validate.Length(1, 50))
    difficulty = fields.String(load_default="normal", validate=validate.OneOf(DIFFICULTIES))
    proposed_opinion = fields.String(required=True, validate=validate.Length(1, 2000))
    departments = fields.List(fields.Nested(TriageAssignmentSchema),
                              validate=validate.Length(1, 10),
                              metadata={"description": "defaults to the category's department"})


class ReportLinkSchema(Schema):
    """An attachment of a written report: a link to a file kept elsewhere."""

    name = Text(required=True, validate=validate.Length(1, 200))
    url = fields.Url(required=True, schemes={"https", "http"})


class TaskSchema(Schema):
    id = fields.String(required=True)
    demand_id = fields.String(required=True)
    department_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATES))
    opinion = fields.String(allow_none=True)
    difficulty = fields.String(required=True, metadata={"x-dictionary": "difficulty"})
    handling_workdays = fields.Integer(required=True)
    accept_due_at = LocalDateTime(allow_none=True)
    accept_due_provisional = fields.Boolean(required=True, metadata={
        "description": "the acceptance deadline is provisional (暂定)"})
    due_at = LocalDateTime(allow_none=True, metadata={"description": "办理时限"})
    due_provisional = fields.Boolean(required=True)
    accepted_at = LocalDateTime(allow_none=True)
    returned_reason = fields.String(allow_none=True)
    result = fields.String(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)
    reopen_count = fields.Integer(required=True)
    escalation_level = fields.Integer(required=True, metadata={"x-dictionary": "escalation_level"})
    internal_report = fields.String(allow_none=True, metadata={
        "description": "书面报告 (staff only; null for the enterprise)"})
    report_attachments = fields.List(fields.Nested(ReportLinkSchema), allow_none=True)
    report_status = fields.String(allow_none=True, metadata={"x-dictionary": "report_status"})
    report_filed_at = LocalDateTime(allow_none=True)
    report_return_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    demand_number = fields.String(metadata={"description": "the demand's 诉求编号 (lists and "
                                            "single tasks)"})
    deadlines = fields.List(fields.Nested(PendingDeadlineSchema), metadata={
        "description": "the task's pending deadlines (acceptance, handling, reminders, "
                       "escalation rungs), each with its provisional flag; single reads only"})
    demand_title = fields.String(metadata={"description": "the demand's title"})
    department_name = _name("the department's name")
    accepted_by_name = _name("who accepted it")


TaskPageSchema = page_schema(TaskSchema, "TaskPage")


class TaskQuerySchema(PageQuery):
    status = fields.String(validate=validate.OneOf(TASK_STATES))
    department_id = fields.String()
    demand_id = Id()
    overdue = fields.Boolean()
    due_soon = fields.Boolean(metadata={"description": "即将到期: being handled, the handling "
                                        "deadline within the next 48 hours and not yet passed"})
    escalated = fields.Boolean(metadata={"description": "已升级 (督办): escalated at least once"})


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class ReassignSchema(Schema):
    """Coordination (经济发展部/科技创新部 with 党群工作部) names the handling department."""

    department_id = Text(required=True, validate=validate.Length(1, 40))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class CompletionSchema(Schema):
    result = fields.String(required=True, validate=validate.Length(1, 5000),
                           metadata={"description": "办理结果"})


class NoteCreateSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(1, 5000))
    visibility = fields.String(load_default="public", validate=validate.OneOf(VISIBILITIES))


class NoteSchema(Schema):
    id = fields.String(required=True)
    task_id = fields.String(allow_none=True)
    department_id = fields.String(allow_none=True)
    visibility = fields.String(required=True, metadata={"x-dictionary": "note_visibility"})
    body = fields.String(required=True)
    author_role = fields.String(required=True, metadata={"x-dictionary": "actor_role"})
    created_at = LocalDateTime(required=True)


class ExtensionCreateSchema(Schema):
    workdays = WholeNumber(required=True, validate=validate.Range(1, 60))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class ExtensionDecisionSchema(Schema):
    approve = JsonBoolean(required=True)
    reason = fields.String(validate=validate.Length(0, 2000), load_default=None)


EXTENSION_STATES = ("pending", "approved", "rejected")


class ExtensionSchema(Schema):
    id = fields.String(required=True)
    task_id = fields.String(required=True)
    workdays = fields.Integer(required=True)
    reason = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(EXTENSION_STATES))
    requested_at = LocalDateTime(required=True)
    decided_at = LocalDateTime(allow_none=True)
    new_due_at = LocalDateTime(allow_none=True)


class ExtensionItemSchema(ExtensionSchema):
    """延期申请 in a list: with its task's department, deadline and demand."""

    department_id = fields.String(required=True)
    demand_id = fields.String(required=True)
    demand_number = fields.String(required=True)
    demand_title = fields.String(required=True)
    due_at = LocalDateTime(allow_none=True, metadata={"description": "the task's current "
                                                      "handling deadline (办理时限)"})


class ExtensionQuerySchema(PageQuery):
    status = fields.String(validate=validate.OneOf(EXTENSION_STATES))


ExtensionPageSchema = page_schema(ExtensionItemSchema, "ExtensionPage")
