"""The OpenAPI 3.1 document, generated from the route table and the contract schemas."""

from __future__ import annotations

import json
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from common import __version__
from common.dictionaries import dictionary_of
from common.fields import Text
from gateway import examples
from gateway.endpoints import HEADER_VALUE, PRECONDITION_REQUIRED_METHODS, Endpoint
from gateway.problems import PROBLEM_JSON, TITLES

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string", "description": "in the language of Content-Language"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable, for programs: never translated",
                 "examples": ["demand.not_ratable"]},
        "detail": {"type": "string", "description": "for people, in the request's language"},
        "instance": {"type": "string"},
        "errors_omitted": {"type": "integer", "minimum": 1,
                           "description": "refused fields not listed in errors (it lists the "
                                          "first 50)"},
        "errors": {
            "type": "object",
            "description": "the refused fields, by dotted path (tasks.0.department_id)",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
}

DESCRIPTION = """企业网格化服务平台 API. JSON under `/api/v1/`; errors are
`application/problem+json` (RFC 9457) with a stable `code`, texts in the language of
`Accept-Language` (zh-CN by default, or en); times are ISO 8601 with offset (Asia/Shanghai);
codes of enumerations are listed with their labels by `GET /api/v1/dictionaries`. Answers over
1 KB are gzip-compressed for clients that send `Accept-Encoding: gzip`. Conventions:
docs/api.md of the repository."""

#: the document's ``info.contact`` and ``info.license``: Apache-2.0 (the repository's LICENSE;
#: why, in docs/api.md); its maintainers answer through the repository
CONTACT = {"name": "gridsvc maintainers (the repository's issues)"}
LICENSE = {"name": "Apache-2.0", "identifier": "Apache-2.0"}
#: where the API is served: the same origin as the document (the console's too)
SERVERS = [{"url": "/", "description": "this gateway (the same origin as /openapi.json)"}]

#: what each tag groups, for readers of /docs
TAGS: dict[str, str] = {
    "auth": "Sign-in (登录): tokens for accounts, sign-out, token revocation",
    "accounts": "Staff and enterprise accounts (账号), roles, passwords",
    "dictionaries": "Dictionaries (字典): every enumeration's codes with Chinese and English "
                    "labels",
    "departments": "Departments (部门) and their liaisons, categories of demands (诉求类别)",
    "grids": "Grids (网格), their staff and the coverage report (全覆盖、无遗漏)",
    "enterprises": "Enterprises (企业): registration, scope, profile (企业画像), search, "
                   "import and export",
    "contracts": "Agreements and contracts (协议合同) with their obligations",
    "visits": "Visits (走访) of grid staff and the enterprises not visited",
    "demands": "Demands (诉求): intake, triage, rating, closure, the enterprise's timeline",
    "tasks": "Tasks (任务) of departments: acceptance, return, coordination, notes, "
             "extensions, completion",
    "ledger": "The ledger (台账): every step, the problem, task and done lists, their search "
              "and XLSX exports with progress",
    "inbox": "Messages (站内消息) and their e-mail and WeCom deliveries",
    "calendar": "Working days (工作日, 调休) and the 10:00 triage deadline",
    "sla": "Deadlines and escalation settings (办理时限, 督办)",
    "policies": "Policies and notices (政策发布) with their audiences",
    "listings": "The supply/demand board (供求信息): listings, matches, search",
    "dockings": "Matchmaking (点对点对接) between enterprises of the board",
    "appraisal": "Appraisal (考评) of grid workers, liaisons, departments and grids; awards; "
                 "the overview",
    "meetings": "Government-enterprise meetings (政企座谈): plans, invitations, feedback",
    "zone": "Zone resources (区域资源): carriers, projects, institutes, leading industries, "
            "economic figures",
}
#: the response headers a status carries
RETRY_AFTER = {"Retry-After": {
    "description": "seconds to wait before trying again",
    "schema": {"type": "string", "pattern": r"^[0-9]{1,9}$"}}}
LOCATION = {"Location": {
    "description": "where what was created (or accepted) can be read",
    "required": True, "schema": {"type": "string", "pattern": r"^/api/v1/\S+$"}}}

_SCHEMA_NAME = re.compile(r"Schema$")

