"""RPC entrypoints of ticketing: the SLA settings (时限设置) and the handling-time table
(办理时限 by category and difficulty). Staff read them, admins change them; every change is
announced as ``sla_settings_changed``. A change applies to deadlines scheduled from then on:
pending deadlines keep their time.
"""

from __future__ import annotations

from typing import Any

from common import remote
from common.auth import STAFF_ROLES, Role
from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import ValidationFailed, field_error
from common.validation import load
from services.ticketing import sla
from services.ticketing.schemas import (
    DEFAULT_CATEGORY,
    HandlingTimeKeySchema,
    HandlingTimeListSchema,
    HandlingTimeSchema,
    HandlingTimeUpdateSchema,
    SlaSettingsSchema,
)

SETTINGS_KEY = sla.SETTINGS_KEY
EVENT = sla.SETTINGS_EVENT


class SettingsApi:
    """Expects ``self.db``, ``self.caller`` and ``self.enterprise`` (an
    ``RpcProxy("enterprise")``) from the service class."""

    db: WorkerDatabase
    caller: CallerContext
    enterprise: Any

    # ------------------------------------------------------------------ settings

    @rpc
    def get_sla_settings(self) -> dict[str, Any]:
        """The SLA settings in force (staff): the stored ones over the defaults."""
        self.caller.principal.require(*STAFF_ROLES)
        with self.db.transaction() as session:
            return SlaSettingsSchema().dump({**sla.settings(session),
                                             "version": sla.settings_version(session)})

    @rpc
    def update_sla_settings(self, payload: dict[str, Any],
                            expected_version: Any = None) -> dict[str, Any]:
        """Replace the SLA settings (admin); they apply to deadlines scheduled from now on.
        The version last read (``expected_version``, or the body's ``version``) must still
        be current (412); a change bumps it."""
        principal = self.caller.principal.require(Role.ADMIN)
        data = load(SlaSettingsSchema(), payload)
        in_body = data.pop("version", None)
        expected = checked_version(expected_version)
        value = SlaSettingsSchema().dump(data)
        with self.db.transaction() as session:
            version = sla.update_settings(session, principal, value,
                                          in_body if expected is None else expected,
                                          self.caller.call_id)
        return {**value, "version": version}

    # ------------------------------------------------------------------ handling times

    @rpc
    def list_handling_times(self) -> dict[str, Any]:
        """Every row of the handling-time table (staff): ``*`` first, then by category and
        difficulty (easy, normal, hard)."""
        self.caller.principal.require(*STAFF_ROLES)
        with self.db.transaction() as session:
            return HandlingTimeListSchema().dump({"items": sla.handling_times(session)})

    @rpc
    def set_handling_time(self, category: str, difficulty: str,
                          payload: dict[str, Any]) -> dict[str, Any]:
        """Create or change one row (admin). ``category`` is ``*`` (the default) or a category
        of the enterprise service's table; ``difficulty`` one of :data:`DIFFICULTIES`."""
        principal = self.caller.principal.require(Role.ADMIN)
        key = load(HandlingTimeKeySchema(), {"category": category, "difficulty": difficulty})
        workdays = load(HandlingTimeUpdateSchema(), payload)["workdays"]
        if key["category"] != DEFAULT_CATEGORY:
            self._check_category(key["category"])
        with self.db.transaction() as session:
            sla.set_handling_time(session, principal, key["category"], key["difficulty"],
                                  workdays, self.caller.call_id)
        return HandlingTimeSchema().dump({**key, "workdays": workdays})

    @rpc
    def delete_handling_times(self, category: str) -> dict[str, Any]:
        """Remove a category's own rows (admin), so that the ``*`` rows apply to it again;
        the ``*`` rows cannot be removed (Conflict). The removed rows
        (``HandlingTimeListSchema``)."""
        principal = self.caller.principal.require(Role.ADMIN)
        with self.db.transaction() as session:
            removed = sla.delete_handling_times(session, principal, category,
                                                self.caller.call_id)
            return {"items": HandlingTimeSchema().dump(removed, many=True)}

    def _check_category(self, category: str) -> None:
        """A row for a category nobody triages to would never apply: 422."""
        known = remote.call(self.enterprise.category_table)
        if category not in known:
            raise ValidationFailed("unknown category {category}", {"category": [field_error(
                "category.not_found", "not a category of the zone's table")]},
                code="category.not_found", params={"category": category})
