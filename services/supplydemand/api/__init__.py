"""The board's RPC and event entrypoints, one mixin per area; ``service.py`` composes them.

Each mixin expects ``self.db`` (:class:`common.db.Database`), ``self.caller``
(:class:`common.dependencies.Caller`), ``self.board``, ``self.identity`` and ``self.enterprise``
(an ``RpcProxy`` of the registry) from the service class.
"""
