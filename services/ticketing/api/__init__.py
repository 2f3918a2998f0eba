"""Ticketing's RPC entrypoints, one mixin per area; ``service.py`` composes them.

Each mixin expects ``self.db``, ``self.caller`` and ``self.calendar`` from the service class.
"""
