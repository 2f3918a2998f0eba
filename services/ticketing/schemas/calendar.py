"""Ticketing's contract for the working-day calendar (``api/calendar.py``): triage deadlines,
working days, loaded years and their preview.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from common.calendar import MAX_RANGE_DAYS
from common.fields import (
    LocalDateTime,
    WholeNumber,
    refuse,
)

#: where the schedule of a year comes from
CALENDAR_ORIGINS = ("chinesecalendar", "loaded", "missing")
#: years an operator may load through the API or the file loader
CALENDAR_YEARS = range(2000, 2101)


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


class ReplannedDeadlineSchema(Schema):
    """Another deadline a load would move: a task's (受理确认, 办理时限, a 督办 rung) or a demand's
    awaiting its rating (提醒评价, 未评价销号)."""

    demand_id = fields.String(required=True)
    number = fields.String(required=True, metadata={"description": "诉求编号"})
    enterprise_id = fields.String(required=True)
    enterprise_name = fields.String(allow_none=True)
    task_id = fields.String(required=True, allow_none=True,
                            metadata={"description": "null for a demand's rating deadlines"})
    department_id = fields.String(required=True, allow_none=True)
    department_name = fields.String(allow_none=True)
    kind = fields.String(required=True, metadata={"x-dictionary": "deadline_kind"})
    level = fields.Integer(required=True, allow_none=True,
                           metadata={"description": "the escalation rung (督办), 1-3"})
    due_at = LocalDateTime(required=True, allow_none=True, metadata={"description": "now"})
    provisional = fields.Boolean(required=True)
    new_due_at = LocalDateTime(required=True, allow_none=True,
                               metadata={"description": "after the load"})
    new_provisional = fields.Boolean(required=True)


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
    deadlines_moved = fields.Integer(required=True, metadata={
        "description": "the other deadlines the load would re-plan: open tasks' acceptance, "
                       "handling and escalation rungs, and the rating reminder and unrated "
                       "closure of demands awaiting their rating"})
    replanned = fields.List(fields.Nested(ReplannedDeadlineSchema), required=True, metadata={
        "description": "those deadlines by demand number (at most 500)"})


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
