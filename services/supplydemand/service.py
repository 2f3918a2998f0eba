"""Supply/demand board service (供求信息互通平台). Entrypoints only."""

from __future__ import annotations

from typing import Any

from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import rpc
from common.health import health_report


class SupplyDemandService:
    """Listings of what enterprises offer and need, matching and docking (对接)."""

    name = "supplydemand"

    db = Database("supplydemand")
    caller = Caller()
    metrics = Metrics()

    @rpc
    def health(self) -> dict[str, Any]:
        return health_report(self.name, self.db)
