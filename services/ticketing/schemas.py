"""Ticketing's contract: what callers send (validated here) and what they get back.

The gateway imports this module for request validation and the OpenAPI document, so it holds
nothing but marshmallow schemas and the vocabularies they use.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from common.calendar import MAX_RANGE_DAYS
from common.fields import (
    Day,
    Id,
    JsonBoolean,
    JsonNumber,
    LocalDateTime,
    Pattern,
    SearchText,
    Text,
    WholeNumber,
    refuse,
)
from common.pagination import page_schema

#: 1+N intake channels (信息收集渠道)
CHANNELS = ("grid_worker", "service_window", "app", "wechat", "website", "hotline", "enterprise")
URGENCIES = ("normal", "urgent")
DEMAND_STATES = ("received", "triaged", "in_progress", "awaiting_rating", "closed")
TASK_STATES = ("assigned", "coordination", "accepted", "completed", "cancelled")
DIFFICULTIES = ("easy", "normal", "hard")
CLOSURES = ("rated", "internal", "unrated")
VISIBILITIES = ("public", "internal")
#: where the schedule of a year comes from
CALENDAR_ORIGINS = ("chinesecalendar", "loaded", "missing")
#: years an operator may load through the API or the file loader
CALENDAR_YEARS = range(2000, 2101)


def _name(description: str) -> fields.String:
    """A name shown next to an id (services/ticketing/naming.py)."""
    return fields.String(allow_none=True, metadata={"description": description})


def _names(description: str) -> fields.List:
    return fields.List(fields.String(), metadata={"description": description})


class AttachmentSchema(Schema):
    """Metadata of a file kept elsewhere (the platform stores no file bodies)."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    content_type = fields.String(required=True, validate=validate.Length(1, 100))
    size = WholeNumber(required=True, validate=validate.Range(0, 50 * 1024 * 1024))
    url = fields.Url(required=True, schemes={"https", "http"})


class DemandCreateSchema(Schema):
    """A demand (诉求) as recorded at intake."""

    enterprise_id = Id(
        metadata={"description": "Defaults to the caller's own enterprise for enterprise users"},
    )
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = Text(validate=validate.Length(1, 50), allow_none=True)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(required=True, validate=validate.Length(1, 5000))
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    attachments = fields.List(
        fields.Nested(AttachmentSchema), load_default=list, validate=validate.Length(0, 20)
    )


