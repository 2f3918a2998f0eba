"""Malformed messages on the services' queues are rejected and logged; the services keep serving.

nameko 2.14.1 alone dies on a request without ``content_type`` (and the redelivered message
kills it again: a poison loop) and never answers a body it cannot decode. ``common.entrypoints``
checks every message first. Here raw messages are published with kombu/py-amqp straight onto
the services' queues of the running test platform (vhost ``gridsvc_test``), bypassing the
gateway, and the platform is then used through the gateway as a client would.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import amqp
import httpx
import kombu
import pytest
from conftest import METRICS_PORTS, TEST_ENV, TEST_VHOST, TokenFactory
from helpers import bearer, demand_body, eventually, new_enterprise_id

from common.auth import Role
from common.config import SERVICES
from devtools.processes import Platform

pytestmark = pytest.mark.timeout(120)

RPC_EXCHANGE = "nameko-rpc"
REPLY_TIMEOUT = 5.0
DRAIN_TIMEOUT = 10.0
#: nameko's queue for ``@event_handler("ticketing", "demand_received")`` on notification
DEMAND_RECEIVED_QUEUE = "evt-ticketing-demand_received--notification.on_demand_received"
TRIAGE_DEADLINE = "/api/v1/calendar/triage-deadline?received_at=2026-11-27T09:00:00%2B08:00"


@dataclass
class Case:
    """One raw request: body bytes plus AMQP properties, and the error expected back."""

    name: str
    body: bytes
    properties: dict[str, Any] = field(default_factory=dict)
    reply: bool = True  # publish with our reply_to?
    expected: str | None = "MalformedRequest"  # exc_type expected in the reply


CASES = [
    # without content_type kombu hands over the body as text: nameko's responder then dies
    # (KeyError); a body that is not even UTF-8 fails in kombu's decoder instead
    Case("no_content_type", b'{"args": [], "kwargs": {}}'),
    Case("no_content_type_binary", b"\x00\x01 not json at all \xff"),
    Case("invalid_json", b'{"args": [', {"content_type": "application/json"}),
    Case("json_list", b"[1, 2, 3]", {"content_type": "application/json"}),
    Case("missing_args", b'{"kwargs": {}}', {"content_type": "application/json"}),
    Case("missing_kwargs", b'{"args": []}', {"content_type": "application/json"}),
    Case(
        "wrong_arity",
        b'{"args": [1, 2, 3], "kwargs": {}}',
        {"content_type": "application/json"},
        expected="IncorrectSignature",
    ),
    Case(
        "no_reply_to",
        b'{"args": [], "kwargs": {}}',
        {"content_type": "application/json"},
        reply=False,
        expected=None,
    ),
    Case(
        "unknown_content_type",
        b'{"args": [], "kwargs": {}}',
        {"content_type": "application/x-unknown"},
    ),
]


# -- AMQP helpers -----------------------------------------------------------------------------


@pytest.fixture
def channel(healthy_platform: Platform) -> Iterator[amqp.Channel]:
    """A plain py-amqp channel on the test vhost (kombu's transport), so that properties such
    as ``content_type`` are sent exactly as given, or not at all."""
    with kombu.Connection(TEST_ENV["AMQP_URI"], connect_timeout=5) as conn:
        conn.connect()
        yield conn.default_channel


def declare_reply_queue(channel: amqp.Channel) -> tuple[str, str]:
    """An exclusive queue bound on nameko-rpc with a fresh routing key: (queue, reply_to)."""
    reply_to = str(uuid.uuid4())
    queue = f"test-malformed-reply-{reply_to}"
    channel.queue_declare(queue=queue, exclusive=True, auto_delete=True)
    channel.queue_bind(queue=queue, exchange=RPC_EXCHANGE, routing_key=reply_to)
    return queue, reply_to


def publish_raw(
    channel: amqp.Channel, exchange: str, routing_key: str, body: bytes, **properties: Any
) -> None:
    channel.basic_publish(
        amqp.Message(body, **{k: v for k, v in properties.items() if v is not None}),
        exchange=exchange,
        routing_key=routing_key,
    )


def collect_replies(
    channel: amqp.Channel, queue: str, wanted: set[str], timeout: float
) -> dict[str, dict[str, Any]]:
    """Replies on ``queue`` by correlation_id, until all ``wanted`` arrived or ``timeout``."""
    replies: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while not wanted <= replies.keys() and time.monotonic() < deadline:
        message = channel.basic_get(queue=queue, no_ack=True)
        if message is None:
            time.sleep(0.05)
            continue
        replies[message.properties.get("correlation_id", "")] = json.loads(message.body)
    return replies


def queue_depth(channel: amqp.Channel, queue: str) -> tuple[int, int]:
    """(ready messages, consumers) of an existing queue, by a passive declare."""
    _name, messages, consumers = channel.queue_declare(queue=queue, passive=True)
    return messages, consumers


def unacked(queue: str) -> int | None:
    """Messages delivered but not settled (a passive declare counts only ready ones)."""
    done = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            TEST_VHOST,
            "--no-table-headers",
            "name",
            "messages_unacknowledged",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == queue:
            return int(parts[1])
    return None


def assert_drained(channel: amqp.Channel, queue: str) -> None:
    """Nothing left in ``queue`` to redeliver, and nothing held unacknowledged."""
    ready = eventually(lambda: queue_depth(channel, queue)[0] == 0, timeout=DRAIN_TIMEOUT)
    assert ready, f"{queue} still holds {queue_depth(channel, queue)[0]} message(s)"
    settled = eventually(lambda: unacked(queue) == 0, timeout=DRAIN_TIMEOUT, interval=0.5)
    assert settled, f"{queue} holds {unacked(queue)} unacknowledged message(s)"
    assert queue_depth(channel, queue)[1] >= 1, f"nobody consumes {queue} any more"


# -- metrics ----------------------------------------------------------------------------------

_SAMPLE = re.compile(r"^gridsvc_malformed_messages_total\{([^}]*)\}\s+(\S+)$", re.M)


def malformed_total(service: str) -> float:
    """Sum of ``gridsvc_malformed_messages_total`` on the service's metrics port."""
    text = httpx.get(f"http://127.0.0.1:{METRICS_PORTS[service]}/metrics", timeout=5).text
    return sum(float(value) for _labels, value in _SAMPLE.findall(text))


def malformed_by_reason(service: str) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{METRICS_PORTS[service]}/metrics", timeout=5).text
    found: dict[str, float] = {}
    for labels, value in _SAMPLE.findall(text):
        reason = re.search(r'reason="([^"]*)"', labels)
        found[reason.group(1) if reason else ""] = float(value)
    return found


# -- service still serving --------------------------------------------------------------------


def assert_still_serving(platform: Platform, client: httpx.Client, service: str, tok: str) -> None:
    assert platform.procs[service].alive, f"{service} died on a malformed message"
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["services"][service]["healthy"] is True
    if service == "ticketing":
        answer = client.get(TRIAGE_DEADLINE, headers=bearer(tok))
        assert answer.status_code == 200, answer.text
        assert answer.json()["deadline"].startswith("2026-11-30T10:00")
    if service == "notification":
        answer = client.get("/api/v1/inbox", headers=bearer(tok))
        assert answer.status_code == 200, answer.text


def dies_within(platform: Platform, service: str, seconds: float) -> bool:
    """True as soon as the service's process exits (a dead container takes ~1 s to exit)."""
    return eventually(lambda: not platform.procs[service].alive, timeout=seconds, interval=0.1)


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_malformed_rpc_requests_are_rejected_and_the_service_keeps_serving(
    service: str,
    healthy_platform: Platform,
    client: httpx.Client,
    channel: amqp.Channel,
    token: TokenFactory,
) -> None:
    tok = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    queue, reply_to = declare_reply_queue(channel)
    before = malformed_total(service)

    sent: dict[str, Case] = {}
    for case in CASES:
        correlation_id = f"{case.name}-{uuid.uuid4()}"
        sent[correlation_id] = case
        publish_raw(
            channel,
            RPC_EXCHANGE,
            f"{service}.health",
            case.body,
            correlation_id=correlation_id,
            reply_to=reply_to if case.reply else None,
            **case.properties,
        )

    awaited = {cid for cid, case in sent.items() if case.reply}
    replies = collect_replies(channel, queue, awaited, REPLY_TIMEOUT)
    got = {
        case.name: (
            (replies[cid].get("error") or {}).get("exc_type") if cid in replies else "no reply"
        )
        for cid, case in sent.items()
        if case.reply
    }
    expected = {case.name: case.expected for case in CASES if case.reply}
    assert got == expected
    for cid in awaited:
        assert replies[cid]["result"] is None

    assert_still_serving(healthy_platform, client, service, tok)
    assert_drained(channel, f"rpc-{service}")
    # every malformed case is counted; wrong arity is a well-formed request nameko answers
    counted = sum(1 for case in CASES if case.expected != "IncorrectSignature")
    assert eventually(lambda: malformed_total(service) >= before + counted), (
        f"{service}: counter went from {before} to {malformed_total(service)}, "
        f"expected +{counted}: {malformed_by_reason(service)}"
    )
    assert healthy_platform.procs[service].alive, f"{service} died after the batch"


def test_request_without_content_type_does_not_stop_ticketing(
    healthy_platform: Platform,
    client: httpx.Client,
    channel: amqp.Channel,
    token: TokenFactory,
) -> None:
    """The acceptance case verbatim: no content_type, no reply_to (fire and forget), then the
    next valid call is answered."""
    tok = token(Role.ENTERPRISE, enterprise_id=new_enterprise_id())
    before = malformed_by_reason("ticketing")
    for _ in range(3):  # one alone would kill plain nameko again at every restart
        publish_raw(
            channel,
            RPC_EXCHANGE,
            "ticketing.health",
            b'{"args": [], "kwargs": {}}',
            correlation_id=str(uuid.uuid4()),
        )
    assert_drained(channel, "rpc-ticketing")
    assert_still_serving(healthy_platform, client, "ticketing", tok)

    after = malformed_by_reason("ticketing")
    rejected = sum(after.values()) - sum(before.values())
    assert rejected >= 3, (before, after)
    assert healthy_platform.procs["ticketing"].alive
    answer = client.get(TRIAGE_DEADLINE, headers=bearer(tok))
    assert answer.status_code == 200, answer.text


def test_malformed_events_are_dropped_and_notification_keeps_delivering(
    healthy_platform: Platform,
    client: httpx.Client,
    channel: amqp.Channel,
    token: TokenFactory,
) -> None:
    enterprise_id = new_enterprise_id()
    tok = token(Role.ENTERPRISE, enterprise_id=enterprise_id)
    exchange, key = "ticketing.events", "demand_received"
    assert queue_depth(channel, DEMAND_RECEIVED_QUEUE)[1] >= 1, "notification not consuming"
    before = malformed_total("notification")

    garbage = [
        (b"\x00\xff garbage \x80", {}),  # no content_type at all
        (b'{"event_id": "no content type"}', {}),  # no content_type, decodes as text
        (b'{"event_id": ', {"content_type": "application/json"}),  # invalid JSON
        (b"\xff\xfe not utf-8", {"content_type": "application/json"}),
        (b"whatever", {"content_type": "application/x-unknown"}),
        (b"[1, 2]", {"content_type": "application/json"}),  # not an envelope
        (
            json.dumps(
                {  # an envelope without event_id
                    "event_type": key,
                    "source": "ticketing",
                    "data": {
                        "enterprise_id": enterprise_id,
                        "demand_id": "x",
                        "number": "SQ1",
                        "title": "t",
                        "received_at": "2026-01-05T09:00:00+08:00",
                        "triage_due_at": "2026-01-06T10:00:00+08:00",
                    },
                }
            ).encode(),
            {"content_type": "application/json"},
        ),
    ]
    for body, properties in garbage:
        publish_raw(channel, exchange, key, body, delivery_mode=2, **properties)

    assert_drained(channel, DEMAND_RECEIVED_QUEUE)
    assert healthy_platform.procs["notification"].alive, "notification died on a bad event"
    # the undecodable ones are counted (the rest are dropped, logged, by the handler itself)
    assert eventually(lambda: malformed_total("notification") >= before + 3), (
        before,
        malformed_by_reason("notification"),
    )

    # nothing reached the inbox from the envelope without an event id
    inbox = client.get("/api/v1/inbox", headers=bearer(tok))
    assert inbox.status_code == 200, inbox.text
    assert inbox.json()["total"] == 0

    # a real demand still produces its message
    created = client.post("/api/v1/demands", json=demand_body(), headers=bearer(tok))
    assert created.status_code == 201, created.text
    number = created.json()["number"]

    def delivered() -> list[dict[str, Any]]:
        answer = client.get("/api/v1/inbox", headers=bearer(tok))
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    items = eventually(delivered, timeout=15, interval=0.2)
    assert [item["kind"] for item in items] == ["demand_received"], items
    assert number in items[0]["title"]
    assert_drained(channel, DEMAND_RECEIVED_QUEUE)
    assert_still_serving(healthy_platform, client, "notification", tok)
    assert healthy_platform.procs["notification"].alive


# -- context headers --------------------------------------------------------------------------

#: nameko keeps every header as worker context (``nameko.`` stripped) and, in the worker thread,
#: does ``deque.extend(call_id_stack)`` and ``'->'.join(...)``: anything but a list of strings
#: raises there, kills the container, and the unacknowledged message kills the next one too.
BAD_CALL_ID_STACKS = [
    pytest.param({"nameko.call_id_stack": 42}, id="stack_int"),
    pytest.param({"nameko.call_id_stack": [1, 2]}, id="stack_of_ints"),
    pytest.param({"call_id_stack": 42}, id="unprefixed_stack_int"),
]
@pytest.fixture
def purge_poison(healthy_platform: Platform, channel: amqp.Channel) -> Iterator[None]:
    """If a test left a service dead, empty the queue that would kill it again on restart."""
    yield
    queues = {"ticketing": "rpc-ticketing", "notification": DEMAND_RECEIVED_QUEUE}
    for service, queue in queues.items():
        proc = healthy_platform.procs.get(service)
        if proc is not None and not proc.alive:
            proc.popen.wait(timeout=30)
            channel.queue_purge(queue=queue)


@pytest.mark.parametrize("headers", BAD_CALL_ID_STACKS)
def test_rpc_request_with_a_bad_call_id_stack_is_rejected(
    headers: dict[str, Any],
    healthy_platform: Platform,
    client: httpx.Client,
    channel: amqp.Channel,
    token: TokenFactory,
    purge_poison: None,
) -> None:
    queue, reply_to = declare_reply_queue(channel)
    correlation_id = str(uuid.uuid4())
    publish_raw(
        channel,
        RPC_EXCHANGE,
        "ticketing.health",
        b'{"args": [], "kwargs": {}}',
        content_type="application/json",
        correlation_id=correlation_id,
        reply_to=reply_to,
        application_headers=headers,
    )
    replies = collect_replies(channel, queue, {correlation_id}, REPLY_TIMEOUT)
    assert not dies_within(healthy_platform, "ticketing", 3), "ticketing died on a header"
    assert replies[correlation_id]["error"]["exc_type"] == "MalformedRequest"
    assert_drained(channel, "rpc-ticketing")
    assert_still_serving(
        healthy_platform,
        client,
        "ticketing",
        token(Role.ENTERPRISE, enterprise_id=new_enterprise_id()),
    )


@pytest.mark.parametrize("headers", BAD_CALL_ID_STACKS)
def test_event_with_a_bad_call_id_stack_is_dropped(
    headers: dict[str, Any],
    healthy_platform: Platform,
    client: httpx.Client,
    channel: amqp.Channel,
    token: TokenFactory,
    purge_poison: None,
) -> None:
    publish_raw(
        channel,
        "ticketing.events",
        "demand_received",
        b'{"event_id": "x"}',
        content_type="application/json",
        delivery_mode=2,
        application_headers=headers,
    )
    assert not dies_within(healthy_platform, "notification", 3), "notification died on a header"
    assert_drained(channel, DEMAND_RECEIVED_QUEUE)
    assert_still_serving(
        healthy_platform,
        client,
        "notification",
        token(Role.ENTERPRISE, enterprise_id=new_enterprise_id()),
    )
