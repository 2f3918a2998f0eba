"""Validate input against a marshmallow schema; errors become ValidationFailed (HTTP 422).

Every refused field gets coded reasons (``{"code": "field.required", "message": ...}``, see
:func:`common.errors.field_error`), whether marshmallow or our own code refused it:

- marshmallow's own messages ("Missing data for required field.", "Length must be between 1
  and 200.") are recognised here by their templates (:data:`MARSHMALLOW_MESSAGES`), which are
  also the message ids translated by the catalog; their numbers become parameters. A bound
  that can be missed either way (a length between two bounds) is told by the value sent:
  ``field.too_long`` or ``field.too_short``.
- our fields and schema validators raise ``ValidationError([field_error(code, message)])``
  (:func:`common.fields.refuse`), already coded.

The gateway (request bodies and queries) and the services (RPC arguments) both validate with
:func:`load`, so a field is refused the same way wherever it is checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError

from common.errors import FieldErrors, ValidationFailed, field_error, invalid_fields
from common.fields import UUID_PATTERN, normalized
from common.i18n import N_

#: why a string cannot be stored as PostgreSQL text (NUL) or UTF-8 (a lone surrogate)
UNSTORABLE_TEXT = N_("must not contain U+0000 or unpaired surrogates")
UNSTORABLE_NAME = N_("a field name must not contain U+0000 or unpaired surrogates")

#: marshmallow's messages (4.x) and their codes; each template is also the message id
MARSHMALLOW_MESSAGES: tuple[tuple[str, str], ...] = (
    (N_("Missing data for required field."), "field.required"),
    (N_("Field may not be null."), "field.null"),
    (N_("Unknown field."), "field.unknown"),
    (N_("Invalid input type."), "field.not_object"),
    (N_("Invalid type."), "field.not_object"),
    (N_("Not a valid mapping type."), "field.not_object"),
    (N_("Not a valid string."), "field.not_string"),
    (N_("Not a valid utf-8 string."), "field.not_string"),
    (N_("Not a valid integer."), "field.not_integer"),
    (N_("Not a valid number."), "field.not_number"),
    (N_("Number too large."), "field.too_large"),
    (N_("Special numeric values (nan or infinity) are not permitted."), "field.not_finite"),
    (N_("Not a valid boolean."), "field.not_boolean"),
    (N_("Not a valid list."), "field.not_list"),
    (N_("Not a valid tuple."), "field.not_list"),
    (N_("Not a valid date."), "field.not_date"),
    (N_("Not a valid datetime."), "field.not_datetime"),
    (N_("Not a valid aware datetime."), "field.not_datetime"),
    (N_("Not a valid naive datetime."), "field.not_datetime"),
    (N_("Not a valid time."), "field.not_time"),
    (N_('"{input}" cannot be formatted as a date.'), "field.not_date"),
    (N_('"{input}" cannot be formatted as a datetime.'), "field.not_datetime"),
    (N_('"{input}" cannot be formatted as a time.'), "field.not_time"),
    (N_("Not a valid period of time."), "field.not_duration"),
    (N_("{input} cannot be formatted as a timedelta."), "field.not_duration"),
    (N_("Not a valid email address."), "field.not_email"),
    (N_("Not a valid URL."), "field.not_url"),
    (N_("Not a valid UUID."), "field.not_uuid"),
    (N_("Not a valid IP address."), "field.not_ip"),
    (N_("Not a valid IPv4 address."), "field.not_ip"),
    (N_("Not a valid IPv6 address."), "field.not_ip"),
    (N_("Not a valid IP interface."), "field.not_ip"),
    (N_("Not a valid IPv4 interface."), "field.not_ip"),
    (N_("Not a valid IPv6 interface."), "field.not_ip"),
    (N_("Invalid value."), "field.invalid"),
    (N_("Invalid input."), "field.invalid"),
    (N_("String does not match expected pattern."), "field.pattern"),
    (N_("Must be one of: {choices}."), "field.not_one_of"),
    (N_("One or more of the choices you made was not in: {choices}."), "field.not_one_of"),
    (N_("One or more of the choices you made was in: {values}."), "field.refused_choice"),
    (N_("Must be equal to {other}."), "field.not_equal"),
    (N_("Shorter than minimum length {min}."), "field.too_short"),
    (N_("Longer than maximum length {max}."), "field.too_long"),
    (N_("Length must be between {min} and {max}."), "field.length"),
    (N_("Length must be {equal}."), "field.length"),
    (N_("Must be greater than or equal to {min}."), "field.too_small"),
    (N_("Must be greater than {min}."), "field.too_small"),
    (N_("Must be less than or equal to {max}."), "field.too_large"),
    (N_("Must be less than {max}."), "field.too_large"),
    (N_("Must be greater than or equal to {min} and less than or equal to {max}."),
     "field.out_of_range"),
    (N_("Must be greater than or equal to {min} and less than {max}."), "field.out_of_range"),
    (N_("Must be greater than {min} and less than or equal to {max}."), "field.out_of_range"),
    (N_("Must be greater than {min} and less than {max}."), "field.out_of_range"),
)
#: the code of a message nobody coded (it should not happen: tests/unit/test_messages.py)
UNCODED = "field.invalid"


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*?)"
                    for i, part in enumerate(parts))
    return re.compile(f"^{regex}$", re.DOTALL)


#: the longest first: "Must be greater than {min}." would take "... than 1 and less than 5."
_TEMPLATES = [(_pattern(template), template, code) for template, code in
              sorted(MARSHMALLOW_MESSAGES, key=lambda item: -len(item[0]))]


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _refined(code: str, params: dict[str, Any], value: Any) -> str:
    """Which way a two-sided bound was missed, told by the value sent."""
    if code == "field.length" and isinstance(value, str | list | dict):
        low = _number(params.get("min", params.get("equal")))
        high = _number(params.get("max", params.get("equal")))
        # a Text field is measured as it is compared: NFKC, trimmed
        sizes = [len(value)] + ([len(normalized(value))] if isinstance(value, str) else [])
        if high is not None and max(sizes) > high:
            return "field.too_long"
        if low is not None and min(sizes) < low:
            return "field.too_short"
    if code == "field.out_of_range" and not isinstance(value, bool):
        number, low, high = _number(value), _number(params.get("min")), \
            _number(params.get("max"))
        if number is not None and high is not None and number >= high:
            return "field.too_large"
        if number is not None and low is not None and number <= low:
            return "field.too_small"
    return code


_MISSING = object()


def coded_item(message: Any, value: Any = _MISSING) -> dict[str, Any]:
    """One reason as a coded item: already one (a :func:`field_error`), or one of
    marshmallow's messages recognised by its template."""
    if isinstance(message, Mapping) and "code" in message and "message" in message:
        return dict(message)
    text = str(message)
    for regex, template, code in _TEMPLATES:
        match = regex.match(text)
        if match is not None:
            params = match.groupdict()
            return field_error(_refined(code, params, value), template, **params)
    return field_error(UNCODED, text)