class DemandSchema(Schema):
    id = fields.String(required=True)
    number = fields.String(
        required=True, metadata={"description": "诉求编号, e.g. SQ20261126-00001"}
    )
    enterprise_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    category = fields.String(allow_none=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
    status = fields.String(required=True, validate=validate.OneOf(DEMAND_STATES))
    received_at = LocalDateTime(required=True)
    triage_due_at = LocalDateTime(required=True, metadata={"description": "分理时限"})
    triage_due_provisional = fields.Boolean(required=True)
    recorded_by = fields.String(required=True)
    recorded_role = fields.String(required=True)
    version = fields.Integer(required=True)
    grid_id = fields.String(allow_none=True)
    difficulty = fields.String(allow_none=True)
    proposed_opinion = fields.String(allow_none=True, metadata={"description": "拟办意见"})
    triaged_at = LocalDateTime(allow_none=True)
    closure = fields.String(allow_none=True, validate=validate.OneOf(CLOSURES),
                            metadata={"description": "rated 自动销号 | internal 内部销号 | "
                                      "unrated"})
    closed_at = LocalDateTime(allow_none=True)
    enterprise_name = _name("the enterprise's name")
    grid_name = _name("the grid's name")
    recorded_by_name = _name("who recorded it (staff readers only)")
    triaged_by_name = _name("who triaged it (staff readers only)")


class DemandPageSchema(Schema):
    items = fields.List(fields.Nested(DemandSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


#: orders of the demand list: newest first, the triage deadline first (the triage queue), or
#: the best match of ``q`` first
DEMAND_SORTS = ("-received_at", "triage_due_at", "relevance")
#: orders of the ledger lists: the best match of ``q`` first, or each list's date order
LEDGER_SORTS = ("relevance", "date")
#: a demand number, whole or its start (SQ20261126-00001, SQ20261126)
NUMBER_PATTERN = r"^[A-Za-z0-9-]{1,20}$"


def _no_range_before(data: dict[str, Any]) -> None:
    start, end = data.get("received_from"), data.get("received_to")
    if start is not None and end is not None and end < start:
        raise refuse("field.before_start", "before {field} ({day})",
                     field="received_from", day=start.isoformat(), field_name="received_to")


class SearchFilterSchema(Schema):
    """The search box and the filters every list of demands has (诉求, 问题清单, 任务清单,
    落实清单)."""

    q = SearchText(length=(1, 100), metadata={
        "description": "Keywords (关键词): Chinese-segmented full text over the title, the "
        "description, the departments' results and the public notes; every word must be "
        "there (激光切割 finds 激光精密切割). A demand number finds that demand.",
        "example": "激光切割"})
    number = Text(validate=Pattern(NUMBER_PATTERN),
                  metadata={"description": "诉求编号, whole or its start (SQ20261126)",
                            "example": "SQ20261126-00001"})
    enterprise = SearchText(length=(1, 100), metadata={
        "description": "The enterprise: a part of its name, the start of its credit code "
        "(统一社会信用代码), or its id"})
    received_from = fields.Date(metadata={"description": "收到日期 from (inclusive, +08:00)"})
    received_to = fields.Date(metadata={"description": "收到日期 to (inclusive, +08:00)"})
    category = fields.String(validate=validate.Length(1, 50))
    department_id = fields.String(validate=validate.Length(1, 40),
                                  metadata={"description": "a department with a task of it"})
    grid_id = fields.String(validate=validate.Length(1, 40),
                            metadata={"description": "the demand's grid (网格)"})
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    overdue = fields.Boolean(metadata={
        "description": "超时: a task open past its handling deadline or completed after it "
        "(the task list: that task), or the triage late"})
    escalated = fields.Boolean(metadata={
        "description": "督办: a task escalated (the task list: that task)"})

    @validates_schema
    def _check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _no_range_before(data)


class DemandListQuerySchema(SearchFilterSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))
    enterprise_id = Id()
    status = fields.String(validate=validate.OneOf(DEMAND_STATES))
    sort = fields.String(validate=validate.OneOf(DEMAND_SORTS),
                         metadata={"description": "-received_at (newest first; the default "
                                   "without q), triage_due_at (the 10:00 triage deadline "
                                   "first) or relevance (the default with q)"})


class TriageDeadlineQuerySchema(Schema):
    received_at = LocalDateTime(required=True)


class TriageDeadlineSchema(Schema):
    deadline = LocalDateTime(required=True, metadata={"description": "10:00 +08:00"})
    provisional = fields.Boolean(required=True)


def _day_list(description: str) -> fields.List:
    """A list of ``YYYY-MM-DD`` strings; the dates themselves are checked by
    ``YearSchedule.parse`` so that each error names the date."""
    return fields.List(
        fields.String(validate=validate.Length(1, 10), metadata={"format": "date"}),
        required=True,
        validate=validate.Length(0, 366),
        metadata={"description": description},
    )


class CalendarYearLoadSchema(Schema):
    """One year of the State Council holiday notice (国务院办公厅关于部分节假日安排的通知).

    Every date must lie in the year; a date may not be in both lists; a makeup working day
    (调休上班) must be a Saturday or Sunday.
    """

    year = WholeNumber(
        metadata={"description": "Optional (the file format has it); must equal the path's year"},
    )
    holidays = _day_list("Days off (放假), e.g. 2027-01-01; weekend days may be listed too")
    makeup_workdays = _day_list("调休: Saturdays or Sundays that are working days (上班)")
    source = fields.String(
        required=True,
        validate=validate.Length(1, 200),
        metadata={"description": "The notice, e.g. 国办发明电〔2026〕N号"},
    )


class CalendarYearSummarySchema(Schema):
    """Where a year's working days come from."""

    year = fields.Integer(required=True)
    origin = fields.String(
        required=True,
        validate=validate.OneOf(CALENDAR_ORIGINS),
        metadata={"description": "missing: Monday-Friday is assumed, deadlines are provisional"},
    )
    source = fields.String(allow_none=True, metadata={"description": "The notice, or the library"})
    loaded_by = fields.String(allow_none=True)
    loaded_at = LocalDateTime(allow_none=True)


class CalendarYearListSchema(Schema):
    items = fields.List(fields.Nested(CalendarYearSummarySchema), required=True)


class CalendarYearSchema(CalendarYearSummarySchema):
    """The schedule in force for a year (a loaded one wins over ``chinesecalendar``)."""

    holidays = fields.List(fields.Date(), required=True)
    makeup_workdays = fields.List(fields.Date(), required=True, metadata={"description": "调休"})


class CalendarYearLoadedSchema(CalendarYearSchema):
    demands_recomputed = fields.Integer(
        required=True,
        metadata={"description": "Demands whose triage deadline (分理时限) changed with this load"},
    )
    deadlines_replanned = fields.Integer(metadata={
        "description": "Open tasks (acceptance, handling, reminders, escalation rungs) and "
                       "demands awaiting their rating (reminder, unrated closure) whose "
                       "unfired deadlines this load re-planned; each has one "
                       "task_deadline_changed or rating_deadline_changed event and a ledger line"})


class MovedDeadlineSchema(Schema):
    """A demand whose 分理时限 a load would move."""

    demand_id = fields.String(required=True)
    number = fields.String(required=True, metadata={"description": "诉求编号"})
    received_at = LocalDateTime(required=True)
    triage_due_at = LocalDateTime(required=True, metadata={"description": "now"})
    triage_due_provisional = fields.Boolean(required=True)
    new_triage_due_at = LocalDateTime(required=True, metadata={"description": "after the load"})
    new_triage_due_provisional = fields.Boolean(required=True)


class CalendarYearPreviewSchema(Schema):
    """What loading a year would change, before it is loaded (nothing is stored)."""

    year = fields.Integer(required=True)
    source = fields.String(required=True)
    holidays = fields.List(fields.Date(), required=True)
    makeup_workdays = fields.List(fields.Date(), required=True)
    origin_now = fields.String(required=True, metadata={
        "x-dictionary": "calendar_origin",
        "description": "where the year's working days come from now"})
    holidays_added = fields.List(fields.Date(), required=True,
                                 metadata={"description": "days off the schedule in force lacks"})
    holidays_removed = fields.List(fields.Date(), required=True)
    makeup_workdays_added = fields.List(fields.Date(), required=True)
    makeup_workdays_removed = fields.List(fields.Date(), required=True)
    demands_moved = fields.Integer(required=True, metadata={
        "description": "demands whose 分理时限 the load would change"})
    moved = fields.List(fields.Nested(MovedDeadlineSchema), required=True, metadata={
        "description": "those demands, received first first (at most 500)"})


class WorkdaysQuerySchema(Schema):
    """An inclusive range of days, at most three years long."""

    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)

    @validates_schema
    def _check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is None or end is None:
            return
        if end < start:
            raise refuse("field.before_start", "before {field} ({day})", field="from",
                         day=start.isoformat(), field_name="to")
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise refuse("field.range_too_long", "the range may span at most {max} days",
                         max=MAX_RANGE_DAYS, field_name="to")


class WorkdaysSchema(Schema):
    workdays = fields.List(
        fields.Date(), required=True, metadata={"description": "工作日, 调休 weekend days included"}
    )
    provisional = fields.Boolean(
        required=True,
        metadata={"description": "Some day of the range lies in a year without data (Mon-Fri)"},
    )


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
    demand_title = fields.String(metadata={"description": "the demand's title"})
    department_name = _name("the department's name")
    accepted_by_name = _name("who accepted it")


class TaskPageSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class TaskQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))
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


class ExtensionQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))
    status = fields.String(validate=validate.OneOf(EXTENSION_STATES))


class ExtensionPageSchema(Schema):
    items = fields.List(fields.Nested(ExtensionItemSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


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


class LedgerPageSchema(Schema):
    items = fields.List(fields.Nested(LedgerEntrySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class LedgerQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))
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


class LedgerExportQuerySchema(LedgerFilterSchema):
    view = fields.String(load_default="problems", validate=validate.OneOf(LEDGER_VIEWS))


def _json_boolean(description: str) -> fields.Boolean:
    """A flag in a JSON body: true or false only (a query string's "1" or "yes" is text there,
    and 0 or 1 in JSON is a number, which the document does not allow)."""
    return fields.Boolean(truthy={True}, falsy={False}, metadata={"description": description})


class LedgerExportBodySchema(LedgerExportQuerySchema):
    """The body of ``POST /ledger/exports``: the ledger's filters as JSON."""

    overdue = _json_boolean("超时: a task open past its handling deadline or completed after it "
                            "(the task list: that task), or the triage late")
    escalated = _json_boolean("督办: a task escalated (the task list: that task)")
    awaiting_resolution = _json_boolean("problems: rated dissatisfied, waiting for a coordinator")


EXPORT_STATES = ("pending", "running", "done", "failed")


class ExportSchema(Schema):
    """导出: a ledger export built in the background, with its progress."""

    id = fields.String(required=True)
    view = fields.String(required=True, validate=validate.OneOf(LEDGER_VIEWS))
    status = fields.String(required=True, validate=validate.OneOf(EXPORT_STATES), metadata={
        "description": "pending, running, done (the file is ready) or failed"})
    progress = fields.Integer(required=True, metadata={
        "description": "0-100: the share of the list's rows written so far"})
    rows_done = fields.Integer(required=True)
    rows_total = fields.Integer(required=True, metadata={"description": "rows of the list"})
    size = fields.Integer(allow_none=True, metadata={"description": "bytes of the file"})
    file = fields.String(allow_none=True, metadata={
        "description": "where to download the file once done"})
    error = fields.String(allow_none=True)
    created_at = LocalDateTime(required=True)
    finished_at = LocalDateTime(allow_none=True)


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
    title = fields.String(required=True)
    category = fields.String(allow_none=True)
    received_at = LocalDateTime(required=True)
    department_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"x-dictionary": "task_status"})
    accept_due_at = LocalDateTime(allow_none=True)
    due_at = LocalDateTime(allow_none=True)
    due_provisional = fields.Boolean(required=True)
    accepted_at = LocalDateTime(allow_none=True)
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


