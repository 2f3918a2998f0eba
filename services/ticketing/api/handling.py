"""RPC entrypoints of ticketing: handling."""

from __future__ import annotations


class HandlingApi:
    pass
