"""Metrics of the board (供求信息), on the service's ``/metrics``.

- ``gridsvc_board_listings{side,status}``: listings by side and status, read from the database
  at scrape time (so every replica reports the same truth);
- ``gridsvc_board_dockings{outcome}``: dockings by outcome (requested, accepted, declined),
  likewise;
- ``gridsvc_board_matches_total``: pairs notified (``listing_matched``), counted after commit;
- ``gridsvc_board_docking_decisions_total{outcome}``: accept/decline decisions, after commit;
- ``gridsvc_board_expired_total``: listings the expiry sweep marked expired;
- ``gridsvc_board_expiry_sweep_failures_total``: sweeps that failed (retried next tick).

Labels are bounded (two sides, four statuses, three outcomes); never an id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

MATCHES = Counter("gridsvc_board_matches_total",
                  "Listing pairs scored above the threshold and notified (listing_matched)")
DECISIONS = Counter("gridsvc_board_docking_decisions_total",
                    "Docking requests answered, by outcome", ["outcome"])
EXPIRED = Counter("gridsvc_board_expired_total",
                  "Listings marked expired by the sweep at the end of their validity")
SWEEP_FAILURES = Counter("gridsvc_board_expiry_sweep_failures_total",
                         "Expiry sweeps that failed (retried on the next tick)")

LISTINGS_SQL = text("""
SELECT side, CASE WHEN status = 'published' AND valid_until < (now() AT TIME ZONE
       'Asia/Shanghai')::date THEN 'expired' ELSE status END, count(*)
FROM supplydemand.listings GROUP BY 1, 2""")
DOCKINGS_SQL = text("SELECT status, count(*) FROM supplydemand.dockings GROUP BY 1")


class BoardCollector(Collector):
    """Listings by side and status and dockings by outcome, read at scrape time. Never
    raises: on a database error it yields nothing (a gap, not a false zero)."""

    def __init__(self, engine: Engine, statement_timeout_ms: int = 2000) -> None:
        self.engine = engine
        self.statement_timeout_ms = int(statement_timeout_ms)

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text(f"SET LOCAL statement_timeout = {self.statement_timeout_ms}"))
                listings = conn.execute(LISTINGS_SQL).all()
                dockings = conn.execute(DOCKINGS_SQL).all()
                conn.rollback()
        except Exception as exc:
            log.warning("reading board counts for /metrics failed: %s", exc)
            return
        by_status = GaugeMetricFamily("gridsvc_board_listings",
                                      "Supply/demand listings (供求信息) by side and status",
                                      labels=["side", "status"])
        for side, status, count in listings:
            by_status.add_metric([side, status], count)
        by_outcome = GaugeMetricFamily("gridsvc_board_dockings",
                                       "Dockings (对接) by outcome", labels=["outcome"])
        for status, count in dockings:
            by_outcome.add_metric([status], count)
        yield by_status
        yield by_outcome


_registered: dict[int, BoardCollector] = {}


def register_board(engine: Callable[[], Engine],
                   registry: CollectorRegistry = REGISTRY) -> BoardCollector:
    """Register the collector once per process (per registry)."""
    key = id(registry)
    if key not in _registered:
        collector = BoardCollector(engine())
        registry.register(collector)
        _registered[key] = collector
    return _registered[key]
