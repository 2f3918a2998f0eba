"""RPC entrypoints of ticketing: closure."""

from __future__ import annotations


class ClosureApi:
    pass
