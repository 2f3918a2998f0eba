"""Refused tokens (吊销): which accounts' older tokens the gateway no longer accepts.

A token is valid for ``TOKEN_TTL_SECONDS`` (8 h); disabling an account or changing or
resetting its password sets ``accounts.tokens_valid_after`` in the registry, which publishes
``account_tokens_revoked`` through its outbox. Each gateway process keeps the map
``account id -> valid_after`` in memory and refuses a token whose ``iat`` is earlier
(:func:`gateway.auth.authenticate`), without a service call per request:

- on every (re)connect to the broker, an exclusive, auto-deleted queue of this process is
  bound to ``enterprise.events`` for ``account_tokens_revoked`` (so every replica gets every
  event), and then the whole list is loaded with the registry's ``token_revocations`` RPC,
  under the gateway's own service identity (the revocations of one token lifetime). Consuming
  first and loading second loses nothing; a revocation seen twice is harmless (the later
  moment wins);
- until the first load since the process started has succeeded, a request with credentials
  waits for it up to 2 s (:class:`AwaitRevocations`), then gets 503 (fail closed). After a
  broker outage the map of before stays in force while it is loaded again (no request is
  served without the broker anyway).

``iat`` carries microseconds (:func:`common.auth.mint_token`): a token signed in right after
a revocation, within the same second, is not refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from starlette.types import ASGIApp, Receive, Scope, Send

from common.auth import mint_token, service_principal
from common.config import Settings
from gateway.rpc import NamekoRpcClient, RpcError

log = logging.getLogger(__name__)

EXCHANGE = "enterprise.events"
EVENT = "account_tokens_revoked"
QUEUE_TEMPLATE = "gateway.token-revocations-{}"
#: the gateway's own identity towards the registry (role ``service``)
IDENTITY = "gateway"
IDENTITY_TTL_SECONDS = 300


def parse_moment(value: Any) -> float:
    """An ISO 8601 moment as POSIX seconds (UTC if it names no zone); ValueError if not one."""
    if not isinstance(value, str):
        raise ValueError(f"not an ISO 8601 moment: {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class Revocations:
    """The map of refused tokens of one gateway process, kept current over ``rpc``'s
    connection (see the module docstring)."""

    def __init__(self, rpc: NamekoRpcClient, settings: Settings, *,
                 broker_timeout: float = 1.0, retry_interval: float = 0.25) -> None:
        self._rpc = rpc
        self._settings = settings
        self._broker_timeout = broker_timeout
        self._retry_interval = retry_interval
        self._valid_after: dict[str, float] = {}
        self._loaded = False
        self._loaded_event = asyncio.Event()
        self._loader: asyncio.Task[None] | None = None
        self._queue_name = QUEUE_TEMPLATE.format(uuid.uuid4().hex)
        rpc.add_connect_hook(self._on_connect)

    # -- the check ---------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """True once the list was loaded since the process started."""
        return self._loaded

    def refuses(self, account_id: str, issued_at: float) -> bool:
        """True if a token of ``account_id`` issued at ``issued_at`` is revoked."""
        valid_after = self._valid_after.get(account_id)
        return valid_after is not None and issued_at < valid_after

    def note(self, account_id: str, valid_after: float) -> None:
        """Refuse tokens of ``account_id`` issued before ``valid_after`` (the later moment
        wins); entries older than a token's lifetime are dropped, their tokens have expired."""
        if valid_after > self._valid_after.get(account_id, float("-inf")):
            self._valid_after[account_id] = valid_after
        horizon = time.time() - self._settings.token_ttl_seconds
        for stale in [a for a, moment in self._valid_after.items() if moment < horizon]:
            del self._valid_after[stale]

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Before the client's ``start()``: binds the wait to the running loop."""
        self._loaded_event = asyncio.Event()
        if self._loaded:
            self._loaded_event.set()

    async def wait_loaded(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._loaded_event.wait()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        loader, self._loader = self._loader, None
        if loader is not None:
            loader.cancel()
            await asyncio.gather(loader, return_exceptions=True)

    # -- keeping it current ------------------------------------------------------------------

    async def _on_connect(self, channel: AbstractChannel) -> None:
        """Consume the events of this connection, then (re)load the whole list."""
        timeout = self._broker_timeout
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True, timeout=timeout
        )  # as nameko declares it: the registry may not have started yet
        queue = await channel.declare_queue(
            self._queue_name, exclusive=True, auto_delete=True, timeout=timeout
        )
        await queue.bind(exchange, routing_key=EVENT, timeout=timeout)
        await queue.consume(self._on_event, no_ack=True, timeout=timeout)
        if self._loader is not None:
            self._loader.cancel()
        self._loader = asyncio.create_task(self._load(), name="gateway-token-revocations")

    async def _on_event(self, message: AbstractIncomingMessage) -> None:
        try:
            data = json.loads(message.body)["data"]
            account_id, valid_after = str(data["account_id"]), parse_moment(data["valid_after"])
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("ignoring a malformed %s event: %r", EVENT, exc)
            return
        self.note(account_id, valid_after)
        log.info("tokens of account %s issued before %s are refused", account_id,
                 data["valid_after"])

    async def _load(self) -> None:
        """Ask the registry for the list until it answers (the connection is set up first)."""
        failures = 0
        while True:
            try:
                await self._rpc.wait_connected(self._retry_interval * 4)
                rows = await self._rpc.call(
                    "enterprise", "token_revocations",
                    context={"auth_token": self._identity()},
                    timeout=self._settings.rpc_timeout_seconds,
                )
                self._apply(rows)
            except (RpcError, TypeError) as exc:
                level = logging.WARNING if failures == 0 else logging.DEBUG
                log.log(level, "cannot load the token revocations yet: %r", exc)
                failures += 1
                await asyncio.sleep(self._retry_interval)
                continue
            self._loaded = True
            self._loaded_event.set()
            log.info("token revocations loaded: %d account(s)", len(self._valid_after))
            return

    def _apply(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            try:
                self.note(str(row["account_id"]), parse_moment(row["valid_after"]))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("ignoring a malformed token revocation %r: %r", row, exc)

    def _identity(self) -> str:
        settings = self._settings
        return mint_token(service_principal(IDENTITY), settings.signing_key(),
                          IDENTITY_TTL_SECONDS, settings.jwt_issuer)


class AwaitRevocations:
    """Holds a request with credentials for up to ``timeout`` seconds while the revocations
    are not loaded yet (a gateway that just started), instead of answering 503 at once."""

    def __init__(self, app: ASGIApp, revocations: Revocations, timeout: float = 2.0) -> None:
        self.app = app
        self.revocations = revocations
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and not self.revocations.loaded
                and any(name == b"authorization" for name, _ in scope["headers"])):
            await self.revocations.wait_loaded(self.timeout)
        await self.app(scope, receive, send)
