"""The OpenAPI 3.1 document, generated from the route table and the contract schemas."""

from __future__ import annotations

import json
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from common import __version__
from gateway.endpoints import Endpoint
from gateway.problems import PROBLEM_JSON, TITLES

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "object", "description": "field name -> reasons"},
    },
}

DESCRIPTION = """企业网格化服务平台 API. JSON under `/api/v1/`; errors are
`application/problem+json` (RFC 9457); times are ISO 8601 with offset (Asia/Shanghai)."""

_SCHEMA_NAME = re.compile(r"Schema$")


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return _SCHEMA_NAME.sub("", cls.__name__) or cls.__name__


def build_spec(endpoints: list[Endpoint]) -> dict[str, Any]:
    spec = APISpec(
        title="gridsvc",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": DESCRIPTION},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    # validators' bounds may be Decimals (money fields); JSON has only numbers
    return json.loads(json.dumps(spec.to_dict(), default=float))


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": TITLES.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


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
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", ep.path)
    ]
    if ep.query is not None:
        parameters.append({"in": "query", "schema": ep.query})
    for name, description in ep.headers.items():
        parameters.append({"in": "header", "name": name, "required": False,
                           "description": description,
                           "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
    if ep.versioned:
        parameters.append({"in": "header", "name": "If-Match", "required": False,
                           "description": "the ETag last read; a stale one gets 412",
                           "schema": {"type": "string", "pattern": r'^(W/)?"?\d{1,9}"?$'}})
    if parameters:
        op["parameters"] = parameters
    if ep.body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": ep.body}}}
    if ep.upload_media:
        binary = {"schema": {"type": "string", "format": "binary"}}
        op["requestBody"] = {"required": True, "content": dict.fromkeys(ep.upload_media, binary)}
    ok: dict[str, Any] = {"description": "OK"}
    if ep.download_media:
        ok["content"] = {ep.download_media: {"schema": {"type": "string", "format": "binary"}}}
    if ep.response is not None:
        ok["content"] = {"application/json": {"schema": ep.response}}
    op["responses"][str(ep.status)] = ok
    if ep.status == 201:
        op["responses"]["200"] = {**ok, "description": "Already submitted with this key"}
    if ep.response is not None and "version" in ep.response().fields:
        ok["headers"] = {"ETag": {"description": "the resource's version, for If-Match",
                                  "schema": {"type": "string"}}}
    errors = set(ep.errors) | {503, 504}
    if ep.versioned:
        errors |= {400, 412}
    if ep.roles is not None:
        op["security"] = [{"bearer": []}]
        errors |= {401, 403}
    for status in sorted(errors):
        op["responses"][str(status)] = _problem(status)
    return op
