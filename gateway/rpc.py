"""Asyncio client for nameko 2.14 RPC, speaking nameko's own AMQP wire format with aio-pika.

One connection and one channel carry every call: requests are published with confirms and
`mandatory=True`, replies come back on one exclusive reply queue and are matched to callers by
`correlation_id`. A background task owns the connection and re-creates it after a loss; callers
never wait for it: without a connection a call fails at once with `ServiceUnavailable`.

Wire format (nameko/rpc.py `MethodProxy._call`, `Responder`, messaging.py `HeaderEncoder`):
request to the durable topic exchange `nameko-rpc` with routing key `<service>.<method>`, JSON
body `{"args": [...], "kwargs": {...}}`, `reply_to` = routing key our reply queue is bound with,
context as `nameko.<key>` headers; reply body `{"result": ..., "error": null | {...}}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import aiormq.exceptions
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
)

# kombu's json is nameko's serializer: it wraps datetime, date, time, Decimal, UUID and bytes in
# {"__type__", "__value__"} envelopes. Using it keeps both directions byte-compatible.
# (kombu is plain Python; importing kombu.utils.json pulls in no eventlet.)
from kombu.utils.json import dumps as json_dumps
from kombu.utils.json import loads as json_loads

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"
HEADER_PREFIX = "nameko"
REPLY_QUEUE_TEMPLATE = "rpc.reply-{}-{}"

#: set up more on a new connection's channel (e.g. an event consumer); raising drops it
ConnectHook = Callable[[AbstractChannel], Awaitable[None]]


class RpcError(Exception):
    """Base of every error this client raises for a call."""


class ServiceUnavailable(RpcError):
    """The call could not be delivered (HTTP 503). `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RpcTimeout(RpcError):
    """No reply within the call's timeout (HTTP 504)."""


class CircuitOpen(ServiceUnavailable):
    """The service stopped answering and its breaker is open: the call was not sent (HTTP 503
    with ``Retry-After``). ``retry_after`` is the number of seconds until the next probe."""

    def __init__(self, service: str, retry_after: float) -> None:
        super().__init__(f"{service} is not answering")
        self.service = service
        self.retry_after = retry_after


class Breaker:
    """The circuit breaker of one service, as this gateway sees it.

    *Closed*: calls go out. It opens when ``timeouts_to_open`` calls in a row got no reply
    within their timeout, or when told so by :meth:`open` (the service monitor found no
    consumer on the service's queue). *Open*: calls fail at once with :class:`CircuitOpen`
    for ``open_seconds``; then one call (or a probe of the monitor) is let through as a trial:
    a reply closes the breaker, a timeout opens it again. Any reply counts, an error too: the
    service answered. Failures to deliver (broker trouble, unknown service) count for nothing,
    since they fail fast already."""

    def __init__(self, service: str, *, timeouts_to_open: int = 3, open_seconds: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.timeouts_to_open = max(1, timeouts_to_open)
        self.open_seconds = open_seconds
        self.reason = ""
        self._clock = clock
        self._timeouts = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() >= self._opened_at + self.open_seconds else "open"

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        """Raise :class:`CircuitOpen` unless a call may go out; True when it is the trial."""
        if self._opened_at is None:
            return False
        remaining = self._opened_at + self.open_seconds - self._clock()
        if remaining > 0 or self._trial:
            raise CircuitOpen(self.service, max(remaining, 1.0))
        self._trial = True
        return True

    def end_trial(self) -> None:
        """The trial call ended without a verdict (e.g. the connection was lost)."""
        self._trial = False

    def record_reply(self) -> None:
        if self._opened_at is not None:
            log.warning("circuit of %s closed: it answers again", self.service)
        self._timeouts = 0
        self._opened_at = None
        self._trial = False

    def record_timeout(self) -> None:
        self._timeouts += 1
        if self._opened_at is not None or self._timeouts >= self.timeouts_to_open:
            self.open(f"{self._timeouts} calls in a row got no reply")

    def open(self, reason: str) -> None:
        if self._opened_at is None:
            log.warning("circuit of %s opened: %s", self.service, reason)
        self.reason = reason
        self._opened_at = self._clock()
        self._trial = False


class RemoteError(RpcError):
    """The service raised; the fields are nameko's serialized exception."""

    def __init__(self, exc_type: str, exc_path: str, exc_args: list[Any], value: str) -> None:
        super().__init__(f"{exc_type} {value}")
        self.exc_type = exc_type
        self.exc_path = exc_path
        self.exc_args = exc_args
        self.value = value

    @classmethod
    def from_payload(cls, error: dict[str, Any]) -> RemoteError:
        return cls(
            exc_type=str(error.get("exc_type", "")),
            exc_path=str(error.get("exc_path", "")),
            exc_args=list(error.get("exc_args") or []),
            value=str(error.get("value", "")),
        )


@dataclass(frozen=True)
class _Link:
    """Everything that belongs to one live connection; replaced wholesale on reconnect."""

    connection: AbstractConnection
    channel: AbstractChannel
    exchange: AbstractExchange
    reply_to: str
    reply_queue: str


class NamekoRpcClient:
    def __init__(
        self,
        amqp_uri: str,
        *,
        exchange: str = "nameko-rpc",
        default_timeout: float = 10.0,
        connect_timeout: float = 1.0,
        reconnect_interval: float = 1.0,
        client_name: str = "gateway",
        timeouts_to_open: int = 3,
        open_seconds: float = 5.0,
    ) -> None:
        self._amqp_uri = amqp_uri
        self._exchange_name = exchange
        self._default_timeout = default_timeout
        # Also bounds every broker round trip (declares, publish confirm): a broker that does
        # not answer within it is treated as down rather than letting callers hang.
        self._connect_timeout = connect_timeout
        self._reconnect_interval = reconnect_interval
        self._client_name = client_name
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._link: _Link | None = None
        self._connected = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._closed = False
        self._connect_hooks: list[ConnectHook] = []
        self._breaker_options = {"timeouts_to_open": timeouts_to_open,
                                 "open_seconds": open_seconds}
        self._breakers: dict[str, Breaker] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the connection task and return at once, whether or not the broker is up.

        A closed client may be started again (e.g. a second app lifespan, on another loop).
        """
        if self._runner is None:
            self._closed = False
            self._connected = asyncio.Event()  # an Event binds to the loop that first waits on it
            self._runner = asyncio.create_task(self._run(), name=f"nameko-rpc-{self._client_name}")

    def add_connect_hook(self, hook: ConnectHook) -> None:
        """Run ``hook(channel)`` on every (re)connect, before calls may use the connection.

        The hook shares the connection and channel of the calls and is lost with them; it
        should bound its broker round trips. If it raises, the connection is dropped and
        made again, as after any failed set-up."""
        self._connect_hooks.append(hook)

    async def wait_connected(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            return False
        return True

    @property
    def connected(self) -> bool:
        return self._link is not None

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def reply_queue(self) -> str | None:
        """Name of the current reply queue (a new one after every reconnect)."""
        return self._link.reply_queue if self._link else None

    def breaker(self, service: str) -> Breaker:
        """The circuit breaker of ``service`` (made on first use)."""
        found = self._breakers.get(service)
        if found is None:
            found = self._breakers[service] = Breaker(service, **self._breaker_options)
        return found

    async def queue_consumers(self, queue: str) -> int | None:
        """How many consumers ``queue`` has (a passive declare on a channel of its own), None
        when the queue does not exist. ServiceUnavailable without a connection."""
        link = self._link
        if link is None:
            raise ServiceUnavailable("client closed" if self._closed else "broker unavailable")
        try:
            async with asyncio.timeout(self._connect_timeout):
                channel = await link.connection.channel(publisher_confirms=False)
        except Exception as exc:
            raise ServiceUnavailable("broker not answering") from exc
        try:
            declared = await channel.declare_queue(queue, passive=True,
                                                   timeout=self._connect_timeout)
            result = declared.declaration_result
            return int(result.consumer_count or 0) if result is not None else 0
        except aiormq.exceptions.ChannelNotFoundEntity:
            return None  # the broker closed the channel with a 404
        except Exception as exc:
            raise ServiceUnavailable("broker not answering") from exc
        finally:
            with contextlib.suppress(Exception):
                if not channel.is_closed:
                    await channel.close()

    async def close(self) -> None:
        self._closed = True
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._fail_pending("client closed")

    # -- calls -------------------------------------------------------------------------------

    async def call(
        self,
        service: str,
        method: str,
        *args: Any,
        context: dict[str, Any] | None = None,
        timeout: float | None = None,
        probe: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Call `service.method(*args, **kwargs)` and return its result.

        `context` becomes nameko worker context data (`nameko.<key>` headers), e.g.
        `{"call_id_stack": [...], "auth_token": "..."}`; None values are dropped as nameko does.
        While the service's breaker is open the call fails at once with :class:`CircuitOpen`;
        a ``probe`` (the service monitor's health check) goes out all the same.
        """
        timeout = self._default_timeout if timeout is None else timeout
        link = self._link
        if link is None:
            raise ServiceUnavailable("client closed" if self._closed else "broker unavailable")
        breaker = self.breaker(service)
        trial = False if probe else breaker.allow()
        correlation_id = str(uuid.uuid4())
        message = _request_message(args, kwargs, context, timeout, link.reply_to, correlation_id)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        # Registered before publishing: a fast reply may arrive before the confirm does.
        self._pending[correlation_id] = future
        try:
            async with asyncio.timeout(timeout):
                await self._publish(link, message, service, method)
                reply = await future
            breaker.record_reply()
        except TimeoutError:
            breaker.record_timeout()
            raise RpcTimeout(f"{service}.{method} did not answer within {timeout:g} s") from None
        finally:
            if trial:
                breaker.end_trial()
            self._pending.pop(correlation_id, None)
            _discard(future)
        return _unpack_reply(reply)

    async def _publish(
        self, link: _Link, message: aio_pika.Message, service: str, method: str
    ) -> None:
        try:
            await link.exchange.publish(
                message,
                routing_key=f"{service}.{method}",
                mandatory=True,
                timeout=self._connect_timeout,
            )
        except aiormq.exceptions.PublishError as exc:
            # Basic.Return: no queue is bound for `<service>.*`, so nobody runs that service.
            raise ServiceUnavailable(f"unknown service {service}") from exc
        except aiormq.exceptions.DeliveryError as exc:
            raise ServiceUnavailable("broker rejected the request") from exc
        except TimeoutError as exc:
            raise ServiceUnavailable("broker not answering") from exc
        except Exception as exc:
            # Closed channel or connection: AMQPError, ChannelInvalidStateError, OSError, and
            # even a bare `Exception` (aiormq's FutureStore.reject_all(None) sets the class
            # itself on the drain future of a publish caught by a connection teardown).
            raise ServiceUnavailable("connection lost") from exc

    # -- connection task ---------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect_and_serve()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Log the first failure loudly, the retries of a long outage quietly.
                level = logging.WARNING if failures == 0 else logging.DEBUG
                log.log(level, "nameko rpc: cannot connect to broker: %r", exc)
                failures += 1
            await asyncio.sleep(self._reconnect_interval)

    async def _connect_and_serve(self) -> None:
        """Connect, set up, then wait until the connection or channel is lost."""
        async with asyncio.timeout(self._connect_timeout):
            connection = await aio_pika.connect(
                self._amqp_uri,
                timeout=self._connect_timeout,
                client_properties={"connection_name": f"{self._client_name} nameko-rpc"},
            )
        try:
            lost = asyncio.get_running_loop().create_future()
            link = await self._set_up(connection)
            for hook in self._connect_hooks:
                await hook(link.channel)

            def on_close(_sender: Any, exc: BaseException | None = None) -> None:
                self._drop_link(link, "connection lost")
                if not lost.done():
                    lost.set_result(exc)

            connection.close_callbacks.add(on_close)
            link.channel.close_callbacks.add(on_close)
            self._link = link
            self._connected.set()
            log.info("nameko rpc: connected, reply queue %s", link.reply_queue)
            exc = await lost
            log.warning("nameko rpc: connection lost: %r", exc)
        finally:
            self._drop_link(self._link, "client closed" if self._closed else "connection lost")
            # Sets the connection's closed flag even after a remote loss, so aio-pika's
            # __del__ does not schedule a close of its own later.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._connect_timeout):
                    await connection.close()

    async def _set_up(self, connection: AbstractConnection) -> _Link:
        timeout = self._connect_timeout
        # on_return_raises: an unroutable mandatory publish raises PublishError from publish()
        # instead of returning the message (aio-pika's default is to return it).
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        # Same parameters as nameko's get_rpc_exchange(), else PRECONDITION_FAILED.
        exchange = await channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True, timeout=timeout
        )
        reply_to = str(uuid.uuid4())
        queue_name = REPLY_QUEUE_TEMPLATE.format(self._client_name, reply_to)
        queue = await channel.declare_queue(
            queue_name, exclusive=True, auto_delete=True, timeout=timeout
        )
        await queue.bind(exchange, routing_key=reply_to, timeout=timeout)
        await queue.consume(self._on_reply, no_ack=True, timeout=timeout)
        return _Link(connection, channel, exchange, reply_to, queue_name)

    def _drop_link(self, link: _Link | None, reason: str) -> None:
        """Forget `link` if it is the current one and fail every call waiting on it."""
        if link is None or self._link is not link:
            return
        self._link = None
        self._connected.clear()
        self._fail_pending(reason)

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ServiceUnavailable(reason))
        # The callers' `finally` removes the entries; clearing here too keeps in_flight honest.
        self._pending.clear()

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is None or future.done():
            # A reply after its call timed out, or after a reconnect: nobody waits for it.
            log.debug("nameko rpc: dropping reply for unknown call %s", message.correlation_id)
            return
        try:
            payload = json_loads(message.body)
        except ValueError as exc:
            future.set_exception(RpcError(f"malformed reply: {exc}"))
            return
        if not isinstance(payload, dict):
            future.set_exception(RpcError("malformed reply: not a JSON object"))
            return
        future.set_result(payload)


def _request_message(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    context: dict[str, Any] | None,
    timeout: float,
    reply_to: str,
    correlation_id: str,
) -> aio_pika.Message:
    headers = {
        f"{HEADER_PREFIX}.{key}": value
        for key, value in (context or {}).items()
        if value is not None
    }
    return aio_pika.Message(
        json_dumps({"args": list(args), "kwargs": kwargs}).encode(),
        content_type=CONTENT_TYPE,
        headers=headers,
        reply_to=reply_to,
        correlation_id=correlation_id,
        # A request nobody consumed within the timeout is worthless: let the broker drop it
        # rather than pile it up in a dead service's queue and run it when the service returns.
        expiration=timeout,
        # Transient: a broker restart fails every in-flight call anyway.
        delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
    )


def _discard(future: asyncio.Future[Any]) -> None:
    """Settle a future nobody will await, so asyncio does not log a never-retrieved error
    (a lost connection fails it while its caller is still failing in publish)."""
    if not future.done():
        future.cancel()
    elif not future.cancelled():
        future.exception()


def _unpack_reply(reply: dict[str, Any]) -> Any:
    error = reply.get("error")
    if error:
        raise RemoteError.from_payload(error)
    return reply.get("result")
