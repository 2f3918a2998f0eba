"""WeCom webhooks that cannot reach inside (issue 22, finding 4): the probe's addresses, an
allowed host resolving inside (DNS rebinding), checked at saving and at each delivery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.config import ConfigurationError
from common.errors import InvalidValue
from services.notification import delivery, webhooks
from services.notification.models import Delivery, InboxMessage

POLICY = webhooks.WebhookPolicy()  # the default: https to qyapi.weixin.qq.com only
GOOD = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"


def resolving_to(*addresses: str) -> webhooks.Resolver:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("url, code", [
    ("http://127.0.0.1:8080/send", "webhook.not_https"),
    ("https://127.0.0.1:8080/send", "webhook.host_not_allowed"),
    ("https://localhost/send", "webhook.host_not_allowed"),
    ("https://[::1]/send", "webhook.host_not_allowed"),
    ("https://0x7f000001/send", "webhook.host_not_allowed"),
    ("http://169.254.169.254/latest/meta-data", "webhook.not_https"),
    ("https://169.254.169.254/latest/meta-data", "webhook.host_not_allowed"),
    ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send", "webhook.not_https"),
    ("https://evil.example.com/send", "webhook.host_not_allowed"),
    ("https://qyapi.weixin.qq.com.evil.example.com/send", "webhook.host_not_allowed"),
    ("https://user:pw@qyapi.weixin.qq.com/send", "webhook.invalid"),
])
def test_the_probes_webhooks_are_refused_by_their_form(url, code):
    with pytest.raises(InvalidValue) as refused:
        webhooks.check(url, POLICY, resolving_to("203.0.113.5"))
    assert refused.value.code == code


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1",
                                     "169.254.169.254", "100.64.0.1", "224.0.0.1", "0.0.0.0",
                                     "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1",
                                     "240.0.0.1"])
def test_an_allowed_host_resolving_inside_is_refused(address):
    """DNS rebinding: the allowed name itself resolves to an internal address."""
    with pytest.raises(InvalidValue) as refused:
        webhooks.check(GOOD, POLICY, resolving_to("101.91.22.57", address))
    assert refused.value.code == "webhook.internal_address"


def test_an_allowed_host_resolving_outside_is_saved_and_an_unresolvable_one_too():
    webhooks.check(GOOD, POLICY, resolving_to("101.91.22.57"))

    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    webhooks.check(GOOD, POLICY, nowhere)  # saved; each delivery resolves again


def message() -> InboxMessage:
    return InboxMessage(id="m1", title="需求标题", body="正文", link=None,
                        created_at=datetime.now(UTC))


def test_a_delivery_checks_again_and_never_connects_inside(monkeypatch):
    """At delivery the name resolves inside now (rebound after it was saved): refused
    before any connection."""
    def no_connection(*args, **kwargs):
        raise AssertionError("connected")

    monkeypatch.setattr(webhooks.socket, "create_connection", no_connection)
    settings = delivery.DeliverySettings()
    hook = Delivery(id="d1", channel="wecom", address=GOOD, attempts=0)
    with pytest.raises(delivery.SendFailed, match="refused"):
        delivery._wecom(settings, hook, message(), resolving_to("127.0.0.1"))
    moved = Delivery(id="d2", channel="wecom", address="https://evil.example.com/x", attempts=0)
    with pytest.raises(delivery.SendFailed, match="refused"):
        delivery._wecom(settings, moved, message(), resolving_to("203.0.113.5"))


def test_the_operator_sets_the_hosts_and_internal_is_for_development_only():
    policy = webhooks.load_policy({"WEBHOOK_HOSTS": "qyapi.weixin.qq.com, hooks.example.cn"})
    assert policy.hosts == {"qyapi.weixin.qq.com", "hooks.example.cn"}
    assert not policy.allow_internal
    assert webhooks.load_policy({}).hosts == {"qyapi.weixin.qq.com"}
    with pytest.raises(ConfigurationError):
        webhooks.load_policy({"WEBHOOK_ALLOW_INTERNAL": "1", "GRIDSVC_ENV": "production"})


def test_only_an_excerpt_of_an_answer_is_kept():
    assert len(webhooks.excerpt(b"x" * 100_000)) <= webhooks.EXCERPT_CHARS + 1
