"""RPC entrypoints for the platform's own services: names next to ids, and enterprises by what
people type.

Ticketing shows people, departments, grids and enterprises by name (the ledger, the
appraisal, their XLSX files) and filters its lists by an enterprise's name or credit code; it
keeps only ids, so it asks here. Only other services (role ``service``) and admins may ask:
the service then shows the names only inside what its own caller may read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from common.auth import Role
from common.entrypoints import rpc
from common.fields import normalized
from common.validation import is_uuid
from services.enterprise.models import Account, Department, Enterprise, Grid

ALLOWED = (Role.SERVICE, Role.ADMIN)
#: at most this many enterprises answer one ``find_enterprise_ids``
MAX_FOUND = 1000
#: at most this many ids of each kind in one ``names`` call
MAX_IDS = 20_000
KINDS = {"accounts": Account, "departments": Department, "grids": Grid,
         "enterprises": Enterprise}


def _ids(values: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    return list(dict.fromkeys(v for v in values if isinstance(v, str) and v))[:MAX_IDS]


class NamesApi:
    db: Any
    caller: Any

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
    def names(self, request: Any) -> dict[str, dict[str, str]]:
        """``{"accounts": [ids], "departments": [...], "grids": [...], "enterprises": [...]}``
        → the same keys, each ``{id: name}`` of the ids that exist."""
        self.caller.principal.require(*ALLOWED)
        asked = request if isinstance(request, dict) else {}
        answer: dict[str, dict[str, str]] = {}
        with self.db.transaction() as session:
            for kind, model in KINDS.items():
                ids = _ids(asked.get(kind))
                if kind in ("accounts", "enterprises"):
                    ids = [i for i in ids if is_uuid(i)]
                answer[kind] = {} if not ids else {
                    str(row.id): row.name for row in session.execute(
                        select(model.id, model.name).where(model.id.in_(ids)))}
        return answer
