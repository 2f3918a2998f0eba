"""marshmallow fields shared by the services' contracts."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from common.calendar import SHANGHAI

#: the times the platform takes in (and the contract states): RFC 3339 (ISO 8601 with seconds
#: and an offset) of a real zone (-14:00 to +14:00), years 1970-2999. Older or later instants
#: mean nothing for a demand, a deadline or a filter, and overflow date arithmetic or
#: PostgreSQL.
INSTANT_PATTERN = (
    r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$"
)
_INSTANT = re.compile(INSTANT_PATTERN)


class LocalDateTime(fields.AwareDateTime):
    """An aware ISO 8601 time, written out in Asia/Shanghai (+08:00), the zone users live in.

    Input must match :data:`INSTANT_PATTERN` (also in the OpenAPI document)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": INSTANT_PATTERN, **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str) and not _INSTANT.match(value):
            raise ValidationError("not a time of this platform: RFC 3339 with seconds and "
                                  "offset, years 1970-2999, e.g. 2026-11-26T10:00:00+08:00")
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any):
        if value is None:
            return None
        return super()._serialize(value.astimezone(SHANGHAI), attr, obj, **kwargs)


def normalized(value: str) -> str:
    """Full-width to half-width and trimmed: what users type is compared as what they mean."""
    return unicodedata.normalize("NFKC", value).strip()


class Text(fields.String):
    """A string normalised with NFKC and stripped before validation: for names, codes and
    identifiers that are compared (ｆｉｎａｎｃｅ␠ is finance)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return normalized(super()._deserialize(value, attr, data, **kwargs))


#: a record's id: a UUID in its canonical text form
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class Id(fields.String):
    """The id of a record (a UUID): anything else is refused as "not a valid id" before any
    query, and the OpenAPI document carries the pattern."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Regexp(UUID_PATTERN, error="not a valid id"),
                         **kwargs)


class WholeNumber(fields.Integer):
    """A JSON integer: ``3`` or ``3.0`` (the same number in JSON), never a string or a bool."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonBoolean(fields.Boolean):
    """A JSON ``true`` or ``false`` in a body: never ``0``, ``1``, ``"yes"`` (query parameters,
    which are text, keep marshmallow's ``fields.Boolean``)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
