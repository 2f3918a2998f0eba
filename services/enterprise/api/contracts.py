"""RPC entrypoints of the registry: contracts."""

from __future__ import annotations


class ContractsApi:
    pass
