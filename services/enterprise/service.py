"""Enterprise registry service (企业信息): who is who in the zone. Entrypoints only."""

from __future__ import annotations

from typing import Any

from common.db import Database
from common.dependencies import Caller, Metrics
from common.entrypoints import rpc
from common.health import health_report


class EnterpriseService:
    """Departments, grids, staff accounts, enterprises, profiles and contracts."""

    name = "enterprise"

    db = Database("enterprise")
    caller = Caller()
    metrics = Metrics()

    @rpc
    def health(self) -> dict[str, Any]:
        return health_report(self.name, self.db)
