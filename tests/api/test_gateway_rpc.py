"""gateway.rpc against the real RabbitMQ and a real nameko service (tests/support/rpc_echo_service).

Everything runs in the `<TEST_VHOST>_rpc` vhost, created and deleted by a session fixture. The
nameko service runs as a subprocess, so this process stays eventlet-free like the gateway.
Broker loss is simulated with a TCP proxy in front of RabbitMQ: the real broker is shared by
everyone on this machine and is never stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import pytest
from conftest import TEST_VHOST

from gateway.rpc import NamekoRpcClient, RemoteError, RpcError, RpcTimeout, ServiceUnavailable

pytestmark = pytest.mark.timeout(60)

VHOST = f"{TEST_VHOST}_rpc"  # apart from a second test run on this machine
BROKER_HOST, BROKER_PORT = "127.0.0.1", 5672
SERVICE = "rpc_echo"
TESTS_DIR = Path(__file__).resolve().parents[1] / "support"  # rpc_echo_service.py

T = TypeVar("T")


def amqp_uri(port: int = BROKER_PORT) -> str:
    return f"amqp://guest:guest@{BROKER_HOST}:{port}/{VHOST}"


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro_fn()

    return asyncio.run(main())


def rabbitmqctl(*args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=30, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vhost() -> Iterator[str]:
    rabbitmqctl("delete_vhost", VHOST, check=False)  # left over by a killed run
    rabbitmqctl("add_vhost", VHOST)
    rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
    try:
        yield VHOST
    finally:
        rabbitmqctl("delete_vhost", VHOST, check=False)


@pytest.fixture(scope="session")
def echo_service(vhost: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    workdir = tmp_path_factory.mktemp("rpc_echo")
    config = workdir / "config.yaml"
    config.write_text(f"AMQP_URI: {amqp_uri()}\n")
    log_path = workdir / "service.log"
    with log_path.open("wb") as log_file:
        # cwd = tests/ so the module imports as `rpc_echo_service` whatever tests/ contains.
        process = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "rpc_echo_service", "--config", str(config)],
            cwd=TESTS_DIR,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    try:
        run(lambda: _wait_for_service(process, log_path))
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_for_service(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until the service consumes its queue, calls to it come back as unknown service."""
    async with connected_client() as client:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"rpc_echo service died:\n{log_path.read_text()}")
            try:
                if await client.call(SERVICE, "ping", timeout=2) == "pong":
                    return
            except ServiceUnavailable:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"rpc_echo service did not start:\n{log_path.read_text()}")


