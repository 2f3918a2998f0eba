"""Ticketing's contract: what callers send (validated here) and what they get back.

The gateway imports this module for request validation and the OpenAPI document, so it holds
nothing but marshmallow schemas and the vocabularies they use.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.calendar import MAX_RANGE_DAYS
from common.fields import LocalDateTime, Text

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


class AttachmentSchema(Schema):
    """Metadata of a file kept elsewhere (the platform stores no file bodies)."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    content_type = fields.String(required=True, validate=validate.Length(1, 100))
    size = fields.Integer(required=True, validate=validate.Range(0, 50 * 1024 * 1024))
    url = fields.Url(required=True, schemes={"https", "http"})


class DemandCreateSchema(Schema):
    """A demand (诉求) as recorded at intake."""

    enterprise_id = fields.String(
        validate=validate.Length(1, 64),
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


class DemandPageSchema(Schema):
    items = fields.List(fields.Nested(DemandSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class DemandListQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))
    enterprise_id = fields.String(validate=validate.Length(1, 64))
    status = fields.String(validate=validate.OneOf(DEMAND_STATES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))


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

    year = fields.Integer(
        strict=True,
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
            raise ValidationError(f"before from ({start.isoformat()})", "to")
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise ValidationError(f"the range may span at most {MAX_RANGE_DAYS} days", "to")


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
    handling_workdays = fields.Integer(validate=validate.Range(1, 250),
                                       metadata={"description": "overrides the table"})


class TriageSchema(Schema):
    """分理: category, departments (one task each: 分解任务), opinion, difficulty."""

    category = Text(required=True, validate=validate.Length(1, 50))
    difficulty = fields.String(load_default="normal", validate=validate.OneOf(DIFFICULTIES))
    proposed_opinion = fields.String(required=True, validate=validate.Length(1, 2000))
    departments = fields.List(fields.Nested(TriageAssignmentSchema),
                              validate=validate.Length(1, 10),
                              metadata={"description": "defaults to the category's department"})


class TaskSchema(Schema):
    id = fields.String(required=True)
    demand_id = fields.String(required=True)
    department_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATES))
    opinion = fields.String(allow_none=True)
    difficulty = fields.String(required=True)
    handling_workdays = fields.Integer(required=True)
    accept_due_at = LocalDateTime(allow_none=True)
    due_at = LocalDateTime(allow_none=True, metadata={"description": "办理时限"})
    due_provisional = fields.Boolean(required=True)
    accepted_at = LocalDateTime(allow_none=True)
    returned_reason = fields.String(allow_none=True)
    result = fields.String(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)
    reopen_count = fields.Integer(required=True)
    escalation_level = fields.Integer(required=True)
    version = fields.Integer(required=True)


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
    demand_id = fields.String()
    overdue = fields.Boolean()


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
    visibility = fields.String(required=True)
    body = fields.String(required=True)
    author_role = fields.String(required=True)
    created_at = LocalDateTime(required=True)


class ExtensionCreateSchema(Schema):
    workdays = fields.Integer(required=True, validate=validate.Range(1, 60))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class ExtensionDecisionSchema(Schema):
    approve = fields.Boolean(required=True)
    reason = fields.String(validate=validate.Length(0, 2000), load_default=None)


class ExtensionSchema(Schema):
    id = fields.String(required=True)
    task_id = fields.String(required=True)
    workdays = fields.Integer(required=True)
    reason = fields.String(required=True)
    status = fields.String(required=True)
    requested_at = LocalDateTime(required=True)
    decided_at = LocalDateTime(allow_none=True)
    new_due_at = LocalDateTime(allow_none=True)


class RatingCreateSchema(Schema):
    """评价: efficiency, attitude and result quality, 1 (very dissatisfied) to 5."""

    efficiency = fields.Integer(required=True, validate=validate.Range(1, 5))
    attitude = fields.Integer(required=True, validate=validate.Range(1, 5))
    quality = fields.Integer(required=True, validate=validate.Range(1, 5))
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

    action = fields.String(required=True, validate=validate.OneOf(("reopen", "close_internally")))
    task_id = fields.String(metadata={"description": "the task to reopen"})
    report = fields.String(validate=validate.Length(1, 10_000),
                           metadata={"description": "书面汇报材料, for an internal closure"})


class TimelineEntrySchema(Schema):
    at = LocalDateTime(required=True)
    kind = fields.String(required=True)
    state = fields.String(allow_none=True)
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
    at = LocalDateTime(required=True)


