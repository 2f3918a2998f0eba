"""``/api/v1/...``: demand_lifecycle, served by the ticketing service."""

from __future__ import annotations

from gateway.endpoints import Endpoint

ENDPOINTS: list[Endpoint] = []