#: what every string accepts: no U+0000 (PostgreSQL text cannot hold it; 422 otherwise)
NO_NUL = r"^[^\x00]*$"
#: the characters Python's ``str.strip()`` removes (``str.isspace``), spelled out: ECMA-262's
#: ``\s`` differs (it lacks U+0085 and U+001C-U+001F and has U+FEFF), so a document using it
#: said ``"\u0085J"`` was two characters where the service trimmed it to one (issue 22,
#: finding 9). ``tests/unit/test_fields.py`` checks this class against ``str.isspace``.
SPACE = (r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f"
         r"\u3000")
#: a character a ``Text`` field keeps at either end of its trimmed value
KEPT = rf"[^\x00{SPACE}]"
#: a ``Text`` field is trimmed before it is checked, so it needs one character that is not
#: white space
NOT_BLANK = rf"^[^\x00]*{KEPT}[^\x00]*$"


def trimmed_at_least(length: int) -> str:
    """The pattern of a ``Text`` field whose trimmed value has at least ``length`` characters
    (its ``minLength`` counts the text as sent, white space at the ends included): two kept
    characters at least ``length - 1`` apart."""
    if length <= 1:
        return NOT_BLANK
    return rf"^[^\x00]*{KEPT}[^\x00]{{{length - 2},}}{KEPT}[^\x00]*$"


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return _SCHEMA_NAME.sub("", cls.__name__) or cls.__name__


def _text_pattern(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The pattern a string field really obeys, unless a validator already gives one."""
    kind = ret.get("type")
    if "string" not in (kind if isinstance(kind, list) else [kind]):
        return {}
    if any(key in ret for key in ("pattern", "format", "enum", "const")):
        return {}
    shortest = ret.get("minLength", 0) if isinstance(field, Text) else 0
    return {"pattern": trimmed_at_least(shortest) if shortest >= 1 else NO_NUL}


def _dict_keys(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A ``Dict`` field as JSON Schema states it: the names it takes (``propertyNames``, what
    its key field accepts) and how many (a ``Length`` counts entries: min/maxProperties, not
    the min/maxLength of a string)."""
    if not isinstance(field, fields.Dict):
        return {}
    counts = {f"{bound}Properties": ret.pop(f"{bound}Length")
              for bound in ("min", "max") if f"{bound}Length" in ret}
    keys = getattr(field, "key_field", None)
    return counts if keys is None else {**counts, "propertyNames": self.field2property(keys)}


def _dictionary(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """An enum names its dictionary (``x-dictionary``: its codes with labels in Chinese and
    English, ``GET /api/v1/dictionaries``): the one whose codes are exactly the enum's."""
    if "enum" not in ret or "x-dictionary" in ret:
        return {}
    name = dictionary_of(ret["enum"])
    if name is None:
        return {}
    sentence = (f"Codes of the dictionary `{name}`: their labels for people (Chinese, "
                "English) are in GET /api/v1/dictionaries.")
    description = ret.get("description")
    return {"x-dictionary": name,
            "description": f"{description} {sentence}" if description else sentence}


def build_spec(endpoints: list[Endpoint]) -> dict[str, Any]:
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title="gridsvc",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": DESCRIPTION, "contact": CONTACT, "license": LICENSE},
        servers=SERVERS,
    )
    assert plugin.converter is not None
    plugin.converter.add_attribute_function(_text_pattern)
    plugin.converter.add_attribute_function(_dict_keys)
    plugin.converter.add_attribute_function(_dictionary)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    for tag in sorted({ep.tag for ep in endpoints}):
        spec.tag({"name": tag, "description": TAGS.get(tag, tag)})
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep)
    _add_links(endpoints, paths)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    # validators' bounds may be Decimals (money fields); JSON has only numbers
    return json.loads(json.dumps(spec.to_dict(), default=float))


_FIRST_PARAM = re.compile(r"^/{(\w+)}(?:/|$)")


def _returns_id(ep: Endpoint) -> bool:
    return ep.response is not None and "id" in ep.response().fields


def _returns_items_with_id(ep: Endpoint) -> bool:
    if ep.response is None:
        return False
    items = ep.response().fields.get("items")
    inner = getattr(getattr(items, "inner", None), "schema", None)
    return inner is not None and "id" in inner.fields


