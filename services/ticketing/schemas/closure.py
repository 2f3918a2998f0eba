"""Ticketing's contract for rating and closure (``api/closure.py``): ratings, dissatisfied demands,
the written report, timelines and the ledger (台账) with its views.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.fields import (
    Id,
    LocalDateTime,
    Text,
    WholeNumber,
)
from common.pagination import page_query, page_schema, total_capped
from services.ticketing.schemas.base import CLOSURES, DEMAND_STATES, TASK_STATES, _name
from services.ticketing.schemas.handling import ReportLinkSchema, TaskSchema
from services.ticketing.schemas.intake import DemandSchema, SearchFilterSchema


def _names(description: str) -> fields.List:
    return fields.List(fields.String(), metadata={"description": description})


#: orders of the ledger lists: the best match of ``q`` first, or each list's date order
LEDGER_SORTS = ("relevance", "date")


class RatingCreateSchema(Schema):
    """评价: efficiency, attitude and result quality, 1 (very dissatisfied) to 5."""

    efficiency = WholeNumber(required=True, validate=validate.Range(1, 5))
    attitude = WholeNumber(required=True, validate=validate.Range(1, 5))
    quality = WholeNumber(required=True, validate=validate.Range(1, 5))
    comment = fields.String(validate=validate.Length(0, 2000), load_default=None)


class RatingSchema(Schema):
    round = fields.Integer(required=True)
    efficiency = fields.Integer(required=True)
    attitude = fields.Integer(required=True)
    quality = fields.Integer(required=True)
    comment = fields.String(allow_none=True)
    satisfied = fields.Boolean(required=True)
    created_at = LocalDateTime(required=True)


class DissatisfiedResolutionSchema(Schema):
    """After a dissatisfied rating: re-handle (reopen) or close internally (内部销号)."""

    action = fields.String(required=True, validate=validate.OneOf(
        ("reopen", "agree_report", "return_report", "close_internally")))
    task_id = fields.String(metadata={"description": "the task to reopen; for agree_report and "
                                      "return_report the report's task (default: every filed)"})
    report = fields.String(validate=validate.Length(1, 10_000),
                           metadata={"description": "书面汇报材料, for the one-step internal "
                                     "closure (close_internally)"})
    reason = fields.String(validate=validate.Length(1, 2000),
                           metadata={"description": "why the report goes back (return_report)"})


class InternalReportSchema(Schema):
    """书面报告 of the handling department on its task of a dissatisfied demand."""

    text = Text(required=True, validate=validate.Length(1, 10_000))
    attachments = fields.List(fields.Nested(ReportLinkSchema), load_default=list,
                              validate=validate.Length(0, 10))


class TimelineEntrySchema(Schema):
    at = LocalDateTime(required=True)
    kind = fields.String(required=True, metadata={"x-dictionary": "ledger_action"})
    state = fields.String(allow_none=True, metadata={"x-dictionary": "ledger_status"})
    department_id = fields.String(allow_none=True)
    text = fields.String(allow_none=True)
    deadline = LocalDateTime(allow_none=True)
    deadline_provisional = fields.Boolean(metadata={
        "description": "the deadline is provisional (暂定)"})


class TimelineSchema(Schema):
    """What the enterprise sees of its demand: states, departments, deadlines, public notes."""

    demand = fields.Nested(DemandSchema, required=True)
    tasks = fields.List(fields.Nested(TaskSchema), required=True)
    entries = fields.List(fields.Nested(TimelineEntrySchema), required=True)


class LedgerEntrySchema(Schema):
    id = fields.Integer(required=True)
    demand_id = fields.String(required=True)
    task_id = fields.String(allow_none=True)
    department_id = fields.String(allow_none=True)
    action = fields.String(required=True)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor = fields.String(required=True)
    actor_role = fields.String(required=True)
    reason = fields.String(allow_none=True)
    channel = fields.String(allow_none=True, metadata={"x-dictionary": "channel"})
    at = LocalDateTime(required=True)
    actor_name = _name("the person's name (null for the platform or an unknown id)")
    department_name = _name("the department's name")


LedgerPageSchema = page_schema(LedgerEntrySchema, "LedgerPage")


class LedgerQuerySchema(page_query(per_page=50, max_per_page=500)):
    demand_id = Id()
    department_id = fields.String()
    action = fields.String()
    since = LocalDateTime()
    until = LocalDateTime()


# --- ledger views (台账: 问题清单, 任务清单, 落实清单) and the enterprise's timeline -----------

class TimelineItemSchema(TimelineEntrySchema):
    """One step of the timeline; ``actor_role`` names who acted by role, never by id."""

    actor_role = fields.String(allow_none=True,
                               metadata={"description": "enterprise, grid_worker, liaison, "
                                         "coordinator, service (the platform)..."})
    department_name = _name("the department's name")


class DemandTimelineSchema(Schema):
    """What the enterprise sees of its demand: states, departments, deadlines, public notes."""

    demand = fields.Nested(DemandSchema, required=True)
    tasks = fields.List(fields.Nested(TaskSchema), required=True)
    ratings = fields.List(fields.Nested(RatingSchema), required=True)
    entries = fields.List(fields.Nested(TimelineItemSchema), required=True)


class RatedSchema(Schema):
    """The answer to a rating: the rating and the demand after it (closed if satisfied)."""

    rating = fields.Nested(RatingSchema, required=True)
    demand = fields.Nested(DemandSchema, required=True)


LEDGER_VIEWS = ("problems", "tasks", "done")


class LedgerFilterSchema(SearchFilterSchema):
    """Filters of the three ledger lists (and their export)."""

    state = fields.String(validate=validate.OneOf(DEMAND_STATES + TASK_STATES),
                          metadata={"description": "the demand's state (problems, done) or "
                                    "the task's (tasks)"})
    closure = fields.String(validate=validate.OneOf(CLOSURES),
                            metadata={"description": "done: how it was closed"})
    awaiting_resolution = fields.Boolean(
        metadata={"description": "problems: rated dissatisfied, waiting for a coordinator"})
    sort = fields.String(validate=validate.OneOf(LEDGER_SORTS), metadata={
        "description": "relevance (the default with q) or date (the default without: "
        "problems newest first, tasks by handling deadline, done by closure, newest first)"})


class LedgerViewQuerySchema(LedgerFilterSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))


class ProblemItemSchema(Schema):
    """问题清单: one demand."""

    id = fields.String(required=True)
    number = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(allow_none=True)
    channel = fields.String(required=True, metadata={"x-dictionary": "channel"})
    urgency = fields.String(required=True, metadata={"x-dictionary": "urgency"})
    status = fields.String(required=True, metadata={"x-dictionary": "demand_status"})
    received_at = LocalDateTime(required=True)
    triage_due_at = LocalDateTime(required=True)
    triaged_at = LocalDateTime(allow_none=True)
    departments = fields.List(fields.String(), required=True)
    closure = fields.String(allow_none=True, metadata={"x-dictionary": "closure"})
    closed_at = LocalDateTime(allow_none=True)
    awaiting_resolution = fields.Boolean(required=True,
                                         metadata={"description": "rated dissatisfied"})
    grid_id = fields.String(allow_none=True, metadata={"description": "the demand's grid"})
    enterprise_name = _name("the enterprise's name")
    department_names = _names("the departments' names, in the order of the ids")
    grid_name = _name("the grid's name")


class TaskItemSchema(Schema):
    """任务清单: one task with its demand's number, title and category."""

    id = fields.String(required=True)
    demand_id = fields.String(required=True)
    number = fields.String(required=True)
    enterprise_id = fields.String(required=True, metadata={"description": "the demand's"})
    title = fields.String(required=True)
    category = fields.String(allow_none=True)
    received_at = LocalDateTime(required=True)
    department_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"x-dictionary": "task_status"})
    accept_due_at = LocalDateTime(allow_none=True)
    accept_due_provisional = fields.Boolean(required=True)
    due_at = LocalDateTime(allow_none=True)
    due_provisional = fields.Boolean(required=True)
    accepted_at = LocalDateTime(allow_none=True)
    accepted_by = fields.String(allow_none=True, metadata={
        "description": "who accepted it (their name: accepted_by_name)"})
    completed_at = LocalDateTime(allow_none=True)
    reopen_count = fields.Integer(required=True)
    escalation_level = fields.Integer(required=True, metadata={"x-dictionary": "escalation_level"})
    overdue = fields.Boolean(required=True, metadata={
        "description": "open past its handling deadline, or completed after it"})
    department_name = _name("the department's name")
    accepted_by_name = _name("who accepted it")
    enterprise_name = _name("the enterprise's name")


class DoneItemSchema(Schema):
    """落实清单: one closed demand with how it was closed and its ratings."""

    id = fields.String(required=True)
    number = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(allow_none=True)
    departments = fields.List(fields.String(), required=True)
    received_at = LocalDateTime(required=True)
    completed_at = LocalDateTime(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    closure = fields.String(allow_none=True)
    satisfied = fields.Boolean(allow_none=True,
                               metadata={"description": "the last rating; null if unrated"})
    ratings = fields.List(fields.Nested(RatingSchema), required=True)
    enterprise_name = _name("the enterprise's name")
    department_names = _names("the departments' names, in the order of the ids")


ProblemPageSchema = page_schema(ProblemItemSchema, "ProblemPageSchema",
                                total_capped=total_capped())
TaskItemPageSchema = page_schema(TaskItemSchema, "TaskItemPageSchema",
                                 total_capped=total_capped())
DonePageSchema = page_schema(DoneItemSchema, "DonePageSchema", total_capped=total_capped())
