"""nameko entrypoints that survive malformed messages.

nameko 2.14.1 dies on a request without ``content_type`` (KeyError in its responder, then the
message is redelivered and kills the next container too) and on a body it cannot decode (the
consumer thread raises). Here every message is checked before nameko sees it: a malformed one
is logged, answered with a ``MalformedRequest`` error when it carries a usable ``reply_to``, and
acknowledged so that it never comes back. Services use ``rpc`` and ``event_handler`` from this
module instead of nameko's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import eventlet
from amqp.exceptions import AMQPError
from kombu.serialization import registry
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.events import EventHandler
from nameko.exceptions import MalformedRequest, serialize
from nameko.messaging import QueueConsumer
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange
from prometheus_client import Counter

from common.errors import DomainError, database_unavailable, unknown_reference

log = logging.getLogger(__name__)

#: seconds an event handler that lost its database waits before the event goes back to its queue
DATABASE_RETRY_SECONDS = 1.0

MALFORMED = Counter(
    "gridsvc_malformed_messages_total",
    "Messages rejected because they could not be understood",
    ["service", "reason"],
)


def malformed_rpc_reason(body: Any, message: Any) -> str | None:
    """Why nameko could not safely handle this RPC request, or None if it can."""
    props = message.properties
    content_type = props.get("content_type")
    if not content_type or content_type not in registry.type_to_name:
        return "no_content_type"
    if not props.get("reply_to"):
        return "no_reply_to"
    if not isinstance(body, dict):
        return "body_not_object"
    if not isinstance(body.get("args"), list) or not isinstance(body.get("kwargs"), dict):
        return "bad_args"
    return None


def malformed_context_reason(message: Any) -> str | None:
    """nameko keeps every ``nameko.`` header as worker context and, in the worker thread,
    extends a deque with ``call_id_stack``: anything but a list of strings kills the container,
    and the unacknowledged message then kills the next one too."""
    headers = message.headers or {}
    for key in ("call_id_stack", "nameko.call_id_stack"):
        stack = headers.get(key)
        if stack is not None and not (
            isinstance(stack, list) and all(isinstance(item, str) for item in stack)
        ):
            return "bad_call_id_stack"
    return None


def answer_malformed(container: Any, message: Any, reason: str) -> None:
    """Reply with MalformedRequest if the sender waits for an answer; never raises."""
    props = message.properties
    reply_to = props.get("reply_to")
    if not reply_to or not isinstance(reply_to, str):
        return
    try:
        error = serialize(MalformedRequest(f"malformed request: {reason}"))
        Publisher(container.config["AMQP_URI"], retry=False).publish(
            {"result": None, "error": error},
            serializer="json",
            exchange=get_rpc_exchange(container.config),
            routing_key=reply_to,
            correlation_id=props.get("correlation_id"),
        )
    except Exception:
        log.warning("could not answer a malformed request", exc_info=True)


def _settle(message: Any) -> None:
    try:
        if message.channel.connection:
            message.ack()
    except Exception:
        log.warning("could not acknowledge a malformed message", exc_info=True)


class RobustQueueConsumer(QueueConsumer):
    """QueueConsumer that turns undecodable messages into a log line, not a dead container,
    retries a lost broker every few seconds (kombu's default backs off to 30 s), and survives
    a worker that finishes after the broker connection died."""

    @contextmanager
    def establish_connection(self) -> Iterator[Any]:
        with self.create_connection() as conn:
            conn.ensure_connection(
                self.on_connection_error, self.connect_max_retries,
                interval_start=1, interval_step=1, interval_max=3,
            )
            yield conn

    def ack_message(self, message: Any) -> None:
        """nameko ignores only amqp's ConnectionError here; a socket error (the broker died
        while the worker ran) would kill the container. The broker redelivers the message."""
        try:
            super().ack_message(message)
        except (OSError, AMQPError) as exc:
            log.warning("could not acknowledge a message (the broker will redeliver it): %r", exc)

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)
        except (OSError, AMQPError) as exc:
            log.warning("could not requeue a message (the broker will redeliver it): %r", exc)

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        consumers = super().get_consumers(consumer_cls, channel)
        for consumer in consumers:
            consumer.on_decode_error = self._on_decode_error
        return consumers

    def _on_decode_error(self, message: Any, exc: Exception) -> None:
        service = self.container.service_name
        MALFORMED.labels(service, "undecodable").inc()
        log.error(
            "rejected an undecodable message on %s (routing key %s): %s",
            service, message.delivery_info.get("routing_key"), exc,
        )
        if message.delivery_info.get("exchange") == get_rpc_exchange(self.container.config).name:
            answer_malformed(self.container, message, "undecodable body")
        _settle(message)


class ReplyPublisher(Publisher):
    """Publishes RPC replies without waiting for the broker's confirm, and not persisted.

    A confirm costs every reply a round trip to the broker (9 % of a timeline read's CPU in
    the service, measured with py-spy). A reply lost with the broker is the same as a timeout
    for the caller, which retries (with its Idempotency-Key for writes); the work it reports
    is committed before the reply is sent either way.
    """

    use_confirms = False
    delivery_mode = 1  # transient: reply queues do not outlive their caller


class ReplyResponder(Responder):
    publisher_cls = ReplyPublisher


class RobustRpcConsumer(RpcConsumer):
    queue_consumer = RobustQueueConsumer()

    def handle_message(self, body: Any, message: Any) -> None:
        reason = malformed_rpc_reason(body, message) or malformed_context_reason(message)
        if reason is not None:
            MALFORMED.labels(self.container.service_name, reason).inc()
            log.error(
                "rejected a malformed RPC request to %s: %s",
                message.delivery_info.get("routing_key"), reason,
            )
            answer_malformed(self.container, message, reason)
            _settle(message)
            return
        super().handle_message(body, message)

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> Any:
        if exc_info is not None:
            refusal = unknown_reference(exc_info[1])
            if refusal is not None:  # a foreign key the service did not check: 422, not 500
                log.warning("an unknown reference reached the database: %s", refusal.errors)
                exc_info = (type(refusal), refusal, exc_info[2])
        try:
            return self._reply(message, result, exc_info)
        except Exception:
            # the reply could not be sent (e.g. broker gone); the request is settled by the
            # broker on reconnect. Raising here would kill the container.
            log.exception("could not send an RPC reply")
            return result, exc_info


    def _reply(self, message: Any, result: Any, exc_info: Any) -> Any:
        """nameko's ``RpcConsumer.handle_result``, with :class:`ReplyResponder`."""
        config = self.container.config
        responder = ReplyResponder(
            config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class RobustRpc(Rpc):
    rpc_consumer = RobustRpcConsumer()

    def __init__(self, expected_exceptions: Any = DomainError, **kwargs: Any) -> None:
        # a refusal meant for the caller (4xx) is not a fault of the service
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)


