"""marshmallow fields shared by the services' contracts."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

from common.calendar import SHANGHAI
from common.errors import field_error
from common.i18n import N_


def refuse(code: str, message: str, /, **params: Any) -> ValidationError:
    """The error a field or a schema validator raises: a coded reason (``field.not_day``) with
    an English message id and its parameters, as :func:`common.errors.field_error` makes it;
    ``field_name=`` names the field a schema-level check refuses."""
    field_name = params.pop("field_name", None)
    item = field_error(code, message, **params)
    if field_name is None:
        return ValidationError([item])
    return ValidationError([item], field_name)

#: the times the platform takes in (and the contract states): RFC 3339 (ISO 8601 with seconds
#: and an offset) of a real zone (-14:00 to +14:00), years 1970-2999. Older or later instants
#: mean nothing for a demand, a deadline or a filter, and overflow date arithmetic or
#: PostgreSQL.
INSTANT_PATTERN = (
    r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$"
)
_INSTANT = re.compile(INSTANT_PATTERN, re.ASCII)


class LocalDateTime(fields.AwareDateTime):
    """An aware ISO 8601 time, written out in Asia/Shanghai (+08:00), the zone users live in.

    Input must match :data:`INSTANT_PATTERN` (also in the OpenAPI document)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": INSTANT_PATTERN, **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str) and not _INSTANT.match(value):
            raise refuse("field.not_instant",
                         "not a time of this platform: RFC 3339 with seconds and offset, "
                         "years 1970-2999, e.g. 2026-11-26T10:00:00+08:00")
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any,
                   **kwargs: Any) -> Any:
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


class Pattern(validate.Regexp):
    r"""``validate.Regexp`` over the whole string, as a JSON Schema ``pattern`` is read: Python's
    ``$`` also matches before a final newline, so ``"abc\n"`` would pass ``^abc$``. And in ASCII
    mode, as ECMA-262 reads ``\d``, ``\w`` and case-insensitive ``[a-z]``: in Python's
    default Unicode mode ``\d`` takes "٣" and ``[a-z]`` with IGNORECASE takes "K" (the Kelvin
    sign) and "ſ"."""

    def __init__(self, regex: str, flags: int = 0, *, code: str = "field.pattern",
                 error: str | None = None) -> None:
        super().__init__(regex, flags | re.ASCII, error=error)
        #: the reason's code; ``error``, the message id (marshmallow's own by default)
        self.code = code

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise refuse(self.code, self.error)
        return value


#: a record's id: a UUID in its canonical text form
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class Id(fields.String):
    """The id of a record (a UUID): anything else is refused as "not a valid id" before any
    query, and the OpenAPI document carries the pattern."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=Pattern(UUID_PATTERN, code="field.not_id",
                                          error=N_("not a valid id")), **kwargs)


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


#: a day (ISO 8601 calendar date) in the years 2000-2100, the years the calendar, the appraisal
#: and the meetings know; the date itself is checked too (no 2026-02-30)
DAY_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_DAY = re.compile(DAY_PATTERN, re.ASCII)


class Day(fields.Date):
    """A ``YYYY-MM-DD`` day of the years 2000-2100: other years are refused as input (and the
    OpenAPI document carries the pattern), before any date arithmetic or query."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": DAY_PATTERN, **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            raise refuse("field.not_day", "not a day of the years 2000-2100 (YYYY-MM-DD)")
        return super()._deserialize(value, attr, data, **kwargs)


def _json_number(field: fields.Field[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise field.make_error("invalid")


class JsonNumber(fields.Float):
    """A JSON number in a body: ``2`` or ``2.5``, never ``"2.5"`` or ``true`` (query parameters,
    which are text, keep marshmallow's ``fields.Float``)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        _json_number(self, value)
        return super()._deserialize(value, attr, data, **kwargs)


class JsonDecimal(fields.Decimal):
    """A JSON number in a body kept as a Decimal (quantities, money), never a string or a bool.

    The validators see the number as sent (as the OpenAPI bounds state it); it is rounded to
    ``places`` decimals only after."""

    def __init__(self, places: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.round_to = None if places is None else Decimal(1).scaleb(-places)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        _json_number(self, value)
        return super()._deserialize(value, attr, data, **kwargs)

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None,
                    **kwargs: Any) -> Any:
        exact = super().deserialize(value, attr, data, **kwargs)
        if self.round_to is not None and isinstance(exact, Decimal) and exact.is_finite():
            return exact.quantize(self.round_to)
        return exact


#: a web address: http(s), a host name or address, an optional port, path and query; no
#: white space (what ``WebUrl`` accepts and the OpenAPI document states)
WEB_URL_PATTERN = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
    r"(?:[/?#][\x21-\x7e]*)?$"
)


_WEB_URL = re.compile(WEB_URL_PATTERN, re.ASCII)


class WebUrl(fields.String):
    """An http(s) URL, checked against :data:`WEB_URL_PATTERN` (also in the OpenAPI document)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": WEB_URL_PATTERN, **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _WEB_URL.fullmatch(text):
            raise refuse("field.not_url", "not an http(s) URL such as https://example.com/a.pdf")
        return text


class SearchText(Text):
    """A :class:`Text` that names or searches for something (a filter, an audience criterion)
    and is kept nowhere of a fixed width: its length bounds (``length=(min, max)``, in the
    OpenAPI document as minLength/maxLength) hold for the text as sent, before NFKC, which
    lengthens some characters (``½`` is ``1⁄2``, ``㎏`` is ``kg``); trimmed, it must not be
    blank when ``min`` is above 0."""

    def __init__(self, *args: Any, length: tuple[int, int], **kwargs: Any) -> None:
        low, high = length
        kwargs["metadata"] = {"minLength": low, "maxLength": high,
                              **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)
        self.length = length

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        sent = fields.String._deserialize(self, value, attr, data, **kwargs)
        low, high = self.length
        if len(sent) > high:
            raise refuse("field.too_long", "Length must be between {min} and {max}.",
                         min=low, max=high)
        if len(sent) < low:
            raise refuse("field.too_short", "Length must be between {min} and {max}.",
                         min=low, max=high)
        text = normalized(sent)
        if low and not text:
            raise refuse("field.blank", "must not be blank")
        return text
