"""Ticketing's contract for the SLA settings (时限设置, ``api/settings.py``): admin-editable,
applied to deadlines scheduled from then on.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from common.fields import (
    Text,
    WholeNumber,
    refuse,
)
from services.ticketing.schemas.base import DIFFICULTIES, SETTINGS_NOTE

# --- SLA settings (时限设置): admin-editable, applied to deadlines scheduled from then on ------

#: the ``category`` of the default handling-time rows, used for any category without its own
DEFAULT_CATEGORY = "*"


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
