"""Dependency providers of the board service: jieba loaded at start, the scrape-time metrics,
and the service's own identity for the registry calls it makes for itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nameko.extensions import DependencyProvider

from common.config import ConfigurationError, load_settings, seconds_from_env
from common.db import make_engine
from common.service_identity import ServiceIdentity
from services.supplydemand import matching, metrics

#: matches scoring at least this are notified to both enterprises (listing_matched)
DEFAULT_MATCH_THRESHOLD = 0.5


def match_threshold(environ: dict[str, str] | None = None) -> float:
    """``SUPPLYDEMAND_MATCH_THRESHOLD`` (0-1), default 0.5."""
    env = os.environ if environ is None else environ
    raw = env.get("SUPPLYDEMAND_MATCH_THRESHOLD", "").strip()
    if not raw:
        return DEFAULT_MATCH_THRESHOLD
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"SUPPLYDEMAND_MATCH_THRESHOLD is not a number: {raw!r}") from exc
    if not 0 <= value <= 1:
        raise ConfigurationError("SUPPLYDEMAND_MATCH_THRESHOLD must lie between 0 and 1")
    return value


def expiry_interval(environ: dict[str, str] | None = None) -> float:
    """Seconds between expiry sweeps: ``SUPPLYDEMAND_EXPIRY_SWEEP_SECONDS``, default 10."""
    return seconds_from_env("SUPPLYDEMAND_EXPIRY_SWEEP_SECONDS", 10,
                            dict(os.environ if environ is None else environ))


class Board(DependencyProvider):
    """``self.board``: the board's settings. Loads jieba's dictionary once per process in
    ``setup`` (about a second), so that no request pays for it, and registers the
    scrape-time gauges on a small engine of their own."""

    def setup(self) -> None:
        self.threshold = match_threshold()
        matching.initialise()
        metrics.register_board(
            lambda: make_engine(load_settings().database_url, "supplydemand",
                                "supplydemand-metrics", pool_size=1)
        )

    def get_dependency(self, worker_ctx: Any) -> Board:
        return self


class AsService:
    """``with self.identity.as_service():`` calls made inside the block carry the service's
    token instead of the caller's (e.g. reading both parties' contacts on acceptance)."""

    def __init__(self, provider: ServiceIdentity, worker_ctx: Any) -> None:
        self._provider = provider
        self._ctx = worker_ctx

    @contextmanager
    def as_service(self) -> Iterator[None]:
        data = self._ctx.data
        before = data.get("auth_token")
        data["auth_token"] = self._provider.token()
        try:
            yield
        finally:
            if before is None:
                data.pop("auth_token", None)
            else:
                data["auth_token"] = before


class Identity(ServiceIdentity):
    """:class:`common.service_identity.ServiceIdentity` (timers and event handlers call as the
    service) that also lets an RPC worker make one call as the service."""

    def get_dependency(self, worker_ctx: Any) -> AsService:  # type: ignore[override]
        return AsService(self, worker_ctx)
