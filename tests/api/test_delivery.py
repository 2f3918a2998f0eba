"""Email and WeCom delivery of inbox messages against the real platform: a local SMTP server
(aiosmtpd) and a WeCom webhook receiver, the notification process restarted to use them."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import kombu
import pytest
from aiosmtpd.controller import Controller
from conftest import AMQP_URI, METRICS_PORTS
from helpers import bearer, demand_body, eventually, new_enterprise_id, worker_calls
from sqlalchemy import text
from sqlalchemy.orm import Session

from common.auth import Role
from services.enterprise.demo_load import stable_id
from services.notification import delivery, inbox

pytestmark = pytest.mark.timeout(180)

LIAISON_ID = stable_id("account", "liaison.fire_rescue")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every mail it receives."""

    def __init__(self) -> None:
        self.mails: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.mails.append(email.message_from_bytes(envelope.content,
                                                    policy=email.policy.default))
        return "250 OK"

    def for_message(self, message_id: str) -> list[email.message.Message]:
        return [m for m in self.mails if str(m["X-Gridsvc-Message"]) == str(message_id)]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Webhook:
    """A WeCom group-robot stand-in: records the JSON; answers ``errcode`` as told."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.errcode = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((self.path, json.loads(body)))
                answer = json.dumps({"errcode": hook.errcode, "errmsg": "test"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def smtp(platform, db) -> Iterator[SmtpServer]:
    """A running SMTP server, and the notification process restarted to send to it with a
    1 s sweep, 1 s retry base and 5 attempts; the original process is back afterwards."""
    server = SmtpServer(free_port())
    server.start()
    platform.stop("notification")
    platform.start_service("notification", extra_env={
        "SMTP_PORT": str(server.port), "DELIVERY_SWEEP_SECONDS": "1",
        "DELIVERY_RETRY_BASE_SECONDS": "1", "DELIVERY_MAX_ATTEMPTS": "5",
        # the local robot stand-in (http on 127.0.0.1): development only, for this process
        "WEBHOOK_HOSTS": "qyapi.weixin.qq.com,127.0.0.1", "WEBHOOK_ALLOW_INTERNAL": "1"})
    platform.wait_ready(timeout=60)
    try:
        yield server
    finally:
        server.stop()
        with db.begin() as conn:  # later tests' messages to the liaison stay in the inbox
            conn.execute(text("DELETE FROM notification.channel_preferences "
                              "WHERE recipient = :r"), {"r": f"user:{LIAISON_ID}"})
        platform.stop("notification")
        platform.start_service("notification")
        platform.wait_ready(timeout=60)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def liaison_token(token) -> str:
    return token(Role.LIAISON, user_id=LIAISON_ID, department_id="fire_rescue")


def set_channels(client: httpx.Client, tok: str, channels: list[dict]) -> dict:
    response = client.put("/api/v1/inbox/preferences", json={"channels": channels},
                          headers=bearer(tok))
    assert response.status_code == 200, response.text
    return response.json()


def assign_task(client: httpx.Client, token) -> str:
    """A demand triaged to fire_rescue: the task's link."""
    ent = new_enterprise_id(incubator_id="INC01")
    demand = client.post("/api/v1/demands", json=demand_body(),
                         headers=bearer(token(Role.ENTERPRISE, enterprise_id=ent)))
    assert demand.status_code == 201, demand.text
    coordinator = token(Role.COORDINATOR, department_id="economic_development")
    triaged = client.post(f"/api/v1/demands/{demand.json()['id']}/triage",
                          headers=bearer(coordinator),
                          json={"category": "fire", "proposed_opinion": "请指导消防验收",
                                "departments": [{"department_id": "fire_rescue"}]})
    assert triaged.status_code == 200, triaged.text
    return f"/tasks/{triaged.json()['tasks'][0]['id']}"


def notification_calls(method: str) -> float:
    return worker_calls(METRICS_PORTS["notification"], method)


def await_calls(method: str, n: int, timeout: float = 20.0) -> None:
    """Wait (polling, at most ``timeout`` s) until ``n`` more calls of ``method`` finished."""
    start = notification_calls(method)
    assert eventually(lambda: notification_calls(method) >= start + n, timeout=timeout), (
        f"{method} did not finish {n} more calls within {timeout} s")


def message_id_of(db, link: str) -> str | None:
    with db.connect() as conn:
        found = conn.execute(text(
            "SELECT id FROM notification.inbox_messages WHERE link = :l AND recipient = :r "
            "AND kind = 'task_assigned'"), {"l": link, "r": f"user:{LIAISON_ID}"}).scalar()
    return None if found is None else str(found)


def deliveries_of(db, message_id: str) -> list[dict]:
    with db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(
            "SELECT * FROM notification.deliveries WHERE message_id = :m"), {"m": message_id})]