ProblemPageSchema = page_schema(ProblemItemSchema, "ProblemPageSchema")
TaskItemPageSchema = page_schema(TaskItemSchema, "TaskItemPageSchema")
DonePageSchema = page_schema(DoneItemSchema, "DonePageSchema")


# --- SLA settings (时限设置): admin-editable, applied to deadlines scheduled from then on ------

#: the ``category`` of the default handling-time rows, used for any category without its own
DEFAULT_CATEGORY = "*"
#: ``version`` of a settings document (optimistic concurrency, If-Match)
SETTINGS_NOTE = ("in an answer: 1 until first changed, +1 with every change (the ETag); in a "
                 "change: the version last read, a stale one is refused (412), like If-Match")


class SlaSettingsSchema(Schema):
    """The SLA settings in working days (工作日). A PUT replaces them all."""

    acceptance_workdays = WholeNumber(
        required=True, validate=validate.Range(0, 30),
        metadata={"description": "受理确认 due at 18:00 of the n-th working day after the "
                  "assignment (default 1: the end of the next working day; 0: the same day, "
                  "or the next working day if assigned on a day off)"})
    reminder_workdays_before = fields.List(
        WholeNumber(validate=validate.Range(1, 30)),
        required=True, validate=validate.Length(0, 10),
        metadata={"description": "提醒 at 09:00 this many working days before a handling "
                  "deadline; distinct values"})
    escalate_to_leader_workdays = WholeNumber(
        required=True, validate=validate.Range(1, 60),
        metadata={"description": "level 2 (分管领导) this many working days after the "
                  "handling deadline"})
    escalate_to_group_workdays = WholeNumber(
        required=True, validate=validate.Range(1, 60),
        metadata={"description": "level 3 (领导小组) this many further working days later"})
    rating_reminder_workdays = WholeNumber(
        required=True, validate=validate.Range(1, 30),
        metadata={"description": "remind the enterprise to rate after this many working days"})
    close_unrated_workdays = WholeNumber(
        required=True, validate=validate.Range(1, 60),
        metadata={"description": "close as unrated after this many working days; more than "
                  "rating_reminder_workdays"})
    version = WholeNumber(validate=validate.Range(1), metadata={"description": SETTINGS_NOTE})

    @validates_schema
    def _check_consistency(self, data: dict[str, Any], **_kwargs: Any) -> None:
        reminders = data.get("reminder_workdays_before")
        if reminders is not None and len(set(reminders)) != len(reminders):
            raise refuse("field.not_distinct", "values must be distinct",
                         field_name="reminder_workdays_before")
        remind, close = data.get("rating_reminder_workdays"), data.get("close_unrated_workdays")
        if remind is not None and close is not None and close <= remind:
            raise refuse("sla.close_before_reminder",
                         "must be more than rating_reminder_workdays ({days})", days=remind,
                         field_name="close_unrated_workdays")


class HandlingTimeSchema(Schema):
    """办理时限 of a category and difficulty; category ``*`` is the default of every category."""

    category = fields.String(required=True, metadata={"description": "a category code or *"})
    difficulty = fields.String(required=True, validate=validate.OneOf(DIFFICULTIES))
    workdays = fields.Integer(required=True)


class HandlingTimeListSchema(Schema):
    items = fields.List(fields.Nested(HandlingTimeSchema), required=True)


class HandlingTimeUpdateSchema(Schema):
    workdays = WholeNumber(required=True, validate=validate.Range(1, 250))


class HandlingTimeKeySchema(Schema):
    """The path of a handling-time row (checked by the service)."""

    category = Text(required=True, validate=validate.Length(1, 50))
    difficulty = fields.String(required=True, validate=validate.OneOf(DIFFICULTIES))


# --- appraisal (考评), the leaders' overview (总览) and the yearly awards (评优) ------------------

#: who is appraised: 网格员, 网格, 联络员, 责任部门
APPRAISAL_SUBJECTS = ("grid_workers", "grids", "liaisons", "departments")
#: years the appraisal, vetoes and awards accept
APPRAISAL_YEARS = validate.Range(2000, 2100)
_RATE = {"description": "a share from 0 to 1 (4 decimals); null when nothing was due"}


def _rate(description: str) -> fields.Float:
    return fields.Float(allow_none=True, required=True,
                        metadata={"description": f"{description}; {_RATE['description']}"})


def _count(description: str) -> fields.Integer:
    return fields.Integer(required=True, metadata={"description": description})


class AppraisalPeriodQuerySchema(Schema):
    """A period of receipt dates (收到日期, +08:00), both days included."""

    from_ = Day(required=True, data_key="from",
                metadata={"description": "first day (YYYY-MM-DD), years 2000-2100"})
    to = Day(required=True, metadata={
        "description": f"last day (YYYY-MM-DD), years 2000-2100: not before `from`, at most "
                       f"{MAX_RANGE_DAYS} days after it (422 otherwise)"})

    @validates_schema
    def _check_period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is None or end is None:
            return
        if end < start:
            raise refuse("field.before_start", "before {field} ({day})", field="from",
                         day=start.isoformat(), field_name="to")
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise refuse("field.range_too_long", "the period may span at most {max} days",
                         max=MAX_RANGE_DAYS, field_name="to")


