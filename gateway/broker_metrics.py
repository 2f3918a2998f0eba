"""``rabbitmq_queue_messages_ready{queue,vhost}`` and ``rabbitmq_queue_consumers{queue,vhost}``
for the services' RPC queues (``rpc-<service>``), read at scrape time of the gateway's
``/metrics`` with a passive ``queue_declare`` (RabbitMQ's own Prometheus plugin is not enabled
here; the names match the plugin's so a dashboard works with either).

Bounded: only the platform's known queues, one short-lived connection with a short timeout per
scrape. Never raises: with the broker unreachable it yields nothing (the series go stale;
``gridsvc_gateway_broker_connected`` says why). A queue that does not exist (its service never
started on this vhost) is reported with 0 consumers and no ready count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from urllib.parse import unquote, urlsplit

import amqp
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry

from common.config import SERVICES

log = logging.getLogger(__name__)

RPC_QUEUE = "rpc-{}"  # nameko's RPC_QUEUE_TEMPLATE


class BrokerQueueCollector(Collector):
    def __init__(self, amqp_uri: str, services: Iterable[str] = SERVICES,
                 timeout: float = 1.0) -> None:
        parts = urlsplit(amqp_uri)
        self.host = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5672}"
        self.userid = unquote(parts.username or "guest")
        self.password = unquote(parts.password or "guest")
        self.vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        self.queues = [RPC_QUEUE.format(s) for s in services]
        self.timeout = timeout

    def describe(self) -> list:
        return []  # no broker call at registration time

    def _read(self) -> dict[str, tuple[int, int] | None]:
        found: dict[str, tuple[int, int] | None] = {}
        conn = amqp.Connection(
            host=self.host, userid=self.userid, password=self.password,
            virtual_host=self.vhost, connect_timeout=self.timeout,
            read_timeout=self.timeout, write_timeout=self.timeout, heartbeat=0,
        )
        try:
            conn.connect()
            for queue in self.queues:
                channel = conn.channel()
                try:
                    _name, ready, consumers = channel.queue_declare(queue, passive=True)
                    found[queue] = (ready, consumers)
                    channel.close()
                except amqp.exceptions.NotFound:  # closes the channel, not the connection
                    found[queue] = None
        finally:
            try:
                conn.close()
            except Exception:
                pass
        return found

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            found = self._read()
        except Exception as exc:
            log.warning("reading RPC queues for /metrics failed: %s", exc)
            return
        ready = GaugeMetricFamily("rabbitmq_queue_messages_ready",
                                  "Messages ready to be delivered to consumers",
                                  labels=["queue", "vhost"])
        consumers = GaugeMetricFamily("rabbitmq_queue_consumers", "Consumers on a queue",
                                      labels=["queue", "vhost"])
        for queue, value in found.items():
            if value is None:
                consumers.add_metric([queue, self.vhost], 0)
                continue
            ready.add_metric([queue, self.vhost], value[0])
            consumers.add_metric([queue, self.vhost], value[1])
        yield ready
        yield consumers


_registered: dict[int, BrokerQueueCollector] = {}


def register_broker_metrics(amqp_uri: str,
                            registry: CollectorRegistry = REGISTRY) -> BrokerQueueCollector:
    """Register the collector once per registry (``create_app`` may run more than once)."""
    if id(registry) not in _registered:
        collector = BrokerQueueCollector(amqp_uri)
        registry.register(collector)
        _registered[id(registry)] = collector
    return _registered[id(registry)]