def put_in_inbox(db, recipient: str, title: str = "测试消息") -> str:
    """A message through the domain function the event handlers use; its id."""
    with Session(db) as session, session.begin():
        assert inbox.deliver(session, recipient, "task_assigned", str(uuid.uuid4()), title,
                             "正文", "/tasks/test")
        return str(session.execute(text(
            "SELECT id FROM notification.inbox_messages WHERE recipient = :r AND title = :t"),
            {"r": recipient, "t": title}).scalar_one())


# --------------------------------------------------------------------------- plain functions


def test_backoff_doubles_from_the_base_up_to_the_cap():
    assert [delivery.backoff_seconds(n, 2) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert delivery.backoff_seconds(20, 2) == delivery.MAX_BACKOFF_SECONDS


def test_settings_come_from_the_environment():
    settings = delivery.load_delivery_settings({"SMTP_PORT": "2525", "SMTP_FROM": "a@b.cn"})
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_from) == (
        "127.0.0.1", 2525, "a@b.cn")
    assert (settings.sweep_seconds, settings.retry_base_seconds, settings.max_attempts) == (
        1.0, 2.0, 6)


# --------------------------------------------------------------------------- preferences


def test_preferences_are_validated_and_replaced(client, token):
    tok = token(Role.LIAISON, department_id="fire_rescue")
    assert client.get("/api/v1/inbox/preferences", headers=bearer(tok)).json()["channels"] == []
    for bad in ({"channel": "email", "address": "not-an-address"},
                {"channel": "wecom", "address": "ftp://example.com/hook"},
                {"channel": "wecom", "address": "javascript:alert(1)"},
                {"channel": "sms", "address": "13800000000"}):
        response = client.put("/api/v1/inbox/preferences", json={"channels": [bad]},
                              headers=bearer(tok))
        assert response.status_code == 422, (bad, response.text)
    twice = [{"channel": "email", "address": "a@example.com"}] * 2
    assert client.put("/api/v1/inbox/preferences", json={"channels": twice},
                      headers=bearer(tok)).status_code == 422
    saved = set_channels(client, tok, [
        {"channel": "email", "address": "a@example.com"},
        {"channel": "wecom", "address": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
         "enabled": False}])
    assert saved["recipient"].startswith("user:")
    assert {c["channel"]: c["enabled"] for c in saved["channels"]} == {
        "email": True, "wecom": False}
    saved = set_channels(client, tok, [{"channel": "email", "address": "b@example.com"}])
    assert saved["channels"] == [{"channel": "email", "address": "b@example.com",
                                  "enabled": True}]


# --------------------------------------------------------------------------- through the platform


def test_assigned_task_reaches_the_liaison_by_email(smtp, client, token):
    """Sent by the next delivery sweep (1 s here); how long it took is measured by
    ``gridsvc_notification_delivery_seconds``, never asserted (the machine is shared)."""
    set_channels(client, liaison_token(token), [
        {"channel": "email", "address": "liaison.fire@example.com"}])
    link = assign_task(client, token)
    mail = eventually(lambda: [m for m in smtp.mailbox.mails if link in m.get_content()],
                      timeout=30.0)
    assert len(mail) == 1, smtp.mailbox.mails
    assert mail[0]["To"] == "liaison.fire@example.com"
    assert mail[0]["X-Gridsvc-Message"] and "新任务待受理" in mail[0]["Subject"]


def test_smtp_outage_is_retried_and_every_message_sent_exactly_once(smtp, client, token, db):
    set_channels(client, liaison_token(token), [
        {"channel": "email", "address": "liaison.fire@example.com"}])
    smtp.stop()
    try:
        links = [assign_task(client, token) for _ in range(3)]
        ids = [eventually(lambda link=link: message_id_of(db, link), timeout=5.0)
               for link in links]
        assert all(ids)
        # every delivery failed at least twice and is waiting for its next attempt
        assert eventually(lambda: all(
            (d := deliveries_of(db, m)) and d[0]["attempts"] >= 2 and d[0]["state"] == "failed"
            for m in ids), timeout=15.0)
        assert all("smtp" in deliveries_of(db, m)[0]["last_error"] for m in ids)
    finally:
        smtp.start()
    assert eventually(lambda: all(deliveries_of(db, m)[0]["state"] == "sent" for m in ids),
                      timeout=20.0)
    await_calls("delivery_sweep_tick", 2)  # two more sweeps: nothing is sent again
    counts = Counter(str(m["X-Gridsvc-Message"]) for m in smtp.mailbox.mails)
    assert [counts[str(m)] for m in ids] == [1, 1, 1], (ids, counts)
    metrics = httpx.get(f"http://127.0.0.1:{METRICS_PORTS['notification']}/metrics").text
    assert 'gridsvc_notifications_sent_total{channel="email",outcome="failed"}' in metrics
    assert 'gridsvc_notification_delivery_seconds_count{channel="email"}' in metrics
    assert 'gridsvc_notification_retry_backlog{channel="email"}' in metrics


