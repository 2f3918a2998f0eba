"""RPC entrypoints of the registry: imports."""

from __future__ import annotations


class ImportsApi:
    pass