class AppraisalRowSchema(Schema):
    """One subject's figures for a period (definitions in docs/domain.md, 考评)."""

    subject_id = fields.String(required=True, metadata={
        "description": "the account id (grid workers, liaisons), grid id or department id"})
    name = fields.String(allow_none=True, metadata={
        "description": "the person's, grid's or department's name from the registry (null "
        "when the registry does not know the id)"})
    department_id = fields.String(allow_none=True, metadata={"description": "liaisons"})
    grid_ids = fields.List(fields.String(), required=True, metadata={
        "description": "grid workers: the grids of the demands they recorded"})
    handled = _count("the quantity scored: demands recorded (grid workers), received (grids), "
                     "tasks accepted (departments, liaisons)")
    demands = _count("demands counted")
    tasks = _count("tasks counted")
    closed = _count("demands closed (销号)")
    triage_due = _count("demands whose triage was due (triaged, or untriaged past 分理时限)")
    triage_on_time = _count("triaged by 10:00 of the next working day")
    triage_on_time_rate = _rate("分理及时率")
    acceptance_due = _count("assignments whose acceptance was due")
    accepted_on_time = _count("accepted by the acceptance deadline")
    returned = _count("returned by the liaison (退回)")
    timed_out = _count("not accepted in time (受理超时)")
    acceptance_on_time_rate = _rate("受理及时率: answered (accepted or returned) in time")
    response_rate = _rate("响应率: accepted in time")
    handling_due = _count("accepted tasks completed, or past their handling deadline")
    handling_on_time = _count("completed by the handling deadline, never breached")
    handling_on_time_rate = _rate("办理及时率")
    judged = _count("closed with the enterprise's verdict: 自动销号 or 内部销号")
    resolved = _count("closed by a satisfied rating (自动销号)")
    resolution_rate = _rate("解决率")
    ratings = _count("ratings (every round)")
    satisfied = _count("ratings with no dimension below 3 (满意 or 基本满意)")
    satisfaction_rate = _rate("满意率")
    avg_efficiency = fields.Float(allow_none=True, required=True,
                                  metadata={"description": "办理效率, 1-5"})
    avg_attitude = fields.Float(allow_none=True, required=True,
                                metadata={"description": "服务态度, 1-5"})
    avg_quality = fields.Float(allow_none=True, required=True,
                               metadata={"description": "办理结果质量, 1-5"})
    unrated = _count("closed without a rating")
    unrated_share = _rate("closed unrated / closed")
    completed_once = _count("demands (tasks, for departments and liaisons) completed at least "
                            "once")
    reopened = _count("of those, reopened after a dissatisfied rating (重新办理)")
    reopen_rate = _rate("重新办理率")


class AppraisalSchema(Schema):
    subject = fields.String(required=True, validate=validate.OneOf(APPRAISAL_SUBJECTS))
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    as_of = LocalDateTime(required=True, metadata={
        "description": "open work past its deadline is judged late at this moment"})
    items = fields.List(fields.Nested(AppraisalRowSchema), required=True)


class AppraisalYearQuerySchema(Schema):
    year = fields.Integer(required=True, validate=APPRAISAL_YEARS)
    subject = fields.String(required=True, validate=validate.OneOf(APPRAISAL_SUBJECTS))


def _weight(description: str) -> JsonNumber:
    return JsonNumber(required=True, validate=validate.Range(0, 100),
                      metadata={"description": description})


