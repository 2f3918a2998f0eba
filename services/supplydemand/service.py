"""Supply/demand board service (供求信息互通平台). Entrypoints only; the areas live in ``api/``
and the rules in the plain modules beside this file (``matching``, ``board``, ``docking``)."""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy

from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import rpc
from common.health import health_report
from services.supplydemand.api.dockings import DockingsApi
from services.supplydemand.api.listings import ListingsApi
from services.supplydemand.dependencies import Board, Identity


class SupplyDemandService(ListingsApi, DockingsApi):
    """Listings of what enterprises offer and need, matching and docking (对接)."""

    name = "supplydemand"

    db = Database("supplydemand")
    caller = Caller()
    metrics = Metrics()
    board = Board()  # loads jieba's dictionary at start
    identity = Identity()  # event handlers and contact look-ups call the registry as the service
    enterprise = RpcProxy("enterprise")

    @rpc
    def health(self) -> dict[str, Any]:
        return health_report(self.name, self.db)
