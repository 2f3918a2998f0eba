"""``/api/v1/dictionaries`` (字典): every enumeration's codes with their labels.

The enumerations are :data:`common.dictionaries.DICTIONARIES` (statuses, closures, channels,
roles, kinds of deadline, escalation levels, scales ...); the registry's departments and
demand categories come from the enterprise service, by their names. Each entry is
``{"code", "label", "labels": {"zh-CN", "en"}}``, ``label`` in the request's language.

Clients cache the answer: ``ETag`` is a hash of the body (``version`` one of the content in
every language), ``Cache-Control: private, max-age=300``, and a matching ``If-None-Match``
gets 304 without a body.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from typing import Any

from marshmallow import Schema, fields
from starlette.responses import JSONResponse, Response

from common.dictionaries import DICTIONARIES, entries, named
from common.errors import field_error
from common.i18n import LANGUAGES
from gateway.endpoints import HEADER_VALUE, Call, Endpoint
from gateway.problems import LANGUAGE, Problem
from services.enterprise.industry import DIVISIONS

CACHE_CONTROL = "private, max-age=300"
#: the dictionaries the registry keeps (records named in Chinese), next to the fixed ones
REGISTRY = ("department", "category")
#: GB/T 4754-2017 大类 as the API writes them (C39 计算机、通信和其他电子设备制造业): filters and
#: audiences name industries by division; a fixed table (a pure module of the registry)
INDUSTRY_DIVISIONS = tuple((f"{d.section}{d.code}", d.name) for d in DIVISIONS.values())


class TermSchema(Schema):
    code = fields.String(required=True, metadata={"description": "for programs: stable"})
    label = fields.String(required=True, metadata={
        "description": "for people, in the request's language (Content-Language)"})
    labels = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "the label in every language: zh-CN, en"})


class DictionariesSchema(Schema):
    version = fields.String(required=True, metadata={
        "description": "a hash of every dictionary in every language: a new one means new "
                       "codes or labels"})
    dictionaries = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(TermSchema)), required=True,
        metadata={"description": "dictionary name → its entries in their natural order"})


@functools.cache
def _fixed(language: str) -> dict[str, list[dict[str, Any]]]:
    """The dictionaries of the code (they change only with a release) in ``language``."""
    return {name: entries(name, language) for name in sorted(DICTIONARIES)}


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags


async def get_dictionaries(call: Call) -> Response:
    if_none_match = call.request.headers.get("if-none-match")
    if if_none_match is not None and (len(if_none_match) > 200
                                      or not HEADER_VALUE.match(if_none_match)):
        raise Problem(400, "If-None-Match must be entity tags of this API",
                      {"If-None-Match": [field_error("request.if_none_match_invalid",
                                                     "not an entity tag of this API")]},
                      code="request.if_none_match_invalid")
    departments, categories = await asyncio.gather(
        call.rpc("enterprise", "list_departments"), call.rpc("enterprise", "list_categories"))
    language = LANGUAGE.get()
    registry = {
        "department": [(d["id"], d["name"]) for d in departments],
        "category": [(c["code"], c["name"]) for c in categories],
        "industry_division": INDUSTRY_DIVISIONS,
    }
    dictionaries = dict(_fixed(language))
    dictionaries |= {name: named(items, language) for name, items in registry.items()}
    content = {name: [{"code": e["code"], "labels": e["labels"]} for e in items]
               for name, items in dictionaries.items()}
    body = {"version": _digest({"languages": LANGUAGES, "content": content}),
            "dictionaries": dictionaries}
    etag = f'"{_digest(body)}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Language",
               "Content-Language": language}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(body, headers=headers)


ENDPOINTS = [
    Endpoint("GET", "/api/v1/dictionaries", get_dictionaries, "List the dictionaries",
             "dictionaries", response=DictionariesSchema,
             headers={"If-None-Match": "the ETag last read: 304 when nothing changed"},
             description="字典: every enumeration of the API (statuses, closures, channels, "
             "urgencies, difficulties, roles, kinds of deadline, escalation levels, scales, "
             "listing, policy, meeting and delivery states ...), the registry's departments "
             "and demand categories, and the industry divisions (`industry_division`, GB/T "
             "4754-2017 大类 as `C39`), each entry with its code and its labels in Chinese and "
             "English (`label`: the request's language). Every enum of this document names "
             "its dictionary (`x-dictionary`). Cache it: `ETag`, "
             "`Cache-Control: private, max-age=300`, 304 to a matching `If-None-Match`."),
]
