"""RPC entrypoints for the platform's own services: enterprises by what people type, and their
names next to their ids.

Ticketing filters its lists by an enterprise's name or credit code and shows enterprises by
name; it keeps only ids, so it asks here (people, grids and departments:
``RegistryApi.names``). Only other services (role ``service``) and admins may ask: the
service then shows the answers only inside what its own caller may read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from common.auth import Role
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.fields import normalized
from common.validation import is_uuid
from services.enterprise.models import Enterprise

ALLOWED = (Role.SERVICE, Role.ADMIN)
#: at most this many enterprises answer one ``find_enterprise_ids``
MAX_FOUND = 1000
#: at most this many ids in one ``enterprise_names`` call
MAX_IDS = 20_000


class NamesApi:
    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def find_enterprise_ids(self, text: Any) -> list[str]:
        """The ids of the enterprises whose name holds ``text``, whose credit code starts with
        it, or whose id it is (at most :data:`MAX_FOUND`, by name)."""
        self.caller.principal.require(*ALLOWED)
        if not isinstance(text, str) or not normalized(text):
            return []
        wanted = normalized(text)
        clauses = [Enterprise.name.contains(wanted, autoescape=True),
                   Enterprise.credit_code.startswith(wanted.upper(), autoescape=True)]
        if is_uuid(wanted):
            clauses.append(Enterprise.id == wanted.lower())
        with self.db.transaction() as session:
            return list(session.execute(
                select(Enterprise.id).where(or_(*clauses))
                .order_by(Enterprise.name, Enterprise.id).limit(MAX_FOUND)).scalars())

    @rpc
    def enterprise_names(self, ids: Any) -> dict[str, str]:
        """``{id: name}`` of the enterprises among ``ids`` (unknown ids left out)."""
        self.caller.principal.require(*ALLOWED)
        wanted = [i for i in dict.fromkeys(ids if isinstance(ids, list) else [])
                  if is_uuid(i)][:MAX_IDS]
        if not wanted:
            return {}
        with self.db.transaction() as session:
            return {str(row.id): row.name for row in session.execute(
                select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(wanted)))}
