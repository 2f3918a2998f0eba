"""nameko dependency providers every service uses: the caller's identity and metrics."""

from __future__ import annotations

import logging
import time
from typing import Any
from weakref import WeakKeyDictionary

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Histogram, start_http_server

from common.auth import DEFAULT_MAX_LIFETIME_SECONDS, Principal, verify_token
from common.config import load_settings
from common.errors import DomainError, Unauthenticated
from common.i18n import DEFAULT_LANGUAGE, supported
from common.keys import KeyRing

log = logging.getLogger(__name__)

RPC_REQUESTS = Counter(
    "gridsvc_worker_calls_total",
    "Entrypoint calls handled by a service, by outcome (ok, rejected, error)",
    ["service", "method", "outcome"],
)
RPC_DURATION = Histogram(
    "gridsvc_worker_duration_seconds",
    "Time a service spends in an entrypoint",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_metrics_started: dict[str, int] = {}


class Caller(DependencyProvider):
    """``self.caller.principal``: the verified principal of the request, from the JWT the
    gateway forwards in the ``nameko.auth_token`` context header."""

    def setup(self) -> None:
        settings = load_settings()
        self.keys = settings.jwt_keys
        self.issuer = settings.jwt_issuer
        self.max_lifetime = settings.token_ttl_seconds

    def get_dependency(self, worker_ctx: Any) -> CallerContext:
        return CallerContext(worker_ctx.context_data, self.keys, self.issuer, self.max_lifetime)


class CallerContext:
    def __init__(self, context_data: dict[str, Any], keys: KeyRing, issuer: str,
                 max_lifetime: float = DEFAULT_MAX_LIFETIME_SECONDS) -> None:
        self._context = context_data
        self._keys = keys
        self._issuer = issuer
        self._max_lifetime = max_lifetime
        self._principal: Principal | None = None

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            token = self._context.get("auth_token")
            if not token or not isinstance(token, str):
                raise Unauthenticated("no token in the call context", code="auth.token_missing")
            self._principal = verify_token(token, self._keys, self._issuer, self._max_lifetime)
        return self._principal

    def principal_of(self, token: Any) -> Principal:
        """The verified principal of a token carried in a call's arguments (a batched call
        carries one per item)."""
        if not token or not isinstance(token, str):
            raise Unauthenticated("no token", code="auth.token_missing")
        return verify_token(token, self._keys, self._issuer, self._max_lifetime)

    @property
    def language(self) -> str:
        """The reader's language (zh-CN or en), put in the call context by the gateway; the
        platform's default (zh-CN) for a call without one (an event, a timer)."""
        return supported(self._context.get("language")) or DEFAULT_LANGUAGE

    @property
    def call_id(self) -> str | None:
        stack = self._context.get("call_id_stack") or []
        return stack[-1] if stack else None

    @property
    def request_id(self) -> str | None:
        """The call that started the chain: the gateway's request (its ``X-Request-ID``)."""
        stack = self._context.get("call_id_stack") or []
        return stack[0] if stack else None


class Metrics(DependencyProvider):
    """Serves ``/metrics`` on the service's own port from a plain HTTP server (started once per
    process in ``setup``) and times every entrypoint.

    A nameko ``@http`` entrypoint would queue behind busy workers; this server does not.
    """

    def setup(self) -> None:
        settings = load_settings()
        service = self.container.service_name
        self.service = service
        self._started: WeakKeyDictionary[Any, float] = WeakKeyDictionary()
        port = settings.metrics_port(service)
        if port >= 0 and service not in _metrics_started:
            server, _thread = start_http_server(port, addr=settings.metrics_host)
            _metrics_started[service] = server.server_port
            log.info("metrics for %s on :%s/metrics", service, server.server_port)

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        try:  # an exception here would kill the container
            method = worker_ctx.entrypoint.method_name
            started = self._started.pop(worker_ctx, None)
            if started is not None:
                RPC_DURATION.labels(self.service, method).observe(time.perf_counter() - started)
            if exc_info is None:
                outcome = "ok"
            elif isinstance(exc_info[1], DomainError):
                outcome = "rejected"
            else:
                outcome = "error"
            RPC_REQUESTS.labels(self.service, method, outcome).inc()
        except Exception:
            log.exception("recording worker metrics failed")
