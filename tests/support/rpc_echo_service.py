"""A trivial nameko service that tests/api/test_gateway_rpc.py calls over the real broker.

Run it as its own process (`python -m nameko run rpc_echo_service --config ...` from this
directory): the test process stays free of eventlet, like the gateway itself.
"""

from typing import Any

import eventlet
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc


class ContextData(DependencyProvider):
    """Hands the worker the context nameko decoded from the `nameko.*` request headers."""

    def get_dependency(self, worker_ctx: Any) -> dict[str, Any]:
        return dict(worker_ctx.context_data)


class EchoError(Exception):
    """Raised on purpose so the client sees a nameko error payload."""


class RpcEchoService:
    name = "rpc_echo"

    context = ContextData()

    @rpc
    def ping(self) -> str:
        return "pong"

    @rpc
    def echo(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"args": list(args), "kwargs": kwargs}

    @rpc
    def sleep(self, seconds: float) -> float:
        eventlet.sleep(seconds)
        return seconds

    @rpc
    def fail(self, message: str, code: int) -> None:
        raise EchoError(message, code)

    @rpc
    def context_data(self) -> dict[str, Any]:
        return self.context
