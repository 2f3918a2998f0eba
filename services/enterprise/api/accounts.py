"""RPC entrypoints of the registry: accounts."""

from __future__ import annotations


class AccountsApi:
    pass
