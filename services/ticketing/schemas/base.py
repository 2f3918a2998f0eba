"""Ticketing's shared vocabulary: the states, channels and field helpers more than one area's
contract uses.
"""

from __future__ import annotations

from marshmallow import fields

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
