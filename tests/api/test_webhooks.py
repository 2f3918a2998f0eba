"""The probe's webhooks through the gateway (issue 22, finding 4): refused when saved, with
the field named; no redirect followed at delivery; email addresses validated."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import bearer

from common.auth import Role
from services.notification import delivery, webhooks
from services.notification.models import Delivery, InboxMessage

PROBE = ["http://127.0.0.1:9101/hook", "https://localhost/hook", "https://[::1]/hook",
         "https://0x7f000001/hook", "http://169.254.169.254/latest/meta-data/",
         "https://169.254.169.254/latest/meta-data/", "https://10.0.0.8/hook",
         "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
         "https://hooks.evil.example/cgi-bin/webhook/send"]


@pytest.mark.parametrize("address", PROBE)
def test_the_probes_webhooks_are_refused_when_saved(client, token, address):
    tok = token(Role.ENTERPRISE, enterprise_id="00000000-0000-0000-0000-000000000022")
    refused = client.put("/api/v1/inbox/preferences", headers=bearer(tok),
                         json={"channels": [{"channel": "wecom", "address": address}]})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert "channels.0.address" in problem["errors"], problem
    assert problem["errors"]["channels.0.address"][0]["code"].startswith("webhook.")
    saved = client.get("/api/v1/inbox/preferences", headers=bearer(tok)).json()
    assert all(c["address"] != address for c in saved["channels"])


@pytest.mark.parametrize("address", ["not-an-address", "a@localhost", "a@[127.0.0.1]",
                                     "a@example.com\r\nBcc: all@example.com",
                                     "x" * 250 + "@example.com"])
def test_email_addresses_are_validated(client, token, address):
    tok = token(Role.LIAISON, department_id="fire_rescue")
    refused = client.put("/api/v1/inbox/preferences", headers=bearer(tok),
                         json={"channels": [{"channel": "email", "address": address}]})
    assert refused.status_code == 422 and "channels.0.address" in refused.json()["errors"]


class _Server:
    def __init__(self, status: int, location: str = "") -> None:
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                server.hits += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                body = b'{"errcode": 0}' + b" " * 100_000
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[_Server, _Server]]:
    inside = _Server(200)
    redirecting = _Server(302, f"{inside.url}/internal")
    yield redirecting, inside
    redirecting.close()
    inside.close()


def test_a_redirect_is_not_followed(servers):
    """A robot stand-in answering 302 towards an internal address: the delivery fails and
    the address it points to is never asked (a development policy allows 127.0.0.1 here)."""
    redirecting, inside = servers
    settings = delivery.DeliverySettings(webhooks=webhooks.WebhookPolicy(
        frozenset({"127.0.0.1"}), allow_internal=True))
    hook = Delivery(id="d1", channel="wecom", address=f"{redirecting.url}/send", attempts=0)
    message = InboxMessage(id="m1", title="标题", body="正文", link=None,
                           created_at=datetime.now(UTC))
    with pytest.raises(delivery.SendFailed, match="redirects are not followed") as failed:
        delivery._wecom(settings, hook, message)
    assert redirecting.hits == 1 and inside.hits == 0
    assert len(str(failed.value)) < 400  # only an excerpt of the answer is kept
