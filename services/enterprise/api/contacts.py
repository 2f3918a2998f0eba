"""RPC entrypoints of the grid service contacts (:mod:`services.enterprise.grid_contacts`)."""

from __future__ import annotations

from typing import Any

from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.enterprise import grid_contacts
from services.enterprise.schemas import (
    ContactPublicationSchema,
    GridCardListSchema,
    GridCardSchema,
    GridContactQuerySchema,
)


class ContactsApi:
    """Needs ``db`` and ``caller`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def my_grid(self) -> dict[str, Any]:
        """The caller's enterprise's grid, its leader and workers with work phones."""
        with self.db.transaction() as session:
            return GridCardSchema().dump(grid_contacts.my_grid(session, self.caller.principal))

    @rpc
    def public_grid_contacts(self, query: Any = None) -> dict[str, Any]:
        """Every grid's published service contacts; needs no caller (a public page)."""
        q = load(GridContactQuerySchema(), query or {})
        with self.db.transaction() as session:
            return GridCardListSchema().dump(grid_contacts.public_contacts(session, q))

    @rpc
    def contact_publication(self) -> dict[str, Any]:
        with self.db.transaction() as session:
            return ContactPublicationSchema().dump(
                grid_contacts.publication(session, self.caller.principal))

    @rpc
    def set_contact_publication(self, payload: Any) -> dict[str, Any]:
        data = load(ContactPublicationSchema(), payload)
        with self.db.transaction() as session:
            return ContactPublicationSchema().dump(grid_contacts.set_publication(
                session, self.caller.principal, data["publish_contact"]))