@asynccontextmanager
async def connected_client(
    uri: str | None = None, **options: Any
) -> AsyncIterator[NamekoRpcClient]:
    client = NamekoRpcClient(uri or amqp_uri(), **options)
    await client.start()
    try:
        assert await client.wait_connected(5), "client did not connect"
        yield client
    finally:
        await client.close()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the broker. stop() is the broker vanishing (connections
    reset), start() its return on the same port, freeze() a silent network (no RST, no data)."""

    def __init__(self) -> None:
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, BROKER_HOST, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self.thaw()
        for writer in self._writers:
            writer.transport.abort()  # RST, like a broker host going away
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        self._writers.add(writer)
        try:
            await self._forward(reader, writer)
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(BROKER_HOST, BROKER_PORT)
        self._writers.add(up_writer)
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
            )
        finally:
            up_writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


class SilentServer(TcpProxy):
    """Accepts TCP connections and never says a word: a broker that hangs in the handshake."""

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((BROKER_HOST, 0))
        return sock.getsockname()[1]


async def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


# -- calls to a real nameko service -----------------------------------------------------------


@pytest.mark.usefixtures("echo_service")
def test_call_returns_the_result() -> None:
    async def scenario() -> None:
        async with connected_client() as client:
            assert client.connected
            result = await client.call(SERVICE, "echo", 1, "two", x=[3, 4], y={"z": None})
            assert result == {"args": [1, "two"], "kwargs": {"x": [3, 4], "y": {"z": None}}}
            assert client.in_flight == 0

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_context_arrives_as_worker_context_data() -> None:
    async def scenario() -> None:
        async with connected_client() as client:
            context = {"auth_token": "tok-1", "call_id_stack": ["gateway.http.1"], "lang": None}
            seen = await client.call(SERVICE, "context_data", context=context)
        assert seen["auth_token"] == "tok-1"
        # nameko appends its own call id to the stack it received.
        assert seen["call_id_stack"][0] == "gateway.http.1"
        assert seen["call_id_stack"][1].startswith("rpc_echo.context_data.")
        assert "lang" not in seen  # None values are not sent, as in nameko

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_remote_error_carries_the_nameko_error_payload() -> None:
    async def scenario() -> None:
        async with connected_client() as client:
            with pytest.raises(RemoteError) as raised:
                await client.call(SERVICE, "fail", "boom", 7)
            with pytest.raises(RemoteError) as not_found:
                await client.call(SERVICE, "no_such_method")
            assert client.in_flight == 0
        error = raised.value
        assert isinstance(error, RpcError)
        assert error.exc_type == "EchoError"
        assert error.exc_path == "rpc_echo_service.EchoError"
        assert error.exc_args == ["boom", "7"]  # nameko stringifies non-string args
        assert error.value == "('boom', 7)"
        assert not_found.value.exc_path == "nameko.exceptions.MethodNotFound"

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_unknown_service_is_unavailable_at_once() -> None:
    async def scenario() -> None:
        async with connected_client() as client:
            # refused at once: ServiceUnavailable, never the RpcTimeout of waiting 5 s
            with pytest.raises(ServiceUnavailable) as raised:
                await client.call("no_such_service", "ping", timeout=5)
            assert raised.value.reason == "unknown service no_such_service"
            assert client.in_flight == 0
            assert await client.call(SERVICE, "ping") == "pong"  # the channel survived

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_timeout_removes_the_call_and_the_late_reply_is_dropped() -> None:
    async def scenario() -> None:
        async with connected_client(default_timeout=0.3) as client:
            with pytest.raises(RpcTimeout):
                await client.call(SERVICE, "sleep", 0.8)
            assert client.in_flight == 0
            await asyncio.sleep(0.8)  # the late reply arrives meanwhile and is dropped
            assert client.connected
            assert await client.call(SERVICE, "sleep", 0.1, timeout=2) == 0.1
            assert client.in_flight == 0

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_200_concurrent_calls_on_one_connection() -> None:
    async def scenario() -> None:
        async with connected_client(client_name="many") as client:
            results = await asyncio.gather(*(client.call(SERVICE, "echo", i) for i in range(200)))
            assert results == [{"args": [i], "kwargs": {}} for i in range(200)]
            assert client.in_flight == 0
            assert our_connections("many nameko-rpc") == 1

    run(scenario)


def our_connections(connection_name: str) -> int:
    rows = json.loads(
        rabbitmqctl("list_connections", "vhost", "client_properties", "--formatter", "json")
    )
    return sum(
        1
        for row in rows
        if row["vhost"] == VHOST
        and ["connection_name", "longstr", connection_name] in row["client_properties"]
    )


# -- wire format, checked at the broker -------------------------------------------------------


@asynccontextmanager
async def fake_service_queue(name: str) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A queue bound like nameko's `rpc-<service>` queue, with nobody consuming it."""
    connection = await aio_pika.connect(amqp_uri())
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "nameko-rpc", aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(f"rpc-{name}", exclusive=True)
        await queue.bind(exchange, routing_key=f"{name}.*")
        yield queue
    finally:
        await connection.close()