class RatioWeightsSchema(Schema):
    """Weights of which only the ratios matter: each from 0 to 100, not all 0."""

    @validates_schema
    def _not_all_zero(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if len(data) == len(self.fields) and not any(data.values()):
            raise refuse("appraisal.weights_all_zero", "at least one weight must be above 0",
                         field_name=next(iter(self.fields)))


class ScoreWeightsSchema(RatioWeightsSchema):
    """年度考核得分 weights."""

    quantity = _weight("服务数量")
    quality = _weight("服务质量: 满意率")
    difficulty = _weight("办理难度")


class AwardWeightsSchema(RatioWeightsSchema):
    """评优 weights."""

    service = _weight("the grid's yearly appraisal score")
    output_growth = _weight("growth of output value (产值)")
    tax_growth = _weight("growth of tax (税收)")


class AwardCriteriaSchema(Schema):
    count = WholeNumber(required=True, validate=validate.Range(1, 100),
                           metadata={"description": "how many grids are awarded (top N)"})
    min_service_score = JsonNumber(required=True, validate=validate.Range(0, 100),
                                     metadata={"description": "a grid below it is not awarded"})
    weights = fields.Nested(AwardWeightsSchema, required=True)


class DifficultyPointsSchema(Schema):
    """Points of a demand or task by its triage difficulty (分理难度): all three."""

    easy = JsonNumber(required=True, validate=validate.Range(0, 100))
    normal = JsonNumber(required=True, validate=validate.Range(0, 100))
    hard = JsonNumber(required=True, validate=validate.Range(0, 100))


class AppraisalSettingsSchema(Schema):
    """考评设置 (admin). A PUT replaces them all; they apply to every score computed after."""

    weights = fields.Nested(ScoreWeightsSchema, required=True)
    difficulty_points = fields.Nested(
        DifficultyPointsSchema, required=True,
        metadata={"description": "points of a demand or task by its triage difficulty "
                  "(easy, normal, hard: all three)"})
    category_points = fields.Dict(
        keys=Text(validate=validate.Length(1, 50)),
        values=JsonNumber(validate=validate.Range(0, 100)), load_default=dict,
        validate=validate.Length(max=200),
        metadata={"description": "extra points by category (诉求类别), added to the "
                  "difficulty's"})
    awards = fields.Nested(AwardCriteriaSchema, required=True)
    version = WholeNumber(validate=validate.Range(1), metadata={"description": SETTINGS_NOTE})


class YearlyRowSchema(Schema):
    """年度考核得分 of one subject."""

    subject_id = fields.String(required=True)
    name = fields.String(allow_none=True, metadata={
        "description": "the person's, grid's or department's name from the registry"})
    department_id = fields.String(allow_none=True)
    grid_ids = fields.List(fields.String(), required=True)
    handled = fields.Integer(required=True)
    satisfaction_rate = fields.Float(allow_none=True, required=True)
    avg_difficulty = fields.Float(allow_none=True, required=True,
                                  metadata={"description": "mean points of what was handled"})
    quantity_score = fields.Float(required=True, metadata={"description": "0-100"})
    quality_score = fields.Float(allow_none=True, required=True,
                                 metadata={"description": "0-100; null without ratings (its "
                                           "weight is then left out)"})
    difficulty_score = fields.Float(required=True, metadata={"description": "0-100"})
    score = fields.Float(required=True, metadata={"description": "0-100, 2 decimals; 0 if "
                                                  "vetoed"})
    vetoed = fields.Boolean(required=True, metadata={"description": "一票否决"})
    veto_reason = fields.String(allow_none=True)
    rank = fields.Integer(required=True, metadata={"description": "1 = best; ties share"})


class YearlySchema(Schema):
    subject = fields.String(required=True, validate=validate.OneOf(APPRAISAL_SUBJECTS))
    year = fields.Integer(required=True)
    weights = fields.Nested(ScoreWeightsSchema, required=True)
    items = fields.List(fields.Nested(YearlyRowSchema), required=True)


class VetoSetSchema(Schema):
    """Set or lift the 一票否决 of a subject for a year (廉洁自律考核)."""

    subject = fields.String(required=True, validate=validate.OneOf(APPRAISAL_SUBJECTS))
    subject_id = Text(required=True, validate=validate.Length(1, 64))
    year = WholeNumber(required=True, validate=APPRAISAL_YEARS)
    vetoed = JsonBoolean(required=True, metadata={"description": "false lifts it"})
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class VetoSchema(Schema):
    subject = fields.String(required=True)
    subject_id = fields.String(required=True)
    year = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    reason = fields.String(required=True)
    recorded_by = fields.String(required=True)
    recorded_at = LocalDateTime(required=True)
    lifted_by = fields.String(allow_none=True)
    lifted_at = LocalDateTime(allow_none=True)
    lift_reason = fields.String(allow_none=True)


class VetoListSchema(Schema):
    items = fields.List(fields.Nested(VetoSchema), required=True)


class VetoQuerySchema(Schema):
    year = fields.Integer(validate=APPRAISAL_YEARS)


class OverviewTotalsSchema(Schema):
    received = _count("demands received in the period")
    closed = _count("demands closed in the period (whenever received)")
    open = _count("demands received in the period and not closed")
    overdue = _count("demands received in the period with a task late: completed after its "
                     "handling deadline, open past it, or breached")
    overdue_open = _count("of those, with a task open past its handling deadline now")
    triage_late = _count("demands received in the period triaged late or not yet triaged past "
                         "their 分理时限")


class OverviewCategorySchema(Schema):
    category = fields.String(allow_none=True, metadata={"description": "null: not triaged"})
    received = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class OverviewDepartmentSchema(Schema):
    department_id = fields.String(required=True)
    tasks = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True, metadata={"description": "late tasks"})
    overdue_open = fields.Integer(required=True, metadata={"description": "open past due now"})


class OverviewMonthSchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    received = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    overdue = fields.Integer(required=True, metadata={
        "description": "demands received that month that are overdue"})


