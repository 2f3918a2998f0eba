"""字典: every enumeration of the API with Chinese and English labels, checked against the
OpenAPI document, and ``GET /api/v1/dictionaries`` on the real platform."""

from __future__ import annotations

import pytest

from common.auth import Role
from common.dictionaries import DICTIONARIES, dictionary_of, label_of
from common.i18n import EN, ZH
from gateway.openapi import build_spec
from gateway.routes import API_ENDPOINTS
from services.ticketing import sla
from services.ticketing.workflow import TaskAction


def enums(node, path="", parent=None):
    """Every schema with an ``enum`` in the document, with where it is and what holds it (a
    query parameter carries its schema's description)."""
    if isinstance(node, dict):
        if "enum" in node:
            yield path, node, parent or {}
        for key, value in node.items():
            yield from enums(value, f"{path}/{key}", node)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from enums(value, f"{path}/{index}", parent)


def test_every_enum_of_the_openapi_document_has_its_dictionary():
    spec = build_spec(API_ENDPOINTS)
    found = list(enums(spec))
    assert len(found) > 50  # request and response schemas, query parameters, dict keys
    for path, schema, holder in found:
        name = schema.get("x-dictionary")
        assert name in DICTIONARIES, f"{path}: enum {schema['enum']} names no dictionary"
        codes = {str(v) for v in schema["enum"] if v is not None}
        assert set(DICTIONARIES[name].codes) == codes, f"{path}: {name} != {codes}"
        description = schema.get("description") or holder.get("description") or ""
        assert f"`{name}`" in description, path


def test_no_two_dictionaries_list_the_same_codes():
    by_codes = {}
    for dictionary in DICTIONARIES.values():
        other = by_codes.setdefault(frozenset(dictionary.codes), dictionary.name)
        assert other == dictionary.name, f"{other} and {dictionary.name} list the same codes"
        assert len(set(dictionary.codes)) == len(dictionary.codes), dictionary.name
    assert dictionary_of(["received", "triaged", "in_progress", "awaiting_rating", "closed",
                          None]) == "demand_status"


def test_dictionaries_of_codes_no_enum_states():
    """Codes that responses carry without an enum: the dictionaries follow the services."""
    assert set(DICTIONARIES["deadline_kind"].codes) == set(sla.KINDS)
    assert set(DICTIONARIES["task_action"].codes) == {a.value for a in TaskAction}
    assert set(DICTIONARIES["role"].codes) == {r.value for r in Role} - {"service"}
    assert set(DICTIONARIES["actor_role"].codes) == {r.value for r in Role}


@pytest.mark.parametrize("dictionary", sorted(DICTIONARIES))
def test_every_label_reads_in_chinese_and_english(dictionary):
    for code in DICTIONARIES[dictionary].codes:
        chinese, english = label_of(dictionary, code, ZH), label_of(dictionary, code, EN)
        assert english and chinese and chinese != english, (dictionary, code)