@pytest.mark.usefixtures("vhost")
def test_request_is_in_nameko_wire_format_and_replies_match_by_correlation_id() -> None:
    async def scenario() -> None:
        async with connected_client() as client, fake_service_queue("wiresvc") as queue:
            call = asyncio.create_task(
                client.call("wiresvc", "do", 1, k="v", context={"auth_token": "t"}, timeout=3)
            )
            request = await _get_one(queue)
            assert request.routing_key == "wiresvc.do"
            assert request.content_type == "application/json"
            assert json.loads(request.body) == {"args": [1], "kwargs": {"k": "v"}}
            assert request.headers == {"nameko.auth_token": "t"}
            assert request.expiration == 3.0  # seconds; "3000" ms on the wire
            assert request.reply_to is not None and request.correlation_id is not None
            assert client.reply_queue == f"rpc.reply-gateway-{request.reply_to}"

            exchange = await queue.channel.get_exchange("nameko-rpc")
            # A reply nobody waits for is dropped without disturbing the pending call.
            await _reply(exchange, request.reply_to, "unknown-id", {"result": 0, "error": None})
            await asyncio.sleep(0.1)
            assert not call.done()
            body = {"result": {"ok": True}, "error": None}
            await _reply(exchange, request.reply_to, request.correlation_id, body)
            assert await call == {"ok": True}
            assert client.in_flight == 0

    run(scenario)


async def _get_one(queue: aio_pika.abc.AbstractQueue) -> aio_pika.abc.AbstractIncomingMessage:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        message = await queue.get(no_ack=True, fail=False)
        if message is not None:
            return message
        await asyncio.sleep(0.02)
    raise AssertionError("no request reached the queue")


async def _reply(
    exchange: aio_pika.abc.AbstractExchange, reply_to: str, correlation_id: str, body: Any
) -> None:
    message = aio_pika.Message(
        json.dumps(body).encode(), content_type="application/json", correlation_id=correlation_id
    )
    await exchange.publish(message, routing_key=reply_to)


@pytest.mark.usefixtures("vhost")
def test_unconsumed_request_expires_from_a_dead_service_queue() -> None:
    async def scenario() -> None:
        async with connected_client() as client, fake_service_queue("deadsvc") as queue:
            with pytest.raises(RpcTimeout):
                await client.call("deadsvc", "do", timeout=0.3)
            assert client.in_flight == 0
            deadline = time.monotonic() + 3
            while (await queue.declare()).message_count:
                assert time.monotonic() < deadline, "request still queued after its timeout"
                await asyncio.sleep(0.05)

    run(scenario)


# -- broker unavailable ----------------------------------------------------------------------


def test_before_start_and_after_close_calls_fail_at_once() -> None:
    async def scenario() -> None:
        client = NamekoRpcClient(amqp_uri(free_port()))
        with pytest.raises(ServiceUnavailable, match="broker unavailable"):
            await client.call(SERVICE, "ping")
        await client.close()
        with pytest.raises(ServiceUnavailable, match="client closed"):
            await client.call(SERVICE, "ping")

    run(scenario)


def test_broker_never_reachable_fails_at_once() -> None:
    async def scenario() -> None:
        client = NamekoRpcClient(amqp_uri(free_port()), reconnect_interval=0.1)
        await client.start()  # returns although nothing listens
        try:
            # refused at once (ServiceUnavailable), not after the 30 s timeout (RpcTimeout)
            with pytest.raises(ServiceUnavailable) as raised:
                await client.call(SERVICE, "ping", timeout=30)
            assert raised.value.reason == "broker unavailable"
            assert not await client.wait_connected(0.3)
            assert not client.connected and client.in_flight == 0
        finally:
            await client.close()

    run(scenario)


