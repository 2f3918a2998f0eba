"""Dependency providers of the board service: jieba loaded at start, the scrape-time metrics,
and the service's own identity for the registry calls it makes for itself."""

from __future__ import annotations

import os
from typing import Any

from nameko.extensions import DependencyProvider

from common.config import ConfigurationError, load_settings, seconds_from_env
from common.db import make_engine
from common.service_identity import AsService, CallingIdentity  # noqa: F401
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


#: kept under their old names: they live in common/service_identity.py
Identity = CallingIdentity
