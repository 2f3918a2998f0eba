"""Endpoints for operators and tools: liveness, readiness, the API document and its viewer."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

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
    """Ready when this gateway can serve: its process answers and it holds the broker
    connection. The services' health, as the gateway's monitor last saw it, is reported too,
    but a service that is down does not take the gateway out of its Service: that service's
    routes answer 503 at once (its circuit breaker) and every other route keeps working."""
    rpc = request.app.state.rpc
    monitor = request.app.state.monitor
    connected = rpc.connected
    return JSONResponse(
        {"status": "ready" if connected else "unavailable",
         "broker": "connected" if connected else "disconnected",
         "services": monitor.reports},
        status_code=200 if connected else 503,
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