def test_broker_hanging_in_handshake_is_retried_and_calls_fail_fast() -> None:
    async def scenario() -> None:
        server = SilentServer()
        await server.start()
        client = NamekoRpcClient(amqp_uri(server.port), connect_timeout=0.3, reconnect_interval=0.1)
        try:
            await client.start()
            await wait_until(lambda: server.accepted >= 3, timeout=3)  # connect_timeout works
            with pytest.raises(ServiceUnavailable, match="broker unavailable"):
                await client.call(SERVICE, "ping")  # refused, not timed out
        finally:
            await client.close()
            await server.stop()

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_connection_loss_fails_in_flight_calls_and_client_reconnects() -> None:
    async def scenario() -> None:
        proxy = TcpProxy()
        await proxy.start()
        uri = amqp_uri(proxy.port)
        try:
            async with connected_client(uri, reconnect_interval=0.2) as client:
                first_queue = client.reply_queue
                calls = [asyncio.create_task(client.call(SERVICE, "sleep", 1)) for _ in range(5)]
                await wait_until(lambda: client.in_flight == 5, timeout=2)
                await asyncio.sleep(0.2)  # published and being worked on

                await proxy.stop()  # the broker goes away
                outcomes = await asyncio.gather(*calls, return_exceptions=True)
                assert all(isinstance(o, ServiceUnavailable) for o in outcomes), outcomes
                assert {o.reason for o in outcomes} == {"connection lost"}  # type: ignore[union-attr]
                assert client.in_flight == 0 and not client.connected

                await asyncio.sleep(0.7)  # a few reconnect attempts fail meanwhile
                with pytest.raises(ServiceUnavailable):  # not the RpcTimeout of 30 s
                    await client.call(SERVICE, "ping", timeout=30)

                await proxy.start()  # the broker is back
                assert await client.wait_connected(3)
                assert await client.call(SERVICE, "ping") == "pong"
                assert client.reply_queue not in (None, first_queue)
                assert client.in_flight == 0
        finally:
            await proxy.stop()

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_silent_broker_bounds_the_publish() -> None:
    async def scenario() -> None:
        proxy = TcpProxy()
        await proxy.start()
        try:
            async with connected_client(amqp_uri(proxy.port), connect_timeout=0.5) as client:
                proxy.freeze()  # no RST: the connection looks alive until heartbeats run out
                with pytest.raises(ServiceUnavailable, match="broker not answering"):
                    await client.call(SERVICE, "ping", timeout=30)  # not the RpcTimeout
                assert client.in_flight == 0

                proxy.thaw()  # the confirm and reply of the abandoned call arrive and are dropped
                assert await client.call(SERVICE, "ping") == "pong"
                assert client.in_flight == 0
        finally:
            await proxy.stop()

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_connection_loss_under_load_ends_every_call_cleanly() -> None:
    """Calls caught mid-publish or mid-flight fail with ServiceUnavailable, never hang or leak
    another exception type (aiormq cancels publishers when the channel closes)."""

    async def scenario() -> None:
        proxy = TcpProxy()
        await proxy.start()
        try:
            async with connected_client(amqp_uri(proxy.port)) as client:
                in_flight = asyncio.Semaphore(64)

                async def ping() -> str:
                    async with in_flight:
                        return await client.call(SERVICE, "ping")  # type: ignore[no-any-return]

                calls = [asyncio.create_task(ping()) for _ in range(1000)]
                await wait_until(lambda: sum(c.done() for c in calls) >= 100, timeout=5)
                await proxy.stop()
                outcomes = await asyncio.wait_for(
                    asyncio.gather(*calls, return_exceptions=True), timeout=2
                )
                kinds = {o if o == "pong" else type(o) for o in outcomes}
                assert kinds == {"pong", ServiceUnavailable}, outcomes
                assert client.in_flight == 0
        finally:
            await proxy.stop()

    run(scenario)


@pytest.mark.usefixtures("echo_service")
def test_a_closed_client_can_be_started_again_on_another_loop() -> None:
    client = NamekoRpcClient(amqp_uri())  # built outside any loop, as create_app() does

    async def lifespan() -> str:
        await client.start()
        try:
            assert await client.wait_connected(5)
            return await client.call(SERVICE, "ping")  # type: ignore[no-any-return]
        finally:
            await client.close()

    assert run(lifespan) == "pong"
    assert run(lifespan) == "pong"
