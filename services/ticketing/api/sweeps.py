"""RPC entrypoints of ticketing: sweeps."""

from __future__ import annotations


class SweepApi:
    pass
