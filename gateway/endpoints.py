"""The gateway's route table: one ``Endpoint`` per operation, with who may call it and the
contract schemas. Starlette routes, role checks, validation and the OpenAPI document are all
generated from this one table.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema
from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.auth import Principal, Role
from common.errors import ValidationFailed, field_error
from common.i18n import phrase
from common.logs import bind_call
from common.validation import load, nesting_deeper_than_allowed, storable, too_deep
from gateway.auth import authenticate
from gateway.problems import LANGUAGE, Problem, from_rpc_error, problem_response
from gateway.rpc import RpcError
from services.enterprise.schemas import AUDITED_ROLES

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "gridsvc_gateway_requests_total", "HTTP requests answered by the gateway",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "gridsvc_gateway_request_duration_seconds", "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
)

ALL_ROLES = frozenset(Role) - {Role.SERVICE}
#: a documented request header's value: printable ASCII, no white space at either end
HEADER_VALUE = re.compile(r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$")
#: roles whose successful writes go to the audit log (操作日志)
AUDITED = frozenset(Role(r) for r in AUDITED_ROLES)


@dataclass
class Call:
    """What a handler gets: the caller, validated input, and a way to call services."""

    request: Request
    principal: Principal | None
    token: str | None
    body: dict[str, Any]
    query: dict[str, Any]
    call_id: str
    #: the version the client last saw (``If-Match``), for a write that must not be stale
    if_match: int | None = None

    @property
    def expected_version(self) -> dict[str, Any]:
        """``expected_version=`` for the service call when the client sent If-Match."""
        return {} if self.if_match is None else {"expected_version": self.if_match}

    @property
    def path_params(self) -> dict[str, Any]:
        return self.request.path_params

    async def rpc(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        # the reader's language, for what a service writes itself (exports, explanations)
        context: dict[str, Any] = {"call_id_stack": [self.call_id], "language": LANGUAGE.get()}
        if self.token:
            context["auth_token"] = self.token
        return await self.request.app.state.rpc.call(
            service, method, *args, context=context, **kwargs
        )


Handler = Callable[[Call], Awaitable[Any]]


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    roles: frozenset[Role] | None = ALL_ROLES  # None: no authentication (system endpoints)
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # documented request headers
    upload_media: tuple[str, ...] = ()  # a raw file body of these types (read by the handler)
    download_media: str | None = None  # a file answered instead of JSON
    description: str = ""
    #: a write guarded by ``If-Match`` (optimistic concurrency: 412 on a stale version); the
    #: handler passes ``call.if_match`` to the service, or it arrives as the body's ``version``
    versioned: bool = False

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


async def _read_json(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip() not in ("application/json", ""):
        raise Problem(415, "send the body as application/json", code="request.not_json")
    raw = await request.body()
    if not raw:
        raise Problem(400, "the request body is empty; send a JSON object",
                      code="request.body_empty")
    # told before parsing (the parser recurses once per level: 1,000 levels were a 500)
    deep = nesting_deeper_than_allowed(raw)
    try:
        data = json.loads(raw)  # also tells deep from malformed text whose brackets pair
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "the body is not valid JSON: {reason}", code="request.invalid_json",
                      params={"reason": str(exc)}) from exc
    except RecursionError:
        deep = True
    if deep:
        refusal = too_deep()
        raise Problem(422, refusal.detail, refusal.errors, code=refusal.code,
                      params=refusal.params)
    return data


@functools.cache
def _schema(schema: type[Schema]) -> Schema:
    """One instance per schema class: building one deep-copies every field, and loading does
    not change it."""
    return schema()


def _validated(schema: type[Schema], data: Any) -> dict[str, Any]:
    try:
        return load(_schema(schema), data)
    except ValidationFailed as exc:
        raise Problem(422, exc.detail, exc.errors, code=exc.code, params=exc.params) from exc


_ENTITY_TAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$', re.ASCII)


def entity_tag(result: Any) -> str | None:
    """The ETag of a resource that carries an integer ``version``: ``"<version>"``."""
    if isinstance(result, dict):
        version = result.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            return f'"{version}"'
    return None


#: the writes that must name the version they change (RFC 6585 428 without one): a PATCH or
#: PUT of a versioned resource. A lost update is otherwise silent: two people read version 3,
#: both write, the second erases the first's change without either being told.
PRECONDITION_REQUIRED_METHODS = frozenset({"PATCH", "PUT"})


def requires_precondition(endpoint: Endpoint) -> bool:
    return endpoint.versioned and endpoint.method in PRECONDITION_REQUIRED_METHODS


def _if_match(request: Request) -> int | None:
    """The version named by ``If-Match`` (``"3"``, ``W/"3"`` or ``3``), None if absent or
    ``*`` (any existing version: the service still answers 404 for none)."""
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    match = _ENTITY_TAG.match(raw.strip())
    if match is None:
        raise Problem(400, "If-Match must be the ETag of the resource, e.g. \"3\"",
                      {"If-Match": [field_error("version.invalid",
                                                "not an entity tag of this API")]},
                      code="version.invalid")
    return int(match.group(1))


async def _audit(endpoint: Endpoint, request: Request, call_id: str, status: int) -> None:
    """操作日志: report a privileged caller's successful write to the registry's audit log.

    The write is already committed, so a failed report does not fail the request: it is
    logged in full instead (the JSON log is the fallback record)."""
    call: Call | None = getattr(request.state, "call", None)
    if call is None or call.principal is None or call.principal.role not in AUDITED:
        return
    entry = {"call_id": call_id, "method": endpoint.method, "route": endpoint.path,
             "path": request.url.path[:500], "action": endpoint.summary, "status": status,
             "subject_ids": {k: str(v)[:200] for k, v in request.path_params.items()},
             "fields_changed": sorted(call.body)[:100]}
    try:
        await call.rpc("enterprise", "record_admin_action", entry)
    except Exception as exc:  # noqa: BLE001 - the answer is already decided
        log.error("audit entry not recorded: %r", exc,
                  extra={"audit": entry, "actor": call.principal.user_id})


def make_route(endpoint: Endpoint) -> Route:
    async def view(request: Request) -> Response:
        started = time.perf_counter()
        call_id = f"gateway.{endpoint.operation_id}.{uuid.uuid4()}"
        bind_call(call_id)  # on every line logged for this request (common/logs.py)
        try:
            response = await _serve(endpoint, request, call_id)
        except Problem as exc:
            response = problem_response(
                exc.status, exc.detail, request.url.path, exc.errors, exc.headers,
                code=exc.code, params=exc.params,
            )
        except RpcError as exc:
            response = from_rpc_error(exc, request.url.path)
        response.headers["X-Request-ID"] = call_id
        if endpoint.method != "GET" and response.status_code < 300:
            await _audit(endpoint, request, call_id, response.status_code)
        LATENCY.labels(endpoint.method, endpoint.path).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint.method, endpoint.path, str(response.status_code)).inc()
        log.info("%s %s %s", endpoint.method, request.url.path, response.status_code,
                 extra={"route": endpoint.path, "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        return response

    view.__name__ = endpoint.operation_id
    return Route(endpoint.path, view, methods=[endpoint.method])


def make_routes(endpoints: list[Endpoint]) -> list[Route]:
    """One Starlette route per path serving all of its methods, so that any other method is a
    405 whose ``Allow`` lists every method of the path (RFC 9110), not only the first route's."""
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    ITEM_ROUTES.update(e.path for e in endpoints if e.method == "GET")
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = make_route(endpoint).endpoint
    routes = []
    for path, views in by_path.items():
        if "GET" in views:
            views.setdefault("HEAD", views["GET"])

        async def dispatch(request: Request, views: dict = views) -> Response:
            return await views[request.method](request)

        dispatch.__name__ = "_".join(v.__name__ for v in views.values())
        routes.append(Route(path, dispatch, methods=list(views)))
    return routes