def _add_links(endpoints: list[Endpoint], paths: dict[str, dict[str, Any]]) -> None:
    """OpenAPI links from the route table, for clients and stateful testing: what a POST to a
    collection creates (201, ``id`` in the body) and what a list returns (``items[0].id``) feed
    every operation under ``<collection>/{id}`` that needs no other path parameter (show,
    change, the sub-resources such as a demand's triage and timeline)."""
    for source in endpoints:
        if source.method == "POST" and source.status == 201 and _returns_id(source):
            pointer, statuses = "$response.body#/id", ("201", "200")
        elif source.method == "GET" and _returns_items_with_id(source):
            pointer, statuses = "$response.body#/items/0/id", ("200",)
        else:
            continue
        links: dict[str, Any] = {}
        for target in endpoints:
            if not target.path.startswith(source.path + "/"):
                continue
            match = _FIRST_PARAM.match(target.path[len(source.path):])
            if match is None or len(re.findall(r"{\w+}", target.path)) != 1:
                continue
            links[f"{target.operation_id}"] = {
                "operationId": target.operation_id,
                "parameters": {f"path.{match.group(1)}": pointer},
            }
        if not links:
            continue
        responses = paths[source.path][source.method.lower()]["responses"]
        for status in statuses:
            if status in responses:
                responses[status]["links"] = links


def _problem(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": TITLES.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in (429, 503):
        answer["headers"] = dict(RETRY_AFTER)
    return answer


def _operation(ep: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": ep.operation_id,
        "summary": ep.summary,
        "tags": [ep.tag],
        "responses": {},
    }
    if ep.description:
        op["description"] = ep.description
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True,
         "schema": {"type": "string", "pattern": NO_NUL}}
        for name in re.findall(r"{(\w+)}", ep.path)
    ]
    if ep.query is not None:
        parameters.append({"in": "query", "schema": ep.query})
    for name, description in ep.headers.items():
        parameters.append({"in": "header", "name": name, "required": False,
                           "description": description,
                           "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                                      "pattern": HEADER_VALUE.pattern}})
    if ep.versioned:
        required = ep.method in PRECONDITION_REQUIRED_METHODS
        parameters.append({
            "in": "header", "name": "If-Match", "required": required,
            "description": "the ETag last read (a stale one gets 412), or * for any existing "
                           "version" + ("; without it 428" if required else ""),
            "schema": {"type": "string", "pattern": r'^((W/)?"?\d{1,9}"?|\*)$'}})
    if parameters:
        op["parameters"] = parameters
    if ep.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": ep.body, "example": examples.of(ep.body, loading=True)}}}
    if ep.upload_media:
        binary = {"schema": {"type": "string", "format": "binary", "minLength": 1}}
        op["requestBody"] = {"required": True, "content": dict.fromkeys(ep.upload_media, binary)}
    ok: dict[str, Any] = {"description": "OK"}
    if ep.download_media:
        ok["content"] = {ep.download_media: {"schema": {"type": "string", "format": "binary"}}}
    if ep.response is not None:
        ok["content"] = {"application/json": {"schema": ep.response,
                                              "example": examples.of(ep.response)}}
    if ep.status in (201, 202):
        ok["headers"] = dict(LOCATION)
    op["responses"][str(ep.status)] = ok
    if ep.status == 201:
        op["responses"]["200"] = {**ok, "description": "Already submitted with this key"}
    if ep.response is not None and "version" in ep.response().fields:
        ok["headers"] = {**ok.get("headers", {}), "ETag": {
            "description": "the resource's version, for If-Match",
            "schema": {"type": "string"}}}
    errors = set(ep.errors) | {503, 504}
    # what the gateway itself answers before a service is asked
    if ep.body is not None or ep.upload_media:
        errors |= {400, 413, 415, 422}  # unreadable, too large, not JSON, invalid fields
    if ep.query is not None:
        errors |= {422}
    if ep.headers:
        errors |= {400}  # a documented header with an invalid value
    if "{" in ep.path:
        errors |= {404}  # no such resource, or not yours
    if ep.versioned:
        errors |= {400, 412}
        if ep.method in PRECONDITION_REQUIRED_METHODS:
            errors |= {428}
    if ep.roles is not None:
        op["security"] = [{"bearer": []}]
        errors |= {401, 403}
    for status in sorted(errors):
        op["responses"][str(status)] = _problem(status)
    return op
