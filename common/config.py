"""Configuration from environment variables, with development defaults.

Every variable is listed in docs/operations.md. Nothing here reads files: a container
gets its configuration from its environment (ConfigMap and Secret in Kubernetes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common import keys
from common.i18n import supported
from common.keys import KeyConfigurationError, KeyRing, SigningKey

#: DEVELOPMENT ONLY: the committed key pair development mode signs and verifies with
#: (common/keys.py); refused outside development
DEV_SIGNING_KEY = keys.dev_signing_key()
DEV_KEY_RING = keys.dev_key_ring()
#: the old name of the development signing key, kept for the callers that mint test tokens
#: with ``mint_token(principal, DEV_JWT_SECRET, ttl)``
DEV_JWT_SECRET = DEV_SIGNING_KEY

#: metrics port of each service when METRICS_PORT is not set
DEFAULT_METRICS_PORTS = {
    "enterprise": 9101,
    "ticketing": 9102,
    "notification": 9103,
    "supplydemand": 9104,
}

SERVICES = tuple(DEFAULT_METRICS_PORTS)


class ConfigurationError(RuntimeError):
    """A required setting is missing or invalid."""


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/gridsvc"
    #: the public keys every token is verified with (JWT_PUBLIC_KEYS)
    jwt_keys: KeyRing = DEV_KEY_RING
    #: this process's own signing key (JWT_PRIVATE_KEY, JWT_KID); None: it signs nothing
    jwt_signing_key: SigningKey | None = DEV_SIGNING_KEY
    jwt_issuer: str = "gridsvc"
    token_ttl_seconds: int = 8 * 3600
    rpc_timeout_seconds: float = 10.0
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    max_body_bytes: int = 1_048_576
    metrics_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_METRICS_PORTS))
    metrics_port_override: int | None = None
    metrics_host: str = "127.0.0.1"
    max_workers: int = 10
    log_format: str = "json"
    forwarded_allow_ips: str = "127.0.0.1"
    #: the language of texts for a request without Accept-Language (zh-CN or en)
    default_language: str = "zh-CN"

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    def signing_key(self) -> SigningKey:
        """This process's signing key; ConfigurationError when it has none."""
        if self.jwt_signing_key is None:
            raise ConfigurationError("this process signs tokens: set JWT_PRIVATE_KEY and JWT_KID")
        return self.jwt_signing_key

    def metrics_port(self, service: str) -> int:
        if self.metrics_port_override is not None:
            return self.metrics_port_override
        return self.metrics_ports[service]

    def nameko_config(self) -> dict[str, Any]:
        """The config dict a nameko ServiceRunner expects."""
        return {
            "AMQP_URI": self.amqp_uri,
            "max_workers": self.max_workers,
            "serializer": "json",
            # kombu: reconnect forever with a short back-off, and notice a dead broker
            "HEARTBEAT": 10,
        }


def load_keys(env: Mapping[str, str], development: bool
              ) -> tuple[KeyRing, SigningKey | None]:
    """The public keys (``JWT_PUBLIC_KEYS``, a JWKS) and this process's signing key
    (``JWT_PRIVATE_KEY`` in PEM with ``JWT_KID``). Development mode without them uses the
    committed development pair; outside development the public keys are required and the
    development key is refused."""
    jwks = env.get("JWT_PUBLIC_KEYS", "").strip()
    pem = env.get("JWT_PRIVATE_KEY", "").strip()
    kid = env.get("JWT_KID", "").strip()
    try:
        ring = KeyRing.from_jwks(jwks) if jwks else None
        signing = SigningKey.from_pem(kid, pem + "\n") if pem else None
    except KeyConfigurationError as exc:
        raise ConfigurationError(str(exc)) from exc
    if development:
        return ring or DEV_KEY_RING, signing or (DEV_SIGNING_KEY if ring is None else None)
    if ring is None:
        raise ConfigurationError("JWT_PUBLIC_KEYS is required when GRIDSVC_ENV is not "
                                 "development (docs/operations.md, signing keys)")
    if keys.DEV_KID in ring or any(
            _same_key(ring.get(k), DEV_KEY_RING.get(keys.DEV_KID)) for k in ring.kids):
        raise ConfigurationError("the development key may not be used outside development")
    if signing is not None and _same_key(signing, DEV_SIGNING_KEY):
        raise ConfigurationError("the development key may not be used outside development")
    if signing is not None and signing.kid not in ring:
        raise ConfigurationError(f"JWT_KID {signing.kid} is not in JWT_PUBLIC_KEYS")
    return ring, signing


def _same_key(a: SigningKey | keys.VerificationKey | None,
              b: SigningKey | keys.VerificationKey | None) -> bool:
    """Whether two keys (signing or verification) have the same public half."""

    def raw(key: SigningKey | keys.VerificationKey | None) -> bytes | None:
        if isinstance(key, SigningKey):
            return key.private_key.public_key().public_bytes_raw()
        if isinstance(key, keys.VerificationKey):
            return key.public_key.public_bytes_raw()
        return None

    return raw(a) is not None and raw(a) == raw(b)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings; outside development the signing keys must be given."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        value = env.get(name, "").strip()
        return value or default

    environment = get("GRIDSVC_ENV", "development")
    ring, signing = load_keys(env, environment == "development")
    ports = dict(DEFAULT_METRICS_PORTS)
    for name in ports:
        ports[name] = int(get(f"{name.upper()}_METRICS_PORT", str(ports[name])))
    override = env.get("METRICS_PORT", "").strip()
    language = supported(get("DEFAULT_LANGUAGE", Settings.default_language))
    if language is None:
        raise ConfigurationError("DEFAULT_LANGUAGE must be zh-CN or en")
    try:
        return Settings(
            environment=environment,
            amqp_uri=get("AMQP_URI", Settings.amqp_uri),
            database_url=get("DATABASE_URL", Settings.database_url),
            jwt_keys=ring,
            jwt_signing_key=signing,
            token_ttl_seconds=int(get("TOKEN_TTL_SECONDS", str(Settings.token_ttl_seconds))),
            rpc_timeout_seconds=float(
                get("RPC_TIMEOUT_SECONDS", str(Settings.rpc_timeout_seconds))
            ),
            gateway_host=get("GATEWAY_HOST", Settings.gateway_host),
            gateway_port=int(get("GATEWAY_PORT", str(Settings.gateway_port))),
            max_body_bytes=int(get("MAX_BODY_BYTES", str(Settings.max_body_bytes))),
            metrics_ports=ports,
            metrics_port_override=int(override) if override else None,
            metrics_host=get("METRICS_HOST", Settings.metrics_host),
            max_workers=int(get("MAX_WORKERS", str(Settings.max_workers))),
            log_format=get("LOG_FORMAT", Settings.log_format),
            forwarded_allow_ips=get("FORWARDED_ALLOW_IPS", Settings.forwarded_allow_ips),
            default_language=language,
        )
    except ValueError as exc:
        raise ConfigurationError(f"invalid setting: {exc}") from exc


def seconds_from_env(name: str, default: float, environ: dict[str, str] | None = None) -> float:
    """A positive number of seconds from the environment (timer intervals)."""
    env = os.environ if environ is None else environ
    raw = env.get(name, "").strip() or str(default)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigurationError(f"{name} must be a positive number, not {raw!r}")
    return seconds
