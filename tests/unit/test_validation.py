"""Every refusal of input is coded in one place (common/validation.py): marshmallow's own
messages by their templates, ours as coded reasons; bounds missed either way are told apart."""

from __future__ import annotations

import inspect

import pytest
from marshmallow import Schema, fields, validate

from common.errors import ValidationFailed
from common.fields import Day, Id, SearchText, Text
from common.validation import MARSHMALLOW_MESSAGES, UNCODED, coded_item, load


def marshmallow_messages() -> set[str]:
    """The default messages of the installed marshmallow, as it formats them (Range's with
    both operators filled in)."""
    found: set[str] = set()
    for _name, cls in inspect.getmembers(fields, inspect.isclass):
        if issubclass(cls, fields.Field):
            found |= set(cls.__dict__.get("default_error_messages", {}).values())
    found |= set(Schema._default_error_messages.values())
    for _name, cls in inspect.getmembers(validate, inspect.isclass):
        for attr, value in vars(cls).items():
            if attr in ("default_message", "message_min", "message_max", "message_all",
                        "message_equal") and isinstance(value, str):
                found.add(value)
    ranged = set()
    for text in found:
        if "{min_op}" in text or "{max_op}" in text:
            for low in ("greater than or equal to", "greater than"):
                for high in ("less than or equal to", "less than"):
                    ranged.add(text.format(min_op=low, max_op=high))
    found = {t for t in found if "{min_op}" not in t and "{max_op}" not in t} | ranged
    # the temporal fields fill in their kind
    found |= {t.replace("{obj_type}", kind) for t in found
              if "{obj_type}" in t and "{awareness}" not in t
              for kind in ("date", "datetime", "time")}
    found |= {t.replace("{obj_type}", "datetime").replace("{awareness}", awareness)
              for t in found if "{awareness}" in t for awareness in ("aware", "naive")}
    return {t for t in found if "{obj_type}" not in t and "{awareness}" not in t}


def test_every_message_of_marshmallow_has_a_code():
    templates = {template for template, _code in MARSHMALLOW_MESSAGES}
    uncoded = {text for text in marshmallow_messages()
               if coded_item(text.replace("{input!r}", "'x'").replace("{input}", "x"))["code"]
               == UNCODED and text not in templates}
    assert not uncoded, uncoded


class Sample(Schema):
    title = Text(required=True, validate=validate.Length(1, 5))
    count = fields.Integer(validate=validate.Range(1, 5))
    kind = fields.String(validate=validate.OneOf(("a", "b")))
    owner = Id()
    day = Day()
    q = SearchText(length=(1, 4))


def reasons(data):
    with pytest.raises(ValidationFailed) as refused:
        load(Sample(), data)
    assert refused.value.code == "validation_failed"
    return {field: [r["code"] for r in items] for field, items in refused.value.errors.items()}


@pytest.mark.parametrize("data, expected", [
    ({}, {"title": ["field.required"]}),
    ({"title": "x", "extra": 1}, {"extra": ["field.unknown"]}),
    ({"title": "toolong"}, {"title": ["field.too_long"]}),
    ({"title": "  "}, {"title": ["field.too_short"]}),  # blank once trimmed
    ({"title": 3}, {"title": ["field.not_string"]}),
    ({"title": None}, {"title": ["field.null"]}),
    ({"title": "x", "count": 9}, {"count": ["field.too_large"]}),
    ({"title": "x", "count": 0}, {"count": ["field.too_small"]}),
    ({"title": "x", "count": "many"}, {"count": ["field.not_integer"]}),
    ({"title": "x", "kind": "c"}, {"kind": ["field.not_one_of"]}),
    ({"title": "x", "owner": "not-an-id"}, {"owner": ["field.not_id"]}),
    ({"title": "x", "day": "2026-13-01"}, {"day": ["field.not_day"]}),
    ({"title": "x", "q": "longer"}, {"q": ["field.too_long"]}),
    ({"title": "x\x00"}, {"title": ["field.unstorable_text"]}),
])
def test_refusals_are_coded(data, expected):
    assert reasons(data) == expected


