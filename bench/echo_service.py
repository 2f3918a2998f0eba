"""Reference B of the submission benchmark: a trivial nameko service, the other end of the
raw RPC limit (an aio-pika client with 64 calls in flight, no HTTP, no database).

    python -m nameko run --config bench/nameko_gateway.yml bench.echo_service
"""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc


class EchoService:
    """Answers with what it is sent."""

    name = "bench_echo"

    @rpc
    def echo(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"args": list(args), "kwargs": kwargs}
