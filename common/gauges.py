"""Gauges read from the database at scrape time (one way for every service).

A :class:`SqlGaugeCollector` runs its queries when Prometheus scrapes ``/metrics``, in one
read-only transaction under a statement timeout, so every replica exports the same truth and
nothing drifts (the dashboards aggregate such gauges with ``max``, never ``sum``). It never
raises: when the database does not answer it yields only :meth:`~SqlGaugeCollector.always`
(the other series go stale, which a dashboard shows as a gap, not as a false zero).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from prometheus_client.core import Metric
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

C = TypeVar("C", bound=Collector)

#: how long the queries of one scrape may take
STATEMENT_TIMEOUT_MS = 2000


class SqlGaugeCollector(Collector):
    """Subclasses name ``what`` they read (for the log), :meth:`read` the figures in a
    session and turn them into metric families with :meth:`families`."""

    what = "figures"

    def __init__(self, engine: Engine, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> None:
        self.engine = engine
        self.statement_timeout_ms = int(statement_timeout_ms)

    def describe(self) -> list[Metric]:
        return []  # no query at registration time

    def always(self) -> Iterable[Metric]:
        """Families exported even when the database is away (none by default)."""
        return ()

    def read(self, session: Session) -> Any:
        raise NotImplementedError

    def families(self, figures: Any) -> Iterable[Metric]:
        raise NotImplementedError

    def collect(self) -> Iterator[Metric]:
        yield from self.always()
        try:
            with Session(self.engine) as session:
                session.execute(text(f"SET LOCAL statement_timeout = {self.statement_timeout_ms}"))
                figures = self.read(session)
                session.rollback()
        except Exception as exc:
            log.warning("reading %s for /metrics failed: %s", self.what, exc)
            return
        yield from self.families(figures)


_registered: dict[tuple[type[Collector], int], Collector] = {}


def register_once(kind: type[C], make: Callable[[], C],
                  registry: CollectorRegistry = REGISTRY) -> C:
    """Register the collector of class ``kind`` made by ``make()`` once per process (per
    registry); later calls return the first one (``make`` is not called again)."""
    key = (kind, id(registry))
    if key not in _registered:
        collector = make()
        registry.register(collector)
        _registered[key] = collector
    found = _registered[key]
    assert isinstance(found, kind)
    return found