class OverviewGridSchema(Schema):
    grid_id = fields.String(required=True)
    demands = fields.Integer(required=True)
    overdue = fields.Integer(required=True, metadata={"description": "late tasks"})
    overdue_open = fields.Integer(required=True, metadata={"description": "open past due now"})


class RepeatedEnterpriseSchema(Schema):
    enterprise_id = fields.String(required=True)
    demands = fields.Integer(required=True)
    categories = fields.List(fields.String(), required=True)
    max_same_category = fields.Integer(required=True, metadata={
        "description": "the most demands of one category (the same problem again)"})


class OverviewStatusSchema(Schema):
    status = fields.String(required=True, metadata={"x-dictionary": "demand_status"})
    demands = _count("demands received in the period now in this state")


class OverviewGridRowSchema(Schema):
    grid_id = fields.String(required=True)
    demands = _count("demands received in the period in this grid")
    overdue = _count("of those, with a task late")


class OverviewRatesSchema(Schema):
    """Service rates of the demands received in the period (0 to 1, null when nothing was
    due; definitions as the appraisal's)."""

    triage_due = _count("demands whose 分理时限 came into play (triaged, or past it)")
    triage_on_time_rate = fields.Float(allow_none=True, required=True,
                                       metadata={"description": "分理及时率"})
    handling_due = _count("tasks whose handling deadline came into play")
    handling_on_time_rate = fields.Float(allow_none=True, required=True,
                                         metadata={"description": "办理及时率"})
    ratings = _count("rating rounds")
    satisfaction_rate = fields.Float(allow_none=True, required=True,
                                     metadata={"description": "满意率: no dimension below 3"})
    escalations = _count("督办升级 of their tasks (every level and cause)")


class OverviewSchema(Schema):
    """领导总览 of a period (received from ``from`` to ``to``)."""

    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    as_of = LocalDateTime(required=True)
    totals = fields.Nested(OverviewTotalsSchema, required=True)
    by_status = fields.List(fields.Nested(OverviewStatusSchema), required=True)
    by_grid = fields.List(fields.Nested(OverviewGridRowSchema), required=True, metadata={
        "description": "the 30 grids with the most demands received in the period"})
    rates = fields.Nested(OverviewRatesSchema, required=True)
    by_category = fields.List(fields.Nested(OverviewCategorySchema), required=True)
    by_department = fields.List(fields.Nested(OverviewDepartmentSchema), required=True)
    trend = fields.List(fields.Nested(OverviewMonthSchema), required=True)
    top_overdue_grids = fields.List(fields.Nested(OverviewGridSchema), required=True)
    repeated_enterprises = fields.List(fields.Nested(RepeatedEnterpriseSchema), required=True)


class AwardsQuerySchema(Schema):
    year = fields.Integer(required=True, validate=APPRAISAL_YEARS)


class AwardRowSchema(Schema):
    """One grid in the yearly award ranking (年终优秀奖励)."""

    grid_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    department_id = fields.String(allow_none=True, metadata={"description": "owner"})
    service_score = fields.Float(required=True, metadata={"description": "yearly score"})
    vetoed = fields.Boolean(required=True)
    output_value = fields.Float(required=True, allow_none=True, metadata={
        "description": "万元, the year; null: no figures for the year"})
    output_value_previous = fields.Float(required=True, allow_none=True,
                                         metadata={"description": "year - 1; null: no figures"})
    output_growth = fields.Float(allow_none=True, required=True, metadata={
        "description": "null when either year has no figures or year - 1 is 0 (see the note)"})
    output_growth_note = fields.String(allow_none=True, required=True, metadata={
        "x-dictionary": "growth_note", "description": "why output_growth is null"})
    tax = fields.Float(required=True, allow_none=True)
    tax_previous = fields.Float(required=True, allow_none=True)
    tax_growth = fields.Float(allow_none=True, required=True)
    tax_growth_note = fields.String(allow_none=True, required=True, metadata={
        "x-dictionary": "growth_note", "description": "why tax_growth is null"})
    output_growth_score = fields.Float(required=True)
    tax_growth_score = fields.Float(required=True)
    award_score = fields.Float(required=True)
    rank = fields.Integer(required=True)
    eligible = fields.Boolean(required=True, metadata={
        "description": "not vetoed and service score at least min_service_score"})
    awarded = fields.Boolean(required=True)


class AwardsSchema(Schema):
    year = fields.Integer(required=True)
    criteria = fields.Nested(AwardCriteriaSchema, required=True)
    items = fields.List(fields.Nested(AwardRowSchema), required=True)


# --- 营商环境: the platform's service figures by month (zone resources) ------------------------

MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
BUSINESS_ENVIRONMENT_MONTHS = 24


