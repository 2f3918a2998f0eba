"""What this gateway knows of each service's health, and the probes that keep it current.

Every ``interval`` seconds (``fast_interval`` while a service is not healthy) the monitor asks
the broker how many consumers each service's RPC queue has (a passive declare: no service is
involved, so a busy service is never mistaken for a dead one) and, when there are some, calls
the service's ``health`` RPC. No consumer opens the service's circuit breaker at once
(:class:`gateway.rpc.Breaker`); a health answer closes it. The last report of each service is
what ``/readyz`` shows, and ``gridsvc_service_up{service}`` exports it.

``/readyz`` itself does not depend on it: a gateway can serve while one service is down (that
service's routes answer 503 at once, the others work).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from prometheus_client import Gauge

from common.config import SERVICES
from gateway.rpc import NamekoRpcClient, RpcError

log = logging.getLogger(__name__)

RPC_QUEUE = "rpc-{}"  # nameko's RPC_QUEUE_TEMPLATE

SERVICE_UP = Gauge(
    "gridsvc_service_up",
    "1 while the service answers its health RPC and reports itself healthy (database "
    "reachable, migrations at head), as this gateway's last probe saw it; 0 otherwise",
    ["service"],
)
CIRCUIT_OPEN = Gauge(
    "gridsvc_gateway_circuit_open",
    "1 while this gateway's circuit breaker for the service is open (its routes answer 503 "
    "at once)",
    ["service"],
)


class ServiceMonitor:
    def __init__(self, rpc: NamekoRpcClient, services: Iterable[str] = SERVICES, *,
                 interval: float = 2.0, fast_interval: float = 0.5,
                 probe_timeout: float = 2.0) -> None:
        self.rpc = rpc
        self.services = tuple(services)
        self.interval = interval
        self.fast_interval = fast_interval
        self.probe_timeout = probe_timeout
        self.reports: dict[str, dict[str, Any]] = {
            s: {"name": s, "healthy": False, "error": "not probed yet"} for s in self.services}
        self._task: asyncio.Task[None] | None = None
        for service in self.services:
            SERVICE_UP.labels(service).set(0)
            CIRCUIT_OPEN.labels(service).set_function(
                lambda s=service: 1 if rpc.breaker(s).is_open else 0)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="service-monitor")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def all_healthy(self) -> bool:
        return all(r.get("healthy") is True for r in self.reports.values())

    async def _run(self) -> None:
        while True:
            try:
                await self.probe_all()
            except asyncio.CancelledError:
                raise
            except Exception:  # the monitor must outlive anything a probe does
                log.exception("probing the services failed")
            await asyncio.sleep(self.interval if self.all_healthy() else self.fast_interval)

    async def probe_all(self) -> None:
        await asyncio.gather(*(self.probe(s) for s in self.services))

    async def probe(self, service: str) -> dict[str, Any]:
        report = await self._report(service)
        report["circuit"] = self.rpc.breaker(service).state
        previous = self.reports.get(service, {})
        if previous.get("healthy") is True and report.get("healthy") is not True:
            log.warning("service %s is not healthy: %s", service,
                        report.get("error") or report)
        elif previous.get("healthy") is False and report.get("healthy") is True \
                and previous.get("error") != "not probed yet":
            log.info("service %s is healthy again", service)
        self.reports[service] = report
        SERVICE_UP.labels(service).set(1 if report.get("healthy") is True else 0)
        return report

    async def _report(self, service: str) -> dict[str, Any]:
        down = {"name": service, "healthy": False}
        try:
            consumers = await self.rpc.queue_consumers(RPC_QUEUE.format(service))
        except RpcError as exc:
            return down | {"error": str(exc) or type(exc).__name__}
        if not consumers:
            self.rpc.breaker(service).open("no consumer on its RPC queue")
            return down | {"error": f"no process consumes {RPC_QUEUE.format(service)}"}
        try:
            answer = await self.rpc.call(service, "health", timeout=self.probe_timeout,
                                         probe=True)
        except RpcError as exc:
            return down | {"error": str(exc) or type(exc).__name__}
        if not isinstance(answer, dict):
            return down | {"error": "malformed health answer"}
        return dict(answer)
