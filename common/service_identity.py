"""A service's own identity for the calls it makes on its own (event handlers, timers).

An RPC worker carries its caller's token (``nameko.auth_token``) and passes it on, so the
callee applies the caller's scope. A worker started by an event or a timer has no token; with
:class:`ServiceIdentity` on the service class it gets a short-lived token of the service
principal (role ``service``), and the RPCs it makes through an ``RpcProxy`` carry a verifiable
identity instead of none.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc

from common.auth import mint_token, service_principal
from common.config import load_settings

log = logging.getLogger(__name__)

TOKEN_TTL_SECONDS = 300
#: a cached token is replaced when less than this many seconds of its life are left
RENEW_MARGIN_SECONDS = 60


class ServiceIdentity(DependencyProvider):
    """Puts a service token into the worker context (``auth_token``) when a worker that no
    RPC started (event handler, timer) has none; an RPC without a token stays without.

    The token is cached and minted again before it expires. It is meant for outgoing calls:
    ``self.caller`` is built before ``worker_setup`` and does not see it. Never raises: an
    exception in ``worker_setup`` would kill the container."""

    def __init__(self, ttl_seconds: int = TOKEN_TTL_SECONDS,
                 renew_margin_seconds: int = RENEW_MARGIN_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self.renew_margin_seconds = min(renew_margin_seconds, ttl_seconds // 2)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def setup(self) -> None:
        self.settings = load_settings()
        self.service_name = self.container.service_name

    def token(self, now: float | None = None) -> str:
        """The cached service token, minted anew when it is about to expire."""
        moment = time.time() if now is None else now
        with self._lock:
            if self._token is None or moment >= self._expires_at - self.renew_margin_seconds:
                self._token = mint_token(
                    service_principal(self.service_name), self.settings.signing_key(),
                    self.ttl_seconds, self.settings.jwt_issuer, now=moment,
                )
                self._expires_at = int(moment) + self.ttl_seconds
            return self._token

    def worker_setup(self, worker_ctx: Any) -> None:
        try:
            # ``context_data`` is a fresh copy on every read; ``data`` is what outgoing calls
            # and events take their headers from
            if isinstance(worker_ctx.entrypoint, Rpc):
                return  # a request without a token stays unauthenticated
            context = worker_ctx.data
            if not context.get("auth_token"):
                context["auth_token"] = self.token()
        except Exception:
            log.exception("could not give the worker a service identity")

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class AsService:
    """``with self.identity.as_service():`` calls made inside the block carry the service's
    token instead of the caller's (e.g. reading both parties' contacts on acceptance, or
    names the caller may not read itself)."""

    def __init__(self, provider: ServiceIdentity, worker_ctx: Any) -> None:
        self._provider = provider
        self._ctx = worker_ctx

    @contextmanager
    def as_service(self) -> Iterator[None]:
        data = self._ctx.data
        before = data.get("auth_token")
        data["auth_token"] = self._provider.token()
        try:
            yield
        finally:
            if before is None:
                data.pop("auth_token", None)
            else:
                data["auth_token"] = before


class CallingIdentity(ServiceIdentity):
    """:class:`ServiceIdentity` (timers and event handlers call as the service) that also lets
    an RPC worker make some calls as the service: ``with self.identity.as_service(): ...``."""

    def get_dependency(self, worker_ctx: Any) -> AsService:  # type: ignore[override]
        return AsService(self, worker_ctx)
