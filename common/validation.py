"""Validate input against a marshmallow schema; errors become ValidationFailed (HTTP 422)."""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import Schema
from marshmallow import ValidationError as MarshmallowError

from common.errors import ValidationFailed


def load(schema: Schema, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", {"_schema": ["not an object"]})
    try:
        return schema.load(data)
    except MarshmallowError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        fields = ", ".join(sorted(messages))
        raise ValidationFailed(f"invalid fields: {fields}", messages) from exc


def is_uuid(value: object) -> bool:
    """True if ``value`` is a UUID string (ids from URLs are checked before any query)."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
