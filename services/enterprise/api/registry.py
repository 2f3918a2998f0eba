"""RPC entrypoints of the registry: registry."""

from __future__ import annotations


class RegistryApi:
    pass
