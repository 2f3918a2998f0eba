"""The gateway: a Starlette app on uvicorn, asyncio end to end.

Each request is authenticated, validated against the service's contract schema, and passed to
the service over nameko's AMQP RPC wire format (:mod:`gateway.rpc`). Errors come back as
``application/problem+json``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import Gauge
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from common.config import Settings, load_settings
from common.i18n import N_, negotiate
from common.startup import freeze_startup_objects
from gateway.console import Console
from gateway.endpoints import make_routes
from gateway.openapi import build_spec
from gateway.problems import LANGUAGE, problem_response
from gateway.revocations import AwaitRevocations, Revocations
from gateway.routes import API_ENDPOINTS, imports, system
from gateway.rpc import NamekoRpcClient
from gateway.service_health import ServiceMonitor
from gateway.submissions import MAX_QUEUE, SubmissionBatcher

log = logging.getLogger(__name__)

RPC_IN_FLIGHT = Gauge("gridsvc_gateway_rpc_in_flight", "Service calls awaiting their reply")
BROKER_CONNECTED = Gauge("gridsvc_gateway_broker_connected", "1 while the gateway has the broker")


class BodyLimit:
    """413 for a body over ``limit`` bytes, declared or streamed, before a handler reads it;
    ``larger`` raises the limit of a few exact paths (the import job's upload)."""

    def __init__(self, app: ASGIApp, limit: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.larger = {path: max(limit, size) for path, size in (larger or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._reject(scope, receive, send, limit)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(scope, receive, send, limit)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            413, "the body may be at most {limit} bytes", scope.get("path"),
            code="request.body_too_large", params={"limit": limit},
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class Language:
    """The language of every text in the answer: ``Accept-Language`` negotiated among zh-CN and
    en, else the deployment's ``DEFAULT_LANGUAGE`` (:mod:`common.i18n`)."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"accept-language":
                header = value.decode("latin-1")
                break
        token = LANGUAGE.set(negotiate(header, self.default))
        try:
            await self.app(scope, receive, send)
        finally:
            LANGUAGE.reset(token)


#: what Starlette itself answers (no route, a method the route does not serve)
ROUTE_PROBLEMS = {
    404: (N_("no such resource"), "route.not_found"),
    405: (N_("this method is not allowed here"), "route.method_not_allowed"),
}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = ROUTE_PROBLEMS.get(status, (exc.detail, None))[0]
    return problem_response(status, detail, request.url.path,
                            headers=getattr(exc, "headers", None),
                            code=ROUTE_PROBLEMS.get(status, (None, f"http.{status}"))[1])


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem_response(500, "the request could not be completed", request.url.path,
                            code="server.internal_error")


def with_heartbeat(amqp_uri: str, seconds: int = 10) -> str:
    """A silent dead connection is noticed within ~2 heartbeats instead of aiormq's 60 s."""
    if "heartbeat=" in amqp_uri:
        return amqp_uri
    return f"{amqp_uri}{'&' if '?' in amqp_uri else '?'}heartbeat={seconds}"


#: answers at least this large are compressed (issue 16: "over 1 KB")
GZIP_MINIMUM_BYTES = 1024
#: zlib's level 6: most of level 9's ratio on JSON at a fraction of its CPU
GZIP_LEVEL = 6
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def create_app(settings: Settings | None = None, rpc: Any = None) -> Starlette:
    settings = settings or load_settings()
    rpc = rpc or NamekoRpcClient(
        with_heartbeat(settings.amqp_uri), default_timeout=settings.rpc_timeout_seconds
    )

    revocations = Revocations(rpc, settings)  # refused tokens, consumed on rpc's connection
    monitor = ServiceMonitor(rpc)  # each service's health, its breaker, gridsvc_service_up

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await revocations.start()
        await rpc.start()
        await monitor.start()
        if await rpc.wait_connected(5.0):
            # until they are loaded, authenticated requests get 503 (gateway/auth.py)
            await revocations.wait_loaded(5.0)
        freeze_startup_objects()
        yield
        await monitor.close()
        await revocations.close()
        await rpc.close()

    routes = [
        Route("/healthz", system.healthz),
        Route("/readyz", system.readyz),
        Route("/openapi.json", system.openapi),
        Route("/docs", system.docs),
        Route("/docs/init.js", system.docs_init),
        Mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="swagger-ui"),
        Route("/metrics", system.metrics),
        *make_routes(API_ENDPOINTS),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    # what no route answers: the web console for GET and HEAD (web/dist), else the 404
    app.router.default = Console(app.router.default)
    app.state.settings = settings
    app.state.rpc = rpc
    # the queue's bound (SUBMISSION_QUEUE_MAX) and a waiting submission's deadline: the RPC
    # timeout, after which its caller has its 504 (gateway/submissions.py)
    app.state.submissions = SubmissionBatcher(
        rpc, max_queue=int(os.environ.get("SUBMISSION_QUEUE_MAX", MAX_QUEUE)),
        deadline_seconds=settings.rpc_timeout_seconds)
    app.state.revocations = revocations
    app.state.monitor = monitor
    app.state.openapi = build_spec(API_ENDPOINTS)
    RPC_IN_FLIGHT.set_function(lambda: rpc.in_flight)
    BROKER_CONNECTED.set_function(lambda: 1 if rpc.connected else 0)
    # answers over 1 KB gzip-compressed for clients that accept it; files that are zip
    # archives already (XLSX) and event streams go as they are (Starlette's list, plus XLSX)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES,
                       compresslevel=GZIP_LEVEL,
                       exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, XLSX_MIME))
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes,
                       larger={imports.JOB_PATH: imports.JOB_MAX_BYTES})
    app.add_middleware(AwaitRevocations, revocations=revocations)
    app.add_middleware(Language, default=settings.default_language)  # outermost: every answer
    return app