def test_the_numbers_of_a_message_become_its_parameters():
    item = coded_item("Length must be between 1 and 200.", "x" * 201)
    assert item == {"code": "field.too_long", "message": "Length must be between {min} and {max}.",
                    "params": {"min": "1", "max": "200"}}
    assert coded_item("Must be one of: a, b.")["params"] == {"choices": "a, b"}
    assert coded_item("something nobody coded") == {"code": UNCODED,
                                                    "message": "something nobody coded"}


def test_nesting_is_told_before_parsing():
    """Issue 22, finding 1: nesting deeper than MAX_NESTING is found in the bytes, strings
    and escapes understood, and malformed text is left to the parser."""
    from common.validation import MAX_NESTING, nesting_deeper_than_allowed

    def nested(levels: int) -> bytes:
        return b'{"a":' * levels + b"1" + b"}" * levels

    assert not nesting_deeper_than_allowed(nested(MAX_NESTING))
    assert nesting_deeper_than_allowed(nested(MAX_NESTING + 1))
    assert nesting_deeper_than_allowed(b"[" * 1000 + b"]" * 1000)
    assert nesting_deeper_than_allowed(b"[" * 500_000)  # the parser then refuses it
    assert not nesting_deeper_than_allowed(b'["' + b"[" * 100 + b'"]')
    assert not nesting_deeper_than_allowed(b'["\\"' + b"[" * 100 + b'\\\\"]')
    assert not nesting_deeper_than_allowed(b'[{"a": [1, [2, {"b": "]]]]"}]]}]' * 100)


def test_list_lengths_are_checked_before_any_item():
    from marshmallow import Schema, fields, validate

    from common.validation import MAX_UNKNOWN_FIELDS, oversized_fields

    class Item(Schema):
        name = fields.String(required=True)

    class Body(Schema):
        items = fields.List(fields.Nested(Item), validate=validate.Length(0, 3))
        inner = fields.Nested(Item)
        tags = fields.List(fields.String(), validate=validate.Length(0, 2))

    assert oversized_fields(Body(), {"items": [{}] * 3, "tags": ["a"]}) == {}
    refused = oversized_fields(Body(), {"items": [{}] * 330_000, "tags": ["a", "b", "c"]})
    assert set(refused) == {"items", "tags"}
    assert refused["items"][0]["code"] == "field.too_long"
    unknown = oversized_fields(Body(), {f"x{i}": i for i in range(MAX_UNKNOWN_FIELDS + 1)})
    assert unknown["_schema"][0]["code"] == "request.too_many_fields"


def test_every_list_of_every_request_has_a_documented_maximum():
    """Issue 22, finding 1: attachments, departments, audience criteria, named enterprises,
    batch items ... every array of every request body states maxItems in the document."""
    from gateway.app import API_ENDPOINTS
    from gateway.openapi import build_spec

    spec = build_spec(API_ENDPOINTS)
    schemas = spec["components"]["schemas"]
    unbounded: list[str] = []

    def walk(node: dict, path: str, seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(schemas[name], path, seen | {name})
            return
        kinds = node.get("type")
        if kinds == "array" or (isinstance(kinds, list) and "array" in kinds):
            if "maxItems" not in node:
                unbounded.append(path)
            walk(node.get("items", {}), f"{path}.*", seen)
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{name}", seen)
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                walk(sub, path, seen)

    bodies = 0
    for route, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                bodies += 1
                walk(body["schema"], f"{method.upper()} {route}", frozenset())
    assert bodies > 50 and unbounded == []


def test_a_boundary_has_at_most_10000_positions():
    from services.enterprise import geo

    ring = [[120.0 + i * 1e-6, 36.0] for i in range(geo.MAX_POSITIONS)] + [[120.0, 36.0]]
    with pytest.raises(geo.InvalidBoundary) as refused:
        geo.parse_polygon({"type": "Polygon", "coordinates": [ring]})
    assert refused.value.code == "grid.boundary_too_large"
    square = geo.rectangle(120.0, 36.0, 120.1, 36.1)
    assert geo.parse_polygon(square).area > 0