async def _serve(endpoint: Endpoint, request: Request, call_id: str) -> Response:
    principal, token = None, None
    if endpoint.roles is not None:
        principal, token = authenticate(request, request.app.state.settings)
        if principal.role not in endpoint.roles:
            raise Problem(403, "{role} may not {action}", code="auth.role_refused",
                          params={"role": principal.role_label,
                                  "action": phrase(endpoint.summary, lower=True)})
    if not all(storable(value) for value in request.path_params.values()):
        # no id holds U+0000 or a lone surrogate
        raise Problem(404, "no such resource", code="route.not_found")
    if requires_precondition(endpoint) and "if-match" not in request.headers:
        raise Problem(428, "this write needs If-Match: the ETag you read, or * for any version",
                      {"If-Match": [field_error("version.required", "required for this write")]},
                      code="version.required")
    query = _validated(endpoint.query, dict(request.query_params)) if endpoint.query else {}
    body = _validated(endpoint.body, await _read_json(request)) if endpoint.body else {}
    if_match = _if_match(request) if endpoint.versioned else None
    if if_match is not None and endpoint.body and "version" in endpoint.body().fields:
        if body.get("version", if_match) != if_match:
            # the resource cannot be at both versions: the precondition fails either way
            raise Problem(412, "If-Match and the body's version disagree",
                          {"version": [field_error("version.mismatch",
                                                   "differs from If-Match")]},
                          code="version.mismatch")
        body["version"] = if_match
    call = Call(request, principal, token, body, query, call_id, if_match)
    request.state.call = call
    result = await endpoint.handler(call)
    if isinstance(result, Response):
        return result
    tag = entity_tag(result)
    if tag is not None and request.method == "GET" and request.headers.get(
            "if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    headers = {"ETag": tag} if tag is not None else {}
    if endpoint.status == 201:
        headers["Location"] = location(endpoint, request.url.path, result)
    return JSONResponse(result, status_code=endpoint.status, headers=headers or None)


#: the GET routes that show one item (``/api/v1/demands/{demand_id}``), filled by make_routes
ITEM_ROUTES: set[str] = set()
_ITEM = re.compile(r"^(?P<collection>.*)/\{\w+\}$")


def location(endpoint: Endpoint, path: str, result: Any) -> str:
    """Where what a 201 created can be read: the collection's item route with the new
    ``id`` (or ``code``) when the path has one, else the path written to (a sub-resource
    read where it was written, such as a demand's rating)."""
    ident = result.get("id") or result.get("code") if isinstance(result, dict) else None
    if ident and any(_ITEM.match(r) and _ITEM.match(r)["collection"] == endpoint.path
                     for r in ITEM_ROUTES):
        return f"{path}/{ident}"
    return path
