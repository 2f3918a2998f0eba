"""字典: every enumeration of the API with Chinese and English labels, checked against the
OpenAPI document, and ``GET /api/v1/dictionaries`` on the real platform."""

from __future__ import annotations

import pytest
from helpers import bearer

from common.auth import Role
from common.dictionaries import DICTIONARIES, dictionary_of, label_of
from common.i18n import EN, ZH
from gateway.openapi import build_spec
from gateway.routes import API_ENDPOINTS
from services.ticketing import sla
from services.ticketing.workflow import TaskAction

URL = "/api/v1/dictionaries"


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


def test_the_dictionaries_endpoint(client, token):
    enterprise = bearer(token(Role.ENTERPRISE, enterprise_id="e-dictionaries"))
    answer = client.get(URL, headers=enterprise)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "private, max-age=300"
    etag = answer.headers["etag"]
    body = answer.json()
    dictionaries = body["dictionaries"]
    assert set(DICTIONARIES) | {"department", "category"} == set(dictionaries)
    received = dictionaries["demand_status"][0]
    assert received == {"code": "received", "label": "待分理",
                        "labels": {"zh-CN": "待分理", "en": "Received"}}
    assert [e["code"] for e in dictionaries["role"]] == list(DICTIONARIES["role"].codes)
    departments = {e["code"]: e for e in dictionaries["department"]}
    assert departments["fire_rescue"]["label"] == "消防大队"
    assert departments["fire_rescue"]["labels"] == {"zh-CN": "消防大队", "en": "Fire rescue"}
    categories = {e["code"]: e["label"] for e in dictionaries["category"]}
    assert categories["fire"] == "消防" and categories["talent"] == "人才"

    # cached by its ETag: the same answer is 304 without a body
    again = client.get(URL, headers=enterprise | {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get(URL, headers=enterprise | {"If-None-Match": f'"x", W/{etag}'})
    assert weak.status_code == 304
    assert client.get(URL, headers=enterprise | {"If-None-Match": '"x"'}).status_code == 200

    # in English: other labels, another ETag, the same codes and version
    english = client.get(URL, headers=enterprise | {"Accept-Language": "en",
                                                    "If-None-Match": etag})
    assert english.status_code == 200
    assert english.headers["etag"] != etag
    assert english.json()["version"] == body["version"]
    assert english.json()["dictionaries"]["demand_status"][0]["label"] == "Received"
    assert english.json()["dictionaries"]["department"] == [
        {**e, "label": e["labels"]["en"]} for e in dictionaries["department"]]


@pytest.mark.parametrize("role, claims", [
    (Role.GRID_WORKER, {"grid_ids": ("GEO01",)}), (Role.LIAISON, {"department_id": "finance"}),
    (Role.COORDINATOR, {}), (Role.LEADER, {}), (Role.ADMIN, {}),
    (Role.DEPARTMENT_HEAD, {"department_id": "finance"}), (Role.GRID_LEADER, {"grid_ids": ()}),
])
def test_every_role_reads_the_dictionaries(client, token, role, claims):
    assert client.get(URL, headers=bearer(token(role, **claims))).status_code == 200


def test_the_dictionaries_need_a_token(client):
    answer = client.get(URL)
    assert answer.status_code == 401
    assert answer.json()["code"] == "auth.token_missing"
    assert answer.json()["detail"] == "请先登录（需要 Bearer 令牌）"
