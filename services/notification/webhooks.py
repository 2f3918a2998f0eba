"""WeCom (企业微信) group-robot webhooks that cannot reach inside (issue 22, finding 4: a
webhook at ``http://127.0.0.1:…``, ``localhost``, ``[::1]``, ``0x7f000001`` or
``169.254.169.254`` was accepted, and notification POSTed the user's demand title there,
following redirects).

- a webhook is ``https`` on a host of the operator's allow-list (``WEBHOOK_HOSTS``, default
  ``qyapi.weixin.qq.com``);
- every address its host resolves to must be public: loopback, private, link-local,
  multicast, reserved and unspecified addresses are refused when it is saved (a name that
  does not resolve then is saved) and again at each delivery (a name that resolved to a
  public address at saving may resolve inside later: DNS rebinding); the delivery
  connects to the address it checked, not to a second lookup;
- no redirect is followed, and only a short excerpt of an answer is kept.

``WEBHOOK_ALLOW_INTERNAL=1`` (development only, refused otherwise) lets the listed hosts be
``http`` and internal: for a local robot stand-in in tests.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from common.config import ConfigurationError
from common.errors import InvalidValue

DEFAULT_HOSTS = ("qyapi.weixin.qq.com",)
#: the most of an answer read, and of it kept in an error
MAX_ANSWER_BYTES = 4096
EXCERPT_CHARS = 200

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class WebhookPolicy:
    hosts: frozenset[str] = frozenset(DEFAULT_HOSTS)
    allow_internal: bool = False


def load_policy(environ: Mapping[str, str] | None = None) -> WebhookPolicy:
    """``WEBHOOK_HOSTS`` (comma-separated host names) and ``WEBHOOK_ALLOW_INTERNAL``."""
    env = os.environ if environ is None else environ
    hosts = frozenset(h.strip().lower().rstrip(".") for h in
                      (env.get("WEBHOOK_HOSTS") or ",".join(DEFAULT_HOSTS)).split(",")
                      if h.strip())
    allow_internal = (env.get("WEBHOOK_ALLOW_INTERNAL") or "").strip() in ("1", "true", "yes")
    if allow_internal and env.get("GRIDSVC_ENV", "development") != "development":
        raise ConfigurationError("WEBHOOK_ALLOW_INTERNAL is for development only")
    return WebhookPolicy(hosts, allow_internal)


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)})


def internal(address: str) -> bool:
    """True for an address inside: loopback, private, link-local, multicast, reserved,
    unspecified (IPv4-mapped IPv6 addresses judged as their IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def check_url(url: str, policy: WebhookPolicy) -> Target:
    """The webhook's parts if its form is allowed (no look-up); InvalidValue otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidValue("webhook.invalid", "not a valid webhook URL") from exc
    host = (parts.hostname or "").lower().rstrip(".")
    scheme = parts.scheme.lower()
    if scheme != "https" and not (policy.allow_internal and scheme == "http"):
        raise InvalidValue("webhook.not_https", "a webhook must be https")
    if parts.username or parts.password:
        raise InvalidValue("webhook.invalid", "not a valid webhook URL")
    if not host or host not in policy.hosts:
        raise InvalidValue("webhook.host_not_allowed", "the host {host} is not an allowed "
                           "webhook host ({hosts})", host=host or "-",
                           hosts=", ".join(sorted(policy.hosts)))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def public_addresses(target: Target, policy: WebhookPolicy,
                     resolve: Resolver = system_resolver) -> list[str]:
    """The addresses the webhook's host resolves to, all public; InvalidValue otherwise."""
    try:
        addresses = resolve(target.host, target.port)
    except OSError as exc:
        raise InvalidValue("webhook.unresolvable", "the host {host} does not resolve",
                           host=target.host) from exc
    if not addresses:
        raise InvalidValue("webhook.unresolvable", "the host {host} does not resolve",
                           host=target.host)
    if not policy.allow_internal and any(internal(a) for a in addresses):
        raise InvalidValue("webhook.internal_address",
                           "the host {host} resolves to an internal address", host=target.host)
    return addresses


def check(url: str, policy: WebhookPolicy, resolve: Resolver = system_resolver) -> None:
    """What saving a webhook checks: its form, and every address its host resolves to now. A
    host that does not resolve at the moment is saved (a DNS hiccup must not refuse a
    preference); each delivery resolves and checks again and does not send then."""
    target = check_url(url, policy)
    try:
        public_addresses(target, policy, resolve)
    except InvalidValue as exc:
        if exc.code != "webhook.unresolvable":
            raise


class _Pinned(http.client.HTTPSConnection):
    """HTTPS to ``address`` (checked) for ``host`` (SNI and certificate check)."""

    def __init__(self, host: str, address: str, port: int, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedPlain(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict[str, str], policy: WebhookPolicy,
         timeout: float, resolve: Resolver = system_resolver) -> tuple[int, bytes]:
    """POST ``body``: checked again now (form and addresses), sent to the checked address,
    no redirect followed; (status, at most MAX_ANSWER_BYTES of the answer)."""
    target = check_url(url, policy)
    address = public_addresses(target, policy, resolve)[0]
    connection: Any
    if target.scheme == "https":
        connection = _Pinned(target.host, address, target.port, timeout,
                             ssl.create_default_context())
    else:
        connection = _PinnedPlain(target.host, address, target.port, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(MAX_ANSWER_BYTES)
    finally:
        connection.close()


def excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