def _child(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get(key, value.get(str(key), _MISSING))
    if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    return _MISSING


def coded(messages: Any, data: Any = _MISSING) -> Any:
    """marshmallow's error messages (nested by field, list index, dict key) with every reason
    coded; ``data`` is the input, to tell which way a bound was missed."""
    if isinstance(messages, Mapping) and not ("code" in messages and "message" in messages):
        return {key: coded(sub, _child(data, key)) for key, sub in messages.items()}
    items = messages if isinstance(messages, list) else [messages]
    return [coded_item(item, data) for item in items]


def storable(text: str) -> bool:
    """True if ``text`` can be stored as PostgreSQL text: no NUL, valid UTF-8."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unstorable_fields(data: Any, path: str = "") -> FieldErrors:
    """Every string (or key) in ``data`` that text columns cannot hold, by its dotted path."""
    found: FieldErrors = {}
    if isinstance(data, str):
        if not storable(data):
            found[path or "_schema"] = [field_error("field.unstorable_text", UNSTORABLE_TEXT)]
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not storable(key):
                found[path or "_schema"] = [field_error("field.unstorable_name",
                                                        UNSTORABLE_NAME)]
                continue
            found.update(unstorable_fields(value, name))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.update(unstorable_fields(value, f"{path}.{index}" if path else str(index)))
    return found


#: how deeply a request's JSON may nest objects and arrays (the deepest request schema needs
#: 4 levels): deeper is a 422 found before the text is parsed (issue 22, finding 1: 1,000
#: levels overflowed the parser's recursion, a 500)
MAX_NESTING = 32
#: names an object may carry beyond its schema's fields before the rest are not looked at
MAX_UNKNOWN_FIELDS = 50

#: a JSON text reduced to its brackets and quotes: braces made brackets, the rest dropped
_BRACES_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


def _nesting(levels: int) -> re.Pattern[bytes]:
    """Brackets nested at most ``levels`` deep, with strings (``"..."``, escapes removed)
    as atoms at any level: ``(?:\\[(?:\\[...\\]|"[^"]*+")*+\\]|"[^"]*+")*+``. Every
    quantifier is possessive and every alternative starts with its own character, so the
    match is one pass with no backtracking."""
    string = r'"[^"]*+"'
    pattern = rf"{string}*+"
    for _ in range(levels):
        pattern = rf"(?:\[{pattern}\]|{string})*+"
    return re.compile(pattern.encode())


_WITHIN_NESTING = _nesting(MAX_NESTING)


def nesting_deeper_than_allowed(raw: bytes) -> bool:
    """False if the JSON text ``raw`` nests objects and arrays at most :data:`MAX_NESTING`
    deep; True if it nests deeper or is not JSON. Told before it is parsed, in C-speed
    passes over the bytes (no Python step per character or per string): escapes removed,
    everything but brackets, braces and quotes dropped, then one possessive regular
    expression. The parser then tells deep (a 422) from malformed (a 400)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_NESTING:
        return False
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = unescaped.translate(_BRACES_AS_BRACKETS, _NOT_STRUCTURE)
    return _WITHIN_NESTING.fullmatch(structure) is None


def too_deep() -> ValidationFailed:
    return ValidationFailed("the body nests deeper than {levels} levels",
                            {"_schema": [field_error("request.too_deep",
                                                     "nested deeper than {levels} levels",
                                                     levels=MAX_NESTING)]},
                            code="request.too_deep", params={"levels": MAX_NESTING})


def _max_length(field: fields.Field[Any]) -> int | None:
    bounds = [v.max for v in field.validators if isinstance(v, validate.Length)
              and v.max is not None]
    return min(bounds) if bounds else None


def oversized_fields(schema: Schema, data: Any) -> FieldErrors:
    """Lists longer than their field's maximum and objects with more than
    :data:`MAX_UNKNOWN_FIELDS` names the schema does not know, found before marshmallow
    looks at a single item: it deserialises every item of a list before checking its length
    (330,000 attachments took 9.6 s of the gateway's event loop and a 14.7 MB answer)."""
    found: FieldErrors = {}
    if not isinstance(data, dict):
        return found
    known = {field.data_key or name for name, field in schema.load_fields.items()}
    unknown = len(data) - len(known & data.keys())
    if unknown > MAX_UNKNOWN_FIELDS:
        found["_schema"] = [field_error("request.too_many_fields",
                                        "more than {count} unknown fields",
                                        count=MAX_UNKNOWN_FIELDS)]
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        value = data.get(key)
        if isinstance(field, fields.List) and isinstance(value, list):
            longest = _max_length(field)
            if longest is not None and len(value) > longest:
                found[key] = [field_error("field.too_long", "Longer than maximum length {max}.",
                                          max=longest)]
                continue
            inner = field.inner
            if isinstance(inner, fields.Nested) and isinstance(inner.schema, Schema):
                nested = {str(i): errors for i, item in enumerate(value)
                          if (errors := oversized_fields(inner.schema, item))}
                if nested:
                    found[key] = nested  # type: ignore[assignment]
        elif isinstance(field, fields.Nested) and isinstance(field.schema, Schema) \
                and not field.many and isinstance(value, dict):
            nested_errors = oversized_fields(field.schema, value)
            if nested_errors:
                found[key] = nested_errors  # type: ignore[assignment]
    return found


def load(schema: Schema, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object",
                               {"_schema": [field_error("request.not_object",
                                                        "not a JSON object")]},
                               code="request.not_object")
    oversized = oversized_fields(schema, data)
    if oversized:
        raise invalid_fields(oversized)
    try:
        bad_text = unstorable_fields(data)
    except RecursionError as exc:  # nested deeper than the gateway lets through
        raise too_deep() from exc
    if bad_text:
        raise invalid_fields(bad_text)
    try:
        loaded: dict[str, Any] = schema.load(data)
        return loaded
    except MarshmallowError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise invalid_fields(coded(messages, data)) from exc


_UUID = re.compile(UUID_PATTERN)


def is_uuid(value: object) -> bool:
    """True if ``value`` is a UUID in canonical text form (ids from URLs are checked before any
    query: ``uuid.UUID`` also takes ``urn:uuid:...``, which PostgreSQL refuses)."""
    return isinstance(value, str) and _UUID.match(value) is not None
