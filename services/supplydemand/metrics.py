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

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, CollectorRegistry
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from common.gauges import SqlGaugeCollector, register_once

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


class BoardCollector(SqlGaugeCollector):
    """Listings by side and status and dockings by outcome, read at scrape time
    (:class:`common.gauges.SqlGaugeCollector`: on a database error, nothing)."""

    what = "board counts"

    def read(self, session: Session) -> tuple[list[Any], list[Any]]:
        return (list(session.execute(LISTINGS_SQL).all()),
                list(session.execute(DOCKINGS_SQL).all()))

    def families(self, figures: tuple[list[Any], list[Any]]) -> Iterator[GaugeMetricFamily]:
        listings, dockings = figures
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


def register_board(engine: Callable[[], Engine],
                   registry: CollectorRegistry = REGISTRY) -> BoardCollector:
    """Register the collector once per process (per registry)."""
    return register_once(BoardCollector, lambda: BoardCollector(engine()), registry)
