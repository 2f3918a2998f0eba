"""``/api/v1/...``: ledger, served by the ticketing service."""

from __future__ import annotations

from gateway.endpoints import Endpoint

ENDPOINTS: list[Endpoint] = []