class LedgerPageSchema(Schema):
    items = fields.List(fields.Nested(LedgerEntrySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class LedgerQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    demand_id = fields.String()
    department_id = fields.String()
    action = fields.String()
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()


# --- ledger views (台账: 问题清单, 任务清单, 落实清单) and the enterprise's timeline -----------

class TimelineItemSchema(TimelineEntrySchema):
    """One step of the timeline; ``actor_role`` names who acted by role, never by id."""

    actor_role = fields.String(allow_none=True,
                               metadata={"description": "enterprise, grid_worker, liaison, "
                                         "coordinator, service (the platform)..."})


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


class LedgerFilterSchema(Schema):
    """Filters of the three ledger lists (and their export)."""

    received_from = fields.Date(metadata={"description": "收到日期 from (inclusive, +08:00)"})
    received_to = fields.Date(metadata={"description": "收到日期 to (inclusive, +08:00)"})
    department_id = fields.String(validate=validate.Length(1, 40))
    category = fields.String(validate=validate.Length(1, 50))
    state = fields.String(validate=validate.OneOf(DEMAND_STATES + TASK_STATES),
                          metadata={"description": "the demand's state (problems, done) or "
                                    "the task's (tasks)"})
    closure = fields.String(validate=validate.OneOf(CLOSURES),
                            metadata={"description": "done: how it was closed"})
    overdue = fields.Boolean(metadata={"description": "tasks: past the handling deadline"})
    awaiting_resolution = fields.Boolean(
        metadata={"description": "problems: rated dissatisfied, waiting for a coordinator"})

    @validates_schema
    def _check_range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("received_from"), data.get("received_to")
        if start is not None and end is not None and end < start:
            raise ValidationError(f"before received_from ({start.isoformat()})", "received_to")


class LedgerViewQuerySchema(LedgerFilterSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 200))


class LedgerExportQuerySchema(LedgerFilterSchema):
    view = fields.String(load_default="problems", validate=validate.OneOf(LEDGER_VIEWS))


class ProblemItemSchema(Schema):
    """问题清单: one demand."""

    id = fields.String(required=True)
    number = fields.String(required=True)
    enterprise_id = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(allow_none=True)
    channel = fields.String(required=True)
    urgency = fields.String(required=True)
    status = fields.String(required=True)
    received_at = LocalDateTime(required=True)
    triage_due_at = LocalDateTime(required=True)
    triaged_at = LocalDateTime(allow_none=True)
    departments = fields.List(fields.String(), required=True)
    closure = fields.String(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    awaiting_resolution = fields.Boolean(required=True,
                                         metadata={"description": "rated dissatisfied"})


class TaskItemSchema(Schema):
    """任务清单: one task with its demand's number, title and category."""

    id = fields.String(required=True)
    demand_id = fields.String(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(allow_none=True)
    received_at = LocalDateTime(required=True)
    department_id = fields.String(required=True)
    status = fields.String(required=True)
    accept_due_at = LocalDateTime(allow_none=True)
    due_at = LocalDateTime(allow_none=True)
    due_provisional = fields.Boolean(required=True)
    accepted_at = LocalDateTime(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)
    reopen_count = fields.Integer(required=True)
    escalation_level = fields.Integer(required=True)
    overdue = fields.Boolean(required=True, metadata={
        "description": "open past its handling deadline, or completed after it"})


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


def _page_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "total": fields.Integer(required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
    }, name=name)


ProblemPageSchema = _page_schema(ProblemItemSchema, "ProblemPageSchema")
TaskItemPageSchema = _page_schema(TaskItemSchema, "TaskItemPageSchema")
DonePageSchema = _page_schema(DoneItemSchema, "DonePageSchema")


# --- SLA settings (时限设置): admin-editable, applied to deadlines scheduled from then on ------

#: the ``category`` of the default handling-time rows, used for any category without its own
DEFAULT_CATEGORY = "*"


class SlaSettingsSchema(Schema):
    """The SLA settings in working days (工作日). A PUT replaces them all."""

    acceptance_workdays = fields.Integer(
        required=True, strict=True, validate=validate.Range(0, 30),
        metadata={"description": "受理确认 due at 18:00 of the n-th working day after the "
                  "assignment (default 1: the end of the next working day; 0: the same day, "
                  "or the next working day if assigned on a day off)"})
    reminder_workdays_before = fields.List(
        fields.Integer(strict=True, validate=validate.Range(1, 30)),
        required=True, validate=validate.Length(0, 10),
        metadata={"description": "提醒 at 09:00 this many working days before a handling "
                  "deadline; distinct values"})
    escalate_to_leader_workdays = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, 60),
        metadata={"description": "level 2 (分管领导) this many working days after the "
                  "handling deadline"})
    escalate_to_group_workdays = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, 60),
        metadata={"description": "level 3 (领导小组) this many further working days later"})
    rating_reminder_workdays = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, 30),
        metadata={"description": "remind the enterprise to rate after this many working days"})
    close_unrated_workdays = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, 60),
        metadata={"description": "close as unrated after this many working days; more than "
                  "rating_reminder_workdays"})

    @validates_schema
    def _check_consistency(self, data: dict[str, Any], **_kwargs: Any) -> None:
        reminders = data.get("reminder_workdays_before")
        if reminders is not None and len(set(reminders)) != len(reminders):
            raise ValidationError("values must be distinct", "reminder_workdays_before")
        remind, close = data.get("rating_reminder_workdays"), data.get("close_unrated_workdays")
        if remind is not None and close is not None and close <= remind:
            raise ValidationError(
                f"must be more than rating_reminder_workdays ({remind})", "close_unrated_workdays"
            )


class HandlingTimeSchema(Schema):
    """办理时限 of a category and difficulty; category ``*`` is the default of every category."""

    category = fields.String(required=True, metadata={"description": "a category code or *"})
    difficulty = fields.String(required=True, validate=validate.OneOf(DIFFICULTIES))
    workdays = fields.Integer(required=True)


class HandlingTimeListSchema(Schema):
    items = fields.List(fields.Nested(HandlingTimeSchema), required=True)


class HandlingTimeUpdateSchema(Schema):
    workdays = fields.Integer(required=True, strict=True, validate=validate.Range(1, 250))


class HandlingTimeKeySchema(Schema):
    """The path of a handling-time row (checked by the service)."""

    category = Text(required=True, validate=validate.Length(1, 50))
    difficulty = fields.String(required=True, validate=validate.OneOf(DIFFICULTIES))
