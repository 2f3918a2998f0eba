"""Configuration from environment variables, with development defaults.

Every variable is listed in docs/operations.md. Nothing here reads files: a container
gets its configuration from its environment (ConfigMap and Secret in Kubernetes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from common.i18n import supported

DEV_JWT_SECRET = "development-only-signing-key-not-for-production"

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
    jwt_secret: str = DEV_JWT_SECRET
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

    def metrics_port(self, service: str) -> int:
        if self.metrics_port_override is not None:
            return self.metrics_port_override
        return self.metrics_ports[service]

    def nameko_config(self) -> dict:
        """The config dict a nameko ServiceRunner expects."""
        return {
            "AMQP_URI": self.amqp_uri,
            "max_workers": self.max_workers,
            "serializer": "json",
            # kombu: reconnect forever with a short back-off, and notice a dead broker
            "HEARTBEAT": 10,
        }


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings; outside development a signing key must be given."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        value = env.get(name, "").strip()
        return value or default

    environment = get("GRIDSVC_ENV", "development")
    secret = env.get("JWT_SECRET", "").strip()
    if not secret:
        if environment != "development":
            raise ConfigurationError("JWT_SECRET is required when GRIDSVC_ENV is not development")
        secret = DEV_JWT_SECRET
    if len(secret.encode()) < 32:
        raise ConfigurationError("JWT_SECRET must be at least 32 bytes (HS256 key)")
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
            jwt_secret=secret,
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
