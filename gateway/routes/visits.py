"""``/api/v1/...``: visits, served by the enterprise service."""

from __future__ import annotations

from gateway.endpoints import Endpoint

ENDPOINTS: list[Endpoint] = []
