"""meetings routes (filled in by its feature)."""

from gateway.endpoints import Endpoint

ENDPOINTS: list[Endpoint] = []
