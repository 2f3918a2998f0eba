"""Field rules shared by every service's schemas, read as the OpenAPI document states them
(JSON Schema patterns are ECMA-262: ``\\d``, ``\\w`` and case-folding are ASCII)."""

from __future__ import annotations

import re

import pytest
from marshmallow import Schema, ValidationError

from common.fields import Day, LocalDateTime, Pattern
from services.enterprise.schemas import USERNAME


@pytest.mark.parametrize("value", ["12", "٣٤", "１２"])
def test_a_digit_is_an_ascii_digit(value: str) -> None:
    two_digits = Pattern(r"^\d{2}$")
    if value == "12":
        assert two_digits(value) == value
    else:
        with pytest.raises(ValidationError):
            two_digits(value)


@pytest.mark.parametrize("value", ["abc\n", "abcd", "\u212aab"])
def test_a_pattern_matches_the_whole_string_in_ascii(value: str) -> None:
    with pytest.raises(ValidationError):
        Pattern(r"^[a-z]{3}$", flags=re.IGNORECASE)(value)


@pytest.mark.parametrize("name", ["\u212aevin", "\u017fam", "bob\u0663"])
def test_the_username_rule_itself_takes_ascii_only(name: str) -> None:
    """The Kelvin sign folds to "k" and the long s to "s" in Unicode case-insensitive matching.
    (Through the API, ``Text`` applies NFKC first, which maps both to ASCII letters.)"""
    assert USERNAME("kevin") == "kevin"
    with pytest.raises(ValidationError):
        USERNAME(name)


class Dated(Schema):
    day = Day()
    at = LocalDateTime()


@pytest.mark.parametrize(("field", "value"), [
    ("day", "2026-11-2\u0667"), ("at", "2026-11-27T10:00:0\u0660+08:00")])
def test_dates_and_times_with_other_scripts_digits_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Dated().load({field: value})
    assert field in refused.value.messages
    assert Dated().load({"day": "2026-11-27", "at": "2026-11-27T10:00:00+08:00"})


def test_the_documents_white_space_is_what_python_trims() -> None:
    """The class the document spells out is exactly ``str.isspace`` (what ``strip()`` removes),
    over every code point: ECMA-262's ``\\s`` is not (issue 22, finding 9)."""
    from gateway.openapi import SPACE

    space = re.compile(f"[{SPACE}]")
    differ = [hex(c) for c in range(0x110000) if chr(c).isspace() != bool(space.fullmatch(chr(c)))]
    assert differ == []


#: texts whose trimmed length differs from their length as sent, or that are blank only to
#: one of Python and ECMA-262 (U+0085, U+001C-U+001F, U+FEFF), and plain ones
TRICKY_TEXTS = ["\u0085J", "J\u0085", "\u0085", "\ufeffJ", "\ufeff", "\x1cJ", " ab ", "ab", "a",
                "\u3000\u3000x\u3000", "x\u2028y", "  ", ""]


def _text_fields():
    from common.fields import Text
    from gateway.app import API_ENDPOINTS
    from gateway.openapi import _schema_name, build_spec

    spec = build_spec(API_ENDPOINTS)
    components = spec["components"]["schemas"]
    seen = set()
    for ep in API_ENDPOINTS:
        if ep.body is None or _schema_name(ep.body) in seen:
            continue
        seen.add(_schema_name(ep.body))
        schema = ep.body() if isinstance(ep.body, type) else ep.body
        properties = components.get(_schema_name(ep.body), {}).get("properties", {})
        for name, field in schema.fields.items():
            key = field.data_key or name
            if isinstance(field, Text) and key in properties:
                yield f"{_schema_name(ep.body)}.{key}", field, properties[key]


def test_every_text_field_of_a_request_is_refused_by_the_document_exactly_when_by_its_check(
) -> None:
    """Issue 22, finding 9: ``POST /listings/{id}/restore {"reason": "\\u0085J"}`` passed the
    document (two characters, one not blank) and was refused by the service, which trims it
    to "J" before counting. Every text field of every request body now gets the same verdict
    from the document (pattern, minLength, maxLength) and from the service's field."""
    import jsonschema

    disagreements = []
    fields = list(_text_fields())
    assert len(fields) > 50
    for where, field, prop in fields:
        document = {k: v for k, v in prop.items() if k in ("type", "pattern", "minLength",
                                                           "maxLength")}
        for text in TRICKY_TEXTS:
            by_document = jsonschema.Draft202012Validator(document).is_valid(text)
            try:
                field.deserialize(text)
                by_check = True
            except ValidationError:
                by_check = False
            if by_document and not by_check:  # a schema-valid request refused
                disagreements.append((where, text))
    assert disagreements == []