def test_redelivered_event_gives_no_second_mail(smtp, client, token, db):
    set_channels(client, liaison_token(token), [
        {"channel": "email", "address": "liaison.fire@example.com"}])
    link = assign_task(client, token)
    message_id = eventually(lambda: message_id_of(db, link), timeout=5.0)
    assert eventually(lambda: smtp.mailbox.for_message(message_id), timeout=10.0)
    task_id = link.rsplit("/", 1)[1]
    with db.connect() as conn:
        payload = conn.execute(text(
            "SELECT payload FROM ticketing.outbox WHERE event_type = 'task_assigned' "
            "AND payload->'data'->>'task_id' = :t"), {"t": task_id}).scalar_one()
    with kombu.Connection(AMQP_URI) as conn:
        producer = conn.Producer(serializer="json")
        exchange = kombu.Exchange("ticketing.events", type="topic", durable=True)
        handled = notification_calls("on_task_assigned")
        for _ in range(2):
            producer.publish(payload, exchange=exchange, routing_key="task_assigned")
    # both redeliveries handled, then two sweeps that would have sent a second mail
    assert eventually(lambda: notification_calls("on_task_assigned") >= handled + 2,
                      timeout=20.0)
    await_calls("delivery_sweep_tick", 2)
    assert len(smtp.mailbox.for_message(message_id)) == 1
    assert len(deliveries_of(db, message_id)) == 1


def test_wecom_webhook_gets_the_markdown_message(smtp, client, token, db, webhook):
    user = f"liaison-{uuid.uuid4().hex[:8]}"
    tok = token(Role.LIAISON, user_id=user, department_id="fire_rescue")
    set_channels(client, tok, [{"channel": "wecom", "address": f"{webhook.url}/send?key=k1"}])
    message_id = put_in_inbox(db, f"user:{user}", "企业微信测试")
    assert eventually(lambda: webhook.received, timeout=10.0)
    path, body = webhook.received[0]
    assert path == "/send?key=k1"
    assert body["msgtype"] == "markdown" and "企业微信测试" in body["markdown"]["content"]
    assert eventually(lambda: deliveries_of(db, message_id)[0]["state"] == "sent", timeout=5.0)


def test_dead_deliveries_are_listed_for_admins_and_retryable(smtp, client, token, db, webhook):
    user = f"liaison-{uuid.uuid4().hex[:8]}"
    tok = token(Role.LIAISON, user_id=user, department_id="fire_rescue")
    set_channels(client, tok, [{"channel": "wecom", "address": f"{webhook.url}/send"}])
    webhook.errcode = 93000  # WeCom: invalid webhook url
    message_id = put_in_inbox(db, f"user:{user}", "死信测试")
    assert eventually(lambda: deliveries_of(db, message_id)[0]["state"] == "dead",
                      timeout=30.0)
    row = deliveries_of(db, message_id)[0]
    assert row["attempts"] == 5 and "errcode 93000" in row["last_error"]

    def dead_gauge() -> float:
        text = httpx.get(f"http://127.0.0.1:{METRICS_PORTS['notification']}/metrics").text
        found = re.search(r'^gridsvc_notification_dead_deliveries\{channel="wecom"\} (\S+)$',
                          text, re.M)
        return float(found.group(1)) if found else -1.0

    assert eventually(lambda: dead_gauge() >= 1, timeout=5.0)  # GridNotificationDeadDeliveries

    admin = bearer(token(Role.ADMIN))
    listed = client.get("/api/v1/deliveries", params={"state": "dead", "per_page": 200},
                        headers=admin)
    assert listed.status_code == 200, listed.text
    dead = [d for d in listed.json()["items"] if d["message_id"] == message_id]
    assert len(dead) == 1 and dead[0]["channel"] == "wecom"
    delivery_id = dead[0]["id"]
    assert client.get("/api/v1/deliveries", headers=bearer(tok)).status_code == 403
    assert client.post(f"/api/v1/deliveries/{delivery_id}/retry",
                       headers=bearer(tok)).status_code == 403

    webhook.errcode = 0
    retried = client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=admin)
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "queued" and retried.json()["attempts"] == 0
    assert eventually(lambda: deliveries_of(db, message_id)[0]["state"] == "sent",
                      timeout=10.0)
    again = client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=admin)
    assert again.status_code == 409
    assert client.post(f"/api/v1/deliveries/{uuid.uuid4()}/retry",
                       headers=admin).status_code == 404
