"""RPC entrypoints of the profile sources' precedence (:mod:`.profile_sources`)."""

from __future__ import annotations

from typing import Any

from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.validation import load
from services.enterprise import profile_sources
from services.enterprise.schemas import SOURCES, ProfileSourcePrecedenceSchema


class ProfileSourcesApi:
    """Needs ``db`` and ``caller`` from the service class."""

    db: WorkerDatabase
    caller: CallerContext

    @rpc
    def profile_source_precedence(self) -> dict[str, Any]:
        self.caller.principal  # noqa: B018 -- any authenticated caller
        with self.db.transaction() as session:
            return ProfileSourcePrecedenceSchema().dump(profile_sources.precedence(session))

    @rpc
    def set_profile_source_precedence(self, payload: Any) -> dict[str, Any]:
        data = load(ProfileSourcePrecedenceSchema(), payload)
        with self.db.transaction() as session:
            return ProfileSourcePrecedenceSchema().dump(profile_sources.set_precedence(
                session, self.caller.principal, data["order"], SOURCES))
