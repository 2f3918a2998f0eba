"""RPC entrypoints of docking (点对点对接). The rules are in :mod:`services.supplydemand.docking`.
"""

from __future__ import annotations

from typing import Any

from common import remote
from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import NotFound, Unavailable
from common.service_identity import AsService
from common.validation import load
from services.supplydemand import docking, metrics
from services.supplydemand.api.listings import acting_enterprise
from services.supplydemand.api.registry import RegistryApi
from services.supplydemand.schemas import (
    DockingCreateSchema,
    DockingDecisionSchema,
    DockingPageSchema,
    DockingQuerySchema,
    DockingSchema,
)

docking_schema = DockingSchema()
CONTACT_KEYS = ("name", "title", "phone", "email")


def contacts_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The contact list of a registry record, only the fields the board passes on."""
    return [{k: c.get(k) for k in CONTACT_KEYS} for c in record.get("contacts") or []
            if isinstance(c, dict)]


class DockingsApi(RegistryApi):
    db: WorkerDatabase
    caller: CallerContext
    identity: AsService
    enterprise: Any

    @rpc
    def request_docking(self, payload: dict) -> dict:
        """A asks to connect about B's listing, with a message (``docking_requested``)."""
        principal = self.caller.principal
        data = load(DockingCreateSchema(), payload)
        enterprise_id = acting_enterprise(principal, data.pop("enterprise_id", None))
        record = self._synced_enterprise(enterprise_id)
        with self.db.transaction() as session:
            requester = self._refresh(session, record)
            created = docking.request(session, principal, data, requester,
                                      self.caller.call_id)
            result = docking_schema.dump(docking.dump(session, created, requester,
                                                      docking._parties(session, created)[1]))
        metrics.DECISIONS.labels("requested").inc()
        return result

    @rpc
    def get_docking(self, docking_id: str) -> dict:
        with self.db.transaction() as session:
            found, requester, owner = docking.visible(session, self.caller.principal,
                                                      docking_id)
            return docking_schema.dump(docking.dump(session, found, requester, owner))

    @rpc
    def list_dockings(self, query: dict) -> dict:
        q = load(DockingQuerySchema(), query)
        with self.db.transaction() as session:
            page = docking.list_dockings(session, self.caller.principal, q)
            return DockingPageSchema().dump(page)

    @rpc
    def accept_docking(self, docking_id: str, payload: dict,
                       expected_version: int | None = None) -> dict:
        """B accepts: each party gets the other's contacts (``docking_accepted``)."""
        return self._decide(docking_id, payload, expected_version, accept=True)

    @rpc
    def decline_docking(self, docking_id: str, payload: dict,
                        expected_version: int | None = None) -> dict:
        """B declines (``docking_declined``); no contact is exchanged."""
        return self._decide(docking_id, payload, expected_version, accept=False)

    def _decide(self, docking_id: str, payload: dict, expected_version: int | None,
                accept: bool) -> dict:
        principal = self.caller.principal
        data = load(DockingDecisionSchema(), payload)
        expected = checked_version(data.pop("version", None) if expected_version is None
                                   else expected_version)
        # refuse early (no registry call) what the locked decision would refuse anyway
        with self.db.transaction() as session:
            found, requester, owner = docking.visible(session, principal, docking_id)
            docking.check_decider(principal, found, owner)
            parties = (requester.id, owner.id)
        contacts = self._contacts(*parties) if accept else None
        with self.db.transaction() as session:
            decided, requester, owner = docking.decide(
                session, principal, docking_id, accept, data["message"], contacts, expected,
                self.caller.call_id)
            result = docking_schema.dump(docking.dump(session, decided, requester, owner))
        metrics.DECISIONS.labels(decided.status).inc()
        return result

    def _contacts(self, requester_id: str, owner_id: str) -> dict[str, list]:
        """Both parties' contacts from the registry, read as the service (the caller may not
        read the other enterprise's record)."""
        found: dict[str, list] = {}
        with self.identity.as_service():
            for key, enterprise_id in (("requester", requester_id), ("owner", owner_id)):
                try:
                    record = remote.call(self.enterprise.get_enterprise, enterprise_id)
                except NotFound as exc:
                    raise Unavailable("the registry no longer knows one of the parties",
                                      code="docking.party_unknown") from exc
                found[key] = contacts_of(record)
        return found