class Month(fields.String):
    """A calendar month ``YYYY-MM`` of the years 2000-2100, loaded as its first day."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": MONTH_PATTERN, **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(MONTH_PATTERN, text, re.ASCII):
            raise refuse("field.not_month", "not a month of the years 2000-2100 (YYYY-MM)")
        return date(int(text[:4]), int(text[5:7]), 1)


class BusinessEnvironmentQuerySchema(Schema):
    """Months of receipt (收到月份, Asia/Shanghai), both included."""

    from_ = Month(required=True, data_key="from", metadata={"description": "first month"})
    to = Month(required=True, metadata={
        "description": f"last month: not before `from`, at most {BUSINESS_ENVIRONMENT_MONTHS} "
                       "months in all (422 otherwise)"})

    @validates_schema
    def _check_months(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is None or end is None:
            return
        if end < start:
            raise refuse("zone.months_reversed", "before from ({month})",
                         month=start.isoformat()[:7], field_name="to")
        count = (end.year - start.year) * 12 + end.month - start.month + 1
        if count > BUSINESS_ENVIRONMENT_MONTHS:
            raise refuse("zone.months_too_many", "at most {max} months",
                         max=BUSINESS_ENVIRONMENT_MONTHS, field_name="to")


class ServiceFiguresSchema(Schema):
    """The appraisal's figures for the demands received in a month (definitions: 考评)."""

    demands = _count("demands received")
    tasks = _count("their live tasks")
    acceptance_due = _count("assignments whose acceptance was due")
    accepted_on_time = _count("accepted by the acceptance deadline")
    response_rate = _rate("响应率: accepted in time")
    judged = _count("closed with the enterprise's verdict: 自动销号 or 内部销号")
    resolved = _count("closed by a satisfied rating (自动销号)")
    resolution_rate = _rate("解决率")
    ratings = _count("ratings (every round)")
    satisfied = _count("ratings with no dimension below 3")
    satisfaction_rate = _rate("满意率")
    completed_tasks = _count("tasks completed (for the handling time)")
    avg_handling_workdays = fields.Float(allow_none=True, required=True, metadata={
        "description": "平均办理用时: working days after acceptance up to completion (same day "
                       "0); null without completed tasks"})
    escalations = _count("督办升级 of their tasks (every level and cause)")


class DepartmentServiceFiguresSchema(ServiceFiguresSchema):
    department_id = fields.String(required=True)
    department_name = fields.String(allow_none=True, required=True)


class BusinessEnvironmentMonthSchema(Schema):
    month = fields.String(required=True)
    zone = fields.Nested(ServiceFiguresSchema, required=True)
    departments = fields.List(fields.Nested(DepartmentServiceFiguresSchema), required=True,
                              metadata={"description": "leaders, coordinators, admins: all; "
                                        "department heads and liaisons: their own; others: "
                                        "none"})


class BusinessEnvironmentSchema(Schema):
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    as_of = LocalDateTime(required=True)
    items = fields.List(fields.Nested(BusinessEnvironmentMonthSchema), required=True)


# =========================================================================== 督办 supervision list

SUPERVISION_STATES = ("overdue", "due_soon", "escalated")
SUPERVISION_STAGES = ("triage", "acceptance", "handling")


class SupervisionQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(SUPERVISION_STATES))
    stage = fields.String(validate=validate.OneOf(SUPERVISION_STAGES))
    department_id = SearchText(length=(1, 40))
    grid_id = SearchText(length=(1, 20))
    q = SearchText(length=(1, 50), metadata={"description": "words of the number or title"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class SupervisionItemSchema(Schema):
    demand_id = fields.String(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    grid_id = fields.String(allow_none=True)
    grid_name = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True, metadata={"description": "null: awaiting triage"})
    department_id = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    stage = fields.String(required=True, metadata={"x-dictionary": "supervision_stage"})
    due_at = LocalDateTime(allow_none=True)
    due_provisional = fields.Boolean(required=True, metadata={
        "description": "the deadline falls in or is counted across a year without a loaded "
                       "working-day table"})
    escalation_level = fields.Integer(required=True)
    overdue = fields.Boolean(required=True)
    due_soon = fields.Boolean(required=True, metadata={
        "description": "due within one working day"})
    escalated = fields.Boolean(required=True)


class SupervisionCountSchema(Schema):
    department_id = fields.String(allow_none=True)
    grid_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    overdue = fields.Integer(required=True)
    due_soon = fields.Integer(required=True)
    escalated = fields.Integer(required=True)


class SupervisionTotalsSchema(Schema):
    overdue = fields.Integer(required=True)
    due_soon = fields.Integer(required=True)
    escalated = fields.Integer(required=True)


class SupervisionPageSchema(Schema):
    as_of = LocalDateTime(required=True)
    horizon = LocalDateTime(required=True, metadata={
        "description": "the end of the one-working-day window"})
    totals = fields.Nested(SupervisionTotalsSchema, required=True)
    by_department = fields.List(fields.Nested(SupervisionCountSchema), required=True)
    by_grid = fields.List(fields.Nested(SupervisionCountSchema), required=True)
    items = fields.List(fields.Nested(SupervisionItemSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