class RobustEventHandler(EventHandler):
    """Also puts an event back in its queue (after a pause) when its handler failed because
    the database was away: nameko would acknowledge it, and the event would be lost. Handlers
    deduplicate on the event id, and the failed transaction was rolled back, so the redelivery
    is safe."""

    queue_consumer = RobustQueueConsumer()

    def handle_result(self, message: Any, worker_ctx: Any, result: Any = None,
                      exc_info: Any = None) -> Any:
        if exc_info is not None and database_unavailable(exc_info[1]):
            log.warning("%s: database unavailable, the event goes back to its queue",
                        worker_ctx.entrypoint.method_name)
            eventlet.sleep(DATABASE_RETRY_SECONDS)
            self.queue_consumer.requeue_message(message)
            return result, exc_info
        return super().handle_result(message, worker_ctx, result, exc_info)

    def handle_message(self, body: Any, message: Any) -> None:
        reason = malformed_context_reason(message)
        if reason is not None:
            MALFORMED.labels(self.container.service_name, reason).inc()
            log.error(
                "rejected a malformed event %s on %s: %s",
                message.delivery_info.get("routing_key"), self.container.service_name, reason,
            )
            _settle(message)
            return
        super().handle_message(body, message)


#: seconds a handler waits before it hands back an event it could not handle for now
RETRY_DELAY_SECONDS = 1.0


class RetryLater(Exception):
    """The event could not be handled for now (a service it needs did not answer): requeue it."""


class RetryingEventHandler(RobustEventHandler):
    """An event handler that puts the event back in its queue when the handler raised
    :class:`RetryLater`, and acknowledges it after any other outcome.

    nameko's ``requeue_on_error=True`` would requeue on every error, so one event that always
    fails (a bug, bad data) would loop for ever; here only "not now" comes back. Handlers raise
    through :func:`retry_later`, which waits :data:`RETRY_DELAY_SECONDS` first so a missing
    service is polled, not hammered; deduplication on the event id makes the next delivery safe.
    """

    def handle_message_processed(self, message: Any, result: Any = None,
                                 exc_info: Any = None) -> None:
        if exc_info is not None and isinstance(exc_info[1], RetryLater):
            self.queue_consumer.requeue_message(message)
        else:
            self.queue_consumer.ack_message(message)


def retry_later(handler: str, event_id: object, exc: Exception) -> NoReturn:
    """Log, wait :data:`RETRY_DELAY_SECONDS` and raise :class:`RetryLater` (from ``exc``)."""
    log.warning("%s will retry event %s: %s", handler, event_id, exc)
    eventlet.sleep(RETRY_DELAY_SECONDS)
    raise RetryLater(str(exc)) from exc


rpc = RobustRpc.decorator
event_handler = RobustEventHandler.decorator
retrying_event_handler = RetryingEventHandler.decorator
