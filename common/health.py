"""The ``health`` RPC every service answers, used by the gateway's ``/readyz``."""

from __future__ import annotations

import logging
from typing import Any

from common import __version__
from common.migrations import current_revision, head_revision

log = logging.getLogger(__name__)


def health_report(service: str, db: Any) -> dict[str, Any]:
    """Name, version, whether PostgreSQL answers and whether the schema is at the head."""
    head = head_revision(service)
    current = None
    reachable = False
    try:
        with db.engine.connect() as conn:
            current = current_revision(conn, service)
        reachable = True
    except Exception as exc:
        log.warning("health: database unreachable: %s", exc)
    healthy = reachable and current == head
    return {
        "name": service,
        "version": __version__,
        "healthy": healthy,
        "database": {"reachable": reachable},
        "migration": {"current": current, "head": head, "up_to_date": current == head},
    }
