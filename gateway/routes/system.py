"""Endpoints for operators and tools: liveness, readiness, the API document and its viewer."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from common.config import SERVICES
from gateway.rpc import RpcError

READY_TIMEOUT = 2.0

DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>gridsvc API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>"""

DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, persistAuthorization: true});"""


async def healthz(_request: Request) -> Response:
    """The process is alive (it answers); says nothing about its dependencies."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the broker is connected and every service's ``health`` says healthy."""
    rpc = request.app.state.rpc
    checks: dict[str, Any] = {}
    if not rpc.connected:
        return JSONResponse(
            {"status": "unavailable", "broker": "disconnected", "services": {}},
            status_code=503,
        )

    async def check(service: str) -> None:
        try:
            checks[service] = await rpc.call(service, "health", timeout=READY_TIMEOUT)
        except RpcError as exc:
            checks[service] = {"name": service, "healthy": False, "error": str(exc) or
                               type(exc).__name__}

    await asyncio.gather(*(check(s) for s in SERVICES))
    ready = all(c.get("healthy") for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "broker": "connected",
         "services": checks},
        status_code=200 if ready else 503,
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def docs(_request: Request) -> Response:
    return HTMLResponse(DOCS_PAGE)


async def docs_init(_request: Request) -> Response:
    return Response(DOCS_INIT, media_type="application/javascript")


async def metrics(_request: Request) -> Response:
    """Prometheus exposition of the gateway's own metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
