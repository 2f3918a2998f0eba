"""Ticketing's shared vocabulary: the states, channels and field helpers more than one area's
contract uses.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from common.fields import LocalDateTime

DEMAND_STATES = ("received", "triaged", "in_progress", "awaiting_rating", "closed")
TASK_STATES = ("assigned", "coordination", "accepted", "completed", "cancelled")
DIFFICULTIES = ("easy", "normal", "hard")
CLOSURES = ("rated", "internal", "unrated")


def _name(description: str) -> fields.String:
    """A name shown next to an id (services/ticketing/naming.py)."""
    return fields.String(allow_none=True, metadata={"description": description})


#: ``version`` of a settings document (optimistic concurrency, If-Match)
SETTINGS_NOTE = ("in an answer: 1 until first changed, +1 with every change (the ETag); in a "
                 "change: the version last read, a stale one is refused (412), like If-Match")


class PendingDeadlineSchema(Schema):
    """A working-day deadline that has not fired yet (the sweep's row)."""

    kind = fields.String(required=True, metadata={"x-dictionary": "deadline_kind"})
    level = fields.Integer(required=True, metadata={
        "description": "the escalation level it leads to (escalation rungs, handling)"})
    due_at = LocalDateTime(required=True)
    provisional = fields.Boolean(required=True, metadata={
        "description": "暂定: counted in, or across, a year without a loaded working-day "
                       "table; re-planned when that year is loaded"})
