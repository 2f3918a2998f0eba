"""The registry's RPC entrypoints, one mixin per area; ``service.py`` composes them.

Each mixin expects ``self.db`` (:class:`common.db.Database`) and ``self.caller``
(:class:`common.dependencies.Caller`) from the service class.
"""
