"""Reference A of the submission benchmark: the gateway a nameko user would build.

In the style of nameko-examples' gateway (``gateway/service.py``): a nameko service whose
``@http`` entrypoints validate the JSON body with the marshmallow schema and forward it to the
service through an ``RpcProxy``, errors mapped to statuses by the entrypoint's
``response_from_exception``. Like our gateway it authenticates the caller (the same JWT,
checked by the same ``Caller`` dependency our services use) and passes the token on: the
bearer token becomes the worker's ``auth_token`` context data, which nameko propagates to
every RPC call as the ``nameko.auth_token`` header, exactly what our services read.

Run it as a nameko user would (``make bench`` does)::

    AMQP_URI=... JWT_SECRET=... NAMEKO_GATEWAY_PORT=18050 \\
        python -m nameko run --config bench/nameko_gateway.yml bench.nameko_gateway

It is a benchmark reference, not part of the platform: two endpoints only, no OpenAPI,
problem+json or metrics.
"""

from __future__ import annotations

import json
from typing import Any

from nameko.exceptions import BadRequest, RemoteError
from nameko.rpc import RpcProxy
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.wrappers import Response

from common.auth import Role
from common.dependencies import Caller
from common.errors import DomainError, ValidationFailed
from common.validation import load
from services.ticketing.schemas import DemandCreateSchema

#: as gateway/routes/demands.py
SUBMITTERS = (Role.ENTERPRISE, Role.GRID_WORKER, Role.GRID_LEADER, Role.COORDINATOR, Role.ADMIN)
STATUS_BY_REMOTE_TYPE = {
    "Unauthenticated": 401, "Forbidden": 403, "NotFound": 404, "Conflict": 409,
    "PreconditionFailed": 412, "ValidationFailed": 422, "Unavailable": 503,
}


class BearerWebServer(WebServer):
    """nameko's web server, with the bearer token as the worker's context data."""

    def context_data_from_headers(self, request: Any) -> dict[str, Any]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return {"auth_token": token.strip()}
        return {}


class HttpEntrypoint(HttpRequestHandler):
    """As nameko-examples' ``gateway.entrypoints.HttpEntrypoint``: JSON errors by type."""

    server = BearerWebServer()

    def response_from_exception(self, exc: Exception) -> Response:
        status = 500
        if isinstance(exc, DomainError):
            status = exc.status
        elif isinstance(exc, RemoteError):
            status = STATUS_BY_REMOTE_TYPE.get(exc.exc_type or "", 500)
        elif isinstance(exc, BadRequest):
            status = 400
        return Response(json.dumps({"error": type(exc).__name__, "message": str(exc)}),
                        status=status, mimetype="application/json")


http = HttpEntrypoint.decorator


class NamekoGatewayService:
    """The reference gateway: POST a demand, GET a demand's timeline."""

    name = "bench_nameko_gateway"

    caller = Caller()
    ticketing_rpc = RpcProxy("ticketing")

    @http("POST", "/api/v1/demands")
    def submit_demand(self, request: Any) -> Response:
        self.caller.principal.require(*SUBMITTERS)
        try:
            payload = json.loads(request.get_data(as_text=True))
        except ValueError as exc:
            raise BadRequest(f"Invalid json: {exc}") from exc
        if not isinstance(payload, dict):
            raise ValidationFailed("send a JSON object")
        load(DemandCreateSchema(), payload)  # as nameko-examples: validate before forwarding
        result = self.ticketing_rpc.submit_demand(payload, request.headers.get("Idempotency-Key"))
        demand = result["demand"]
        return Response(json.dumps(demand), status=201 if result["created"] else 200,
                        mimetype="application/json",
                        headers={"Location": f"/api/v1/demands/{demand['id']}"})

    @http("GET", "/api/v1/demands/<string:demand_id>/timeline")
    def demand_timeline(self, request: Any, demand_id: str) -> Response:
        self.caller.principal  # noqa: B018 -- 401 without a valid token
        return Response(json.dumps(self.ticketing_rpc.demand_timeline(demand_id)),
                        mimetype="application/json")
