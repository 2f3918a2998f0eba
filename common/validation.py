"""Validate input against a marshmallow schema; errors become ValidationFailed (HTTP 422)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema
from marshmallow import ValidationError as MarshmallowError

from common.errors import ValidationFailed
from common.fields import UUID_PATTERN

#: why a string cannot be stored as PostgreSQL text (NUL) or UTF-8 (a lone surrogate)
UNSTORABLE_TEXT = "must not contain U+0000 or unpaired surrogates"


def storable(text: str) -> bool:
    """True if ``text`` can be stored as PostgreSQL text: no NUL, valid UTF-8."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unstorable_fields(data: Any, path: str = "") -> dict[str, list[str]]:
    """Every string (or key) in ``data`` that text columns cannot hold, by its dotted path."""
    found: dict[str, list[str]] = {}
    if isinstance(data, str):
        if not storable(data):
            found[path or "_schema"] = [UNSTORABLE_TEXT]
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not storable(key):
                found[path or "_schema"] = [f"a field name {UNSTORABLE_TEXT}"]
                continue
            found.update(unstorable_fields(value, name))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.update(unstorable_fields(value, f"{path}.{index}" if path else str(index)))
    return found


def load(schema: Schema, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", {"_schema": ["not an object"]})
    bad_text = unstorable_fields(data)
    if bad_text:
        raise ValidationFailed(f"invalid fields: {', '.join(sorted(bad_text))}", bad_text)
    try:
        return schema.load(data)
    except MarshmallowError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        fields = ", ".join(sorted(messages))
        raise ValidationFailed(f"invalid fields: {fields}", messages) from exc


_UUID = re.compile(UUID_PATTERN)


def is_uuid(value: object) -> bool:
    """True if ``value`` is a UUID in canonical text form (ids from URLs are checked before any
    query: ``uuid.UUID`` also takes ``urn:uuid:...``, which PostgreSQL refuses)."""
    return isinstance(value, str) and _UUID.match(value) is not None
